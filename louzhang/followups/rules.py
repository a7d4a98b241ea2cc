"""The rule registry: named functions of a domain event that open follow-ups and raise alerts.

A rule is a plain function from an event to outcomes; it decides, the engine acts. That keeps
rules short, readable and testable without a database::

    @rule("fever", on="gate_check.created")
    def fever(event: GateCheckEvent) -> Iterator[Outcome]:
        if event.temperature < fever_threshold():
            return
        household = event.household
        yield OpenFollowUp(kind="fever", subject_type="household", subject_id=household.code,
                           area=household, summary=..., action=..., due_in=timedelta(minutes=30))
        yield Alert(area=household, roles=(Role.HEALTH,), title=..., text=...)

(the real one, in `gates/rules.py`, also handles visitors). `rules_fire(name, event)` and
`rules_fire_many(name, events)` run every rule registered for the event inside the caller's
transaction, so follow-ups and their notifications commit with the event or not at all;
`rules_prepare` reads ahead what they will read, before that transaction. Summaries and alert
texts go to group chats: compose them from masked values only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from louzhang.accounts.models import Role
from louzhang.areas.models import Area, Level
from louzhang.core.sql import advisory_locks
from louzhang.followups.models import FollowUp, Priority


@dataclass(frozen=True)
class OpenFollowUp:
    kind: str
    subject_type: str
    subject_id: str
    area: Area
    summary: str
    action: str
    due_in: timedelta
    priority: int = Priority.NORMAL
    detail: dict[str, Any] = field(default_factory=dict)
    #: who answers (`access.holders.OWNERS`): "area" — the warden of the area, else the nearest
    #: commander; "health" — the nearest health liaison; "compound" — a warden of the compound
    owner_from: str = "area"


@dataclass(frozen=True)
class Alert:
    """Tell the holders of `roles` over `area`, without giving them a follow-up.

    `within`: the holders of `roles` over `area` or anywhere inside it (`area` a compound or
    below one: every warden of its buildings). The owner of a follow-up the same event has
    just opened for `area` was told already: neither they nor a channel that told them are
    told again."""

    area: Area
    roles: tuple[str, ...]
    title: str
    text: str
    within: bool = False


Outcome = OpenFollowUp | Alert


@dataclass(frozen=True)
class Rule:
    name: str
    event: str
    func: Callable[[Any], Iterable[Outcome]]


@dataclass(frozen=True)
class Fired:
    rule: str
    followup: FollowUp | None
    #: False when an open follow-up for the same rule and subject existed (deduplicated)
    created: bool
    #: for an alert: who it told, as (user id, role)
    told: tuple[tuple[int, str], ...] = ()


def fired_in_words(fired: Sequence[Fired]) -> list[str]:
    """What the rules of one event did, in sentences for the page that recorded it, and only
    what was done: whom each follow-up went to (or that the event was counted on one already
    open), then how many more wardens and health liaisons the alerts told."""
    from louzhang.followups.services import where

    said: list[str] = []
    owners: set[int] = set()
    for followup in dict.fromkeys(f.followup for f in fired if f.followup is not None and f.created):
        assert followup is not None
        kind = kind_label(followup.kind)
        owner = followup.owner
        place = followup.area.name if followup.area.level <= Level.COMPOUND else where(followup.area)
        if owner is None:
            said.append(_("%(kind)s: nobody answers for %(place)s yet; a commander must assign the "
                          "follow-up.") % {"kind": kind, "place": place})
            continue
        owners.add(owner.pk)
        values = {"kind": kind, "place": place, "owner": owner,
                  "role": Role(followup.owner_role).label if followup.owner_role in Role.values else ""}
        if followup.owner_role == Role.COMMANDER:
            said.append(_("%(kind)s: no warden answers for %(place)s; %(role)s %(owner)s was told and "
                          "answers for it.") % values)
        else:
            said.append(_("%(kind)s: %(role)s %(owner)s was told and answers for it.") % values)
    for followup in dict.fromkeys(f.followup for f in fired if f.followup is not None and not f.created):
        assert followup is not None
        said.append(_("%(kind)s: counted on the follow-up already open for %(owner)s.")
                    % {"kind": kind_label(followup.kind), "owner": followup.owner or "—"})
    for role, words in ((Role.WARDEN, _("Wardens also told: %(n)s.")),
                        (Role.HEALTH, _("Health liaisons told: %(n)s."))):
        told = {user for f in fired for user, as_role in f.told if as_role == role} - owners
        if told:
            said.append(words % {"n": len(told)})
    return said


RULES: dict[str, Rule] = {}

#: labels of follow-up kinds, added by the features that define them
KINDS: dict[str, str | Promise] = {"task": _("task")}


#: kinds whose follow-up closes with its subject (a tip closes with the outcome the reporter
#: reads, on the tip's page), never on its own
CLOSED_WITH_SUBJECT: set[str] = set()


def register_kind(name: str, label: str | Promise, *, closed_with_subject: bool = False) -> None:
    KINDS[name] = label
    if closed_with_subject:
        CLOSED_WITH_SUBJECT.add(name)


def kind_label(name: str) -> str:
    return str(KINDS.get(name, name))


def rule(name: str, *, on: str) -> Callable[[Callable[[Any], Iterable[Outcome]]], Callable[[Any], Iterable[Outcome]]]:
    def register(func: Callable[[Any], Iterable[Outcome]]) -> Callable[[Any], Iterable[Outcome]]:
        if name in RULES and RULES[name].func is not func:
            raise ValueError(f"rule {name!r} is registered twice")
        RULES[name] = Rule(name, on, func)
        return func

    return register


def rules_for(event: str) -> list[Rule]:
    return [r for r in RULES.values() if r.event == event]


def rules_fire(event_name: str, event: Any) -> list[Fired]:
    """Run the rules for `event_name`; call inside the transaction that records the event."""
    return rules_fire_many(event_name, [event])[0]


def rules_fire_many(event_name: str, events: Sequence[Any]) -> list[list[Fired]]:
    """`rules_fire` on each of a batch of events, in order, with what each fired.

    The same as firing them one by one, but the batch asks once what one event would ask each
    time: the rules decide for every event first, the follow-ups already open for all the
    subjects are read in one query, repeats on one follow-up (a household under observation
    going out five times in one upload) are counted in one UPDATE with their history rows in
    one INSERT, and who answers for an area is looked up once per batch (`remembered`).
    Events that fire nothing cost one call of each rule.
    """
    from louzhang.core.memo import remembered

    with remembered():
        return _fire_many(rules_for(event_name), events)


def rules_prepare(event_name: str, events: Sequence[Any]) -> set[int]:
    """Read ahead, inside `remembered()` and before the transaction that will fire these
    events, what acting on their outcomes reads: who answers for each area, where it is, which
    channels serve it. Nothing is written, and the outcomes are not kept (the events may still
    lack their ids); the transaction then finds the answers remembered and holds its locks
    for less time.

    Returns the positions of the events that fired anything. Rules are plain functions of
    their event, so once the events have their ids only these need firing again.
    """
    from louzhang.followups.services import followup_prepare
    from louzhang.notifications.services import alert_prepare

    decided = [(position, registered.name, outcome) for registered in rules_for(event_name)
               for position, event in enumerate(events) for outcome in registered.func(event)]
    # a subject whose follow-up is open will only be counted on it: nothing to read for it
    open_now = _open_for([(name, outcome) for _position, name, outcome in decided])
    prepared: set[tuple[str, str, str]] = set()
    for _position, name, outcome in decided:
        if isinstance(outcome, Alert):
            alert_prepare(outcome.area, outcome.roles, within=outcome.within)
            continue
        key = (name, outcome.subject_type, str(outcome.subject_id))
        if key not in open_now and key not in prepared:
            prepared.add(key)
            followup_prepare(outcome.area, outcome.owner_from)
    return {position for position, _name, _outcome in decided}


def _open_for(decided: Sequence[tuple[str, Outcome]]) -> dict[tuple[str, str, str], FollowUp]:
    """The follow-ups open now for the subjects of these outcomes, by (rule, type, id)."""
    from louzhang.followups.models import ACTIVE_STATES

    keys = {(name, o.subject_type, str(o.subject_id)) for name, o in decided if isinstance(o, OpenFollowUp)}
    if not keys:
        return {}
    found = FollowUp.objects.filter(
        state__in=ACTIVE_STATES, rule__in={k[0] for k in keys}, subject_id__in={k[2] for k in keys},
    ).select_related("area")
    return {key: f for f in found if (key := (f.rule, f.subject_type, f.subject_id)) in keys}


def _subjects_lock(keys: set[tuple[str, str, str]]) -> None:
    """On PostgreSQL, lock the follow-up subjects (rule, type, id) a batch is about to open or
    count on, until its transaction ends, all in one order (of a stable hash of each).

    Two batches over the same subjects then meet at the first subject they share, and the
    second waits there for the first to commit. Without it each could hold a follow-up the other
    needs — one just opened, one just counted on after losing the race to open it — until the
    database broke the deadlock by aborting one (run again by `atomic_with_retry`, a second
    later). SQLite has one writer at a time and needs none of this."""
    if keys:
        advisory_locks("\x1f".join(key) for key in keys)


def _fire_many(rules: list[Rule], events: Sequence[Any]) -> list[list[Fired]]:
    from django.urls import reverse

    from louzhang.access.holders import owner_by
    from louzhang.followups.services import followup_open, followups_repeated_many
    from louzhang.notifications.services import Recipient, alert_raise

    # 1. the rules decide, for every event (no writes yet)
    decided = [[(registered.name, outcome) for registered in rules for outcome in registered.func(event)]
               for event in events]
    _subjects_lock({(name, o.subject_type, str(o.subject_id)) for outcomes in decided
                    for name, o in outcomes if isinstance(o, OpenFollowUp)})
    # 2. the follow-ups already open for any of the subjects, in one query
    open_now = _open_for([pair for outcomes in decided for pair in outcomes])
    # 3. act, in the events' order: open what is new, count the rest on the open ones
    repeated: dict[int, tuple[FollowUp, list[OpenFollowUp]]] = {}
    fired_per_event: list[list[Fired]] = []
    for outcomes in decided:
        fired: list[Fired] = []
        for name, outcome in outcomes:
            if isinstance(outcome, Alert):
                # an alert to a whole place goes with the follow-up the event opened there: its
                # owner has been told
                owners = [Recipient(f.followup.owner, f.followup.owner_role) for f in fired
                          if outcome.within and f.created and f.followup is not None
                          and f.followup.owner is not None and f.followup.area_id == outcome.area.pk]
                # the alert links to the follow-up its rule opened (or counted on) for the event
                about = next((f.followup for f in reversed(fired)
                              if f.rule == name and f.followup is not None), None)
                told = alert_raise(area=outcome.area, roles=outcome.roles, title=outcome.title,
                                   text=outcome.text, within=outcome.within, told=owners,
                                   link=reverse("followup", args=[about.pk]) if about else "")
                fired.append(Fired(name, None, True, tuple((r.user.pk, r.role) for r in told)))
                continue
            key = (name, outcome.subject_type, str(outcome.subject_id))
            already = open_now.get(key)
            if already is not None:
                repeated.setdefault(already.pk, (already, []))[1].append(outcome)
                fired.append(Fired(name, already, False))
                continue
            followup, created = followup_open(
                rule=name, kind=outcome.kind, subject_type=outcome.subject_type,
                subject_id=outcome.subject_id, area=outcome.area, summary=outcome.summary,
                action=outcome.action, due_in=outcome.due_in, priority=outcome.priority,
                detail=outcome.detail, known_new=True,
                owner=owner_by(outcome.owner_from, outcome.area),
            )
            open_now[key] = followup
            fired.append(Fired(name, followup, created))
        fired_per_event.append(fired)
    # 4. the repeats, in one UPDATE that locks the follow-ups in id order (as every batch does)
    followups_repeated_many({pk: [(o.summary, o.detail) for o in outcomes]
                             for pk, (_followup, outcomes) in repeated.items()})
    return fired_per_event
