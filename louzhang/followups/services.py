"""Writes for follow-ups: open (deduplicated), acknowledge, close, reassign, and the clock that
reminds owners and escalates to commanders.

Every transition is a conditional UPDATE on the current state — two officers tapping "done" at
once cannot both win — and every change is written to the follow-up's history and announced in
the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from louzhang.access.holders import (
    Responsible,
    commander_tiers,
    escalation_targets,
    owner_by,
    owner_for,
)
from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import may_command
from louzhang.accounts.models import Role, User
from louzhang.areas.models import Area, Level
from louzhang.audit.services import audit_record
from louzhang.core.memo import by_path
from louzhang.followups.models import ACTIVE_STATES, FollowUp, FollowUpEvent, Priority, State
from louzhang.followups.rules import CLOSED_WITH_SUBJECT, kind_label
from louzhang.followups.selectors import may_act
from louzhang.notifications.services import Recipient, announce, channels_for

logger = logging.getLogger("louzhang.followups")


class FollowUpError(Exception):
    """A change that cannot be made as asked; the message says why.

    An actor who may not make the change at all gets `PermissionDenied` instead (a page
    answers it as "not found")."""




def where(area: Area) -> str:
    """The place in words, below the city: 东河区 保利百合 34号楼."""
    paths = area.ancestor_paths()
    names = by_path("area_names", paths, _read_names)
    return " ".join([*(n for p in paths for n in names[p]), area.name])


def _read_names(exact: list[str], _compounds: list[str]) -> Iterator[tuple[str, str]]:
    """Names of the areas that say where something is (district, compound, building, unit)."""
    yield from Area.objects.filter(path__in=exact, level__gt=Level.CITY).exclude(
        level__in=[Level.SUBDISTRICT, Level.COMMUNITY]).values_list("path", "name")


def _announce(followup: FollowUp, recipients: Sequence[Recipient], reason: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        label = kind_label(followup.kind)
        prefix = {
            "opened": "",
            "reminder": _("[Overdue] "),
            "escalated": _("[Escalated] "),
            "reassigned": _("[Reassigned] "),
        }[reason]
        title = f"{prefix}【{label}】{followup.summary}"
        due = timezone.localtime(followup.due_at).strftime("%m-%d %H:%M")
        lines = [
            _("Where: %(where)s") % {"where": where(followup.area)},
            _("To do: %(action)s") % {"action": followup.action},
            _("Due: %(due)s") % {"due": due},
        ]
        if followup.owner is not None:
            lines.append(_("Responsible: %(owner)s") % {"owner": followup.owner})
        else:
            lines.append(_("Responsible: nobody assigned — a commander must assign it"))
    announce(area=followup.area, recipients=recipients, title=title, text="\n".join(lines),
             link=reverse("followup", args=[followup.pk]), about=followup.about)


def _event(followup: FollowUp, kind: str, *, actor: User | None = None, note: str = "",
           detail: dict[str, Any] | None = None) -> None:
    FollowUpEvent.objects.create(followup=followup, kind=kind, actor=actor, note=note,
                                 detail=detail or {})


def followup_open(
    *,
    rule: str,
    kind: str,
    subject_type: str,
    subject_id: str,
    area: Area,
    summary: str,
    action: str,
    due_in: timedelta,
    priority: int = Priority.NORMAL,
    detail: dict[str, Any] | None = None,
    actor: User | None = None,
    owner: Responsible | None = None,
    known_new: bool = False,
) -> tuple[FollowUp, bool]:
    """Open a follow-up, or, if one for the same rule and subject is still open, note on that
    one that it happened again. Returns the follow-up and whether it was created.

    `known_new`: the caller has just looked and found none open (a batch looks for all its
    subjects in one query); a twin opened since is still caught by the unique index."""
    active = FollowUp.objects.filter(rule=rule, subject_type=subject_type,
                                     subject_id=str(subject_id), state__in=ACTIVE_STATES)
    with transaction.atomic():
        existing = None if known_new else active.first()
        if existing is None:
            owner = owner or owner_for(area)
            now = timezone.now()
            try:
                with transaction.atomic():  # a savepoint: a racing twin may win the unique index
                    followup = FollowUp.objects.create(
                        kind=kind, rule=rule, subject_type=subject_type, subject_id=str(subject_id),
                        area=area, summary=summary[:300], action=action[:200], priority=priority,
                        owner=owner.user, owner_role=owner.role, opened_at=now, due_at=now + due_in,
                    )
            except IntegrityError:
                existing = active.first()
                if existing is None:
                    raise
            else:
                _event(followup, FollowUpEvent.Kind.OPENED, actor=actor, detail=detail)
                if owner.user is not None:
                    _announce(followup, [Recipient(owner.user, owner.role)], "opened")
                else:
                    # nobody answers for this area: tell every commander above it
                    _announce(followup, _commanders(area), "opened")
                return followup, True
        followups_repeated(existing, [(summary, detail)], actor=actor)
        return existing, False


Repeats = Sequence[tuple[str, dict[str, Any] | None]]


def followups_repeated(followup: FollowUp, repeats: Repeats, *, actor: User | None = None) -> None:
    """What opened `followup` happened again, once per (summary, detail) of `repeats`: counted
    on it, each written to its history."""
    followups_repeated_many({followup.pk: repeats}, actor=actor)


def followups_repeated_many(repeats: dict[int, Repeats], *, actor: User | None = None) -> None:
    """`followups_repeated` for several follow-ups (by id) in two statements: the counts in one
    UPDATE, taking the rows' locks in id order, the history rows in one INSERT."""
    if not repeats:
        return
    ids = sorted(repeats)
    added = Case(*(When(pk=pk, then=Value(len(repeats[pk]))) for pk in ids), output_field=IntegerField())
    FollowUp.objects.filter(pk__in=ids).update(repeats=F("repeats") + added)
    FollowUpEvent.objects.bulk_create([
        FollowUpEvent(followup_id=pk, kind=FollowUpEvent.Kind.REPEATED, actor=actor,
                      note=summary[:300], detail=detail or {})
        for pk in ids for summary, detail in repeats[pk]
    ])


def followup_prepare(area: Area, owner_from: str = "area") -> None:
    """Read what opening a follow-up for `area` will read (see `rules_prepare`)."""
    owner = owner_by(owner_from, area)
    if owner.user is None:
        _commanders(area)
    where(area)
    channels_for(area)


def _commanders(area: Area) -> list[Recipient]:
    return [Recipient(u, Role.COMMANDER) for tier in commander_tiers(area) for u in tier]


def followup_assign(*, actor: User, area: Area, summary: str, action: str, due_in: timedelta,
                    priority: int = Priority.NORMAL) -> FollowUp:
    """A commander of the area gives its warden a task by hand (核查, 走访 …)."""
    if not may_command(actor, area.path):
        raise PermissionDenied("tasks are assigned by a commander of the area")
    if not summary.strip() or not action.strip():
        raise FollowUpError(_("Say what happened and what to do."))
    followup, _created = followup_open(
        rule="manual", kind="task", subject_type="task", subject_id=f"{area.code}:{timezone.now().timestamp()}",
        area=area, summary=summary.strip(), action=action.strip(), due_in=due_in, priority=priority,
        actor=actor,
    )
    return followup


def followup_acknowledge(*, followup: FollowUp, actor: User) -> bool:
    """The owner, or a warden or commander of the area, says "I'm on it".

    Returns False when it was acknowledged or closed already."""
    _check_may_act(actor, followup)
    with transaction.atomic():
        changed = FollowUp.objects.filter(pk=followup.pk, state=State.OPEN).update(
            state=State.ACKNOWLEDGED, updated_at=timezone.now())
        if changed:
            _event(followup, FollowUpEvent.Kind.ACKNOWLEDGED, actor=actor)
    return bool(changed)


def followup_close(*, followup: FollowUp, actor: User, done: bool, finding: str) -> bool:
    """Done with a finding (what was found and done), or cancelled with a reason.

    Only the owner, or a warden or commander of the area, may. Returns False when somebody
    else closed it first.
    """
    _check_may_act(actor, followup)
    if followup.kind in CLOSED_WITH_SUBJECT:
        raise FollowUpError(_("This follow-up closes on the page of what it is about, with its outcome."))
    finding = finding.strip()
    if not finding:
        raise FollowUpError(_("Write the finding: what you found and what was done.") if done
                            else _("Write why it is cancelled."))
    new_state = State.DONE if done else State.CANCELLED
    now = timezone.now()
    with transaction.atomic():
        changed = FollowUp.objects.filter(pk=followup.pk, state__in=ACTIVE_STATES).update(
            state=new_state, finding=finding[:4000], closed_at=now, closed_by=actor, updated_at=now)
        if changed:
            _event(followup, FollowUpEvent.Kind.DONE if done else FollowUpEvent.Kind.CANCELLED,
                   actor=actor, note=finding[:4000])
            audit_record(actor=actor, action="change", object_type="followups.followup",
                         object_id=followup.pk, area_path=followup.area.path,
                         summary=f"follow-up {new_state}")
    return bool(changed)


def followups_settle(*, rule: str, subject_type: str, subject_id: str | int, actor: User | None,
                     finding: str) -> int:
    """Close as done the open follow-ups of `rule` about a subject, because what they asked
    for was done elsewhere (an observation confirmed on its page closes "confirm it"). The
    caller has checked that `actor` may do that thing. Returns how many were closed."""
    now = timezone.now()
    settled = 0
    with transaction.atomic():
        for followup in FollowUp.objects.filter(rule=rule, subject_type=subject_type,
                                                subject_id=str(subject_id), state__in=ACTIVE_STATES):
            if FollowUp.objects.filter(pk=followup.pk, state__in=ACTIVE_STATES).update(
                    state=State.DONE, finding=finding[:4000], closed_at=now, closed_by=actor,
                    updated_at=now):
                _event(followup, FollowUpEvent.Kind.DONE, actor=actor, note=finding[:4000])
                settled += 1
    return settled


def followup_reassign(*, followup: FollowUp, actor: User, owner: User, role: str = Role.WARDEN) -> bool:
    """A commander of the area gives the follow-up to another warden of it (to `owner`, who
    must hold `role` over the area). Returns False when it was closed meanwhile."""
    if not may_command(actor, followup.area.path):
        raise PermissionDenied("follow-ups are reassigned by a commander of the area")
    if not jurisdiction_for(owner, roles=[role]).covers(followup.area.path):
        raise FollowUpError(_("%(user)s does not answer for this area.") % {"user": owner})
    with transaction.atomic():
        changed = FollowUp.objects.filter(pk=followup.pk, state__in=ACTIVE_STATES).update(
            owner=owner, owner_role=role, updated_at=timezone.now())
        if changed:
            followup.owner, followup.owner_role = owner, role
            _event(followup, FollowUpEvent.Kind.REASSIGNED, actor=actor,
                   detail={"owner": owner.username})
            _announce(followup, [Recipient(owner, role)], "reassigned")
    return bool(changed)


def _check_may_act(actor: User, followup: FollowUp) -> None:
    if not may_act(actor, followup):
        raise PermissionDenied("not the owner, nor a warden or commander of the area")


# --- the clock -------------------------------------------------------------------------------


def followups_escalate(now: datetime | None = None) -> dict[str, int]:
    """Remind owners of follow-ups past due, then escalate step by step to the commanders.

    Thresholds (minutes after the due time) come from settings; each step happens once, by a
    conditional update, whatever number of workers run this at the same moment.
    """
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    remind_at = now - timedelta(minutes=settings.LOUZHANG_FOLLOWUP_REMIND_AFTER_MINUTES)
    due = FollowUp.objects.filter(state__in=ACTIVE_STATES).select_related("area", "owner")
    for followup in due.filter(reminded_at__isnull=True, due_at__lte=remind_at)[:500]:
        with transaction.atomic():
            if FollowUp.objects.filter(pk=followup.pk, reminded_at__isnull=True,
                                       state__in=ACTIVE_STATES).update(reminded_at=now):
                _event(followup, FollowUpEvent.Kind.REMINDED)
                if followup.owner is not None:
                    _announce(followup, [Recipient(followup.owner, followup.owner_role)], "reminder")
                counts["reminded"] += 1
    for level, minutes in enumerate(settings.LOUZHANG_ESCALATE_AFTER_MINUTES, start=1):
        limit = now - timedelta(minutes=minutes)
        for followup in due.filter(escalation_level=level - 1, due_at__lte=limit)[:500]:
            with transaction.atomic():
                if not FollowUp.objects.filter(pk=followup.pk, escalation_level=level - 1,
                                               state__in=ACTIVE_STATES).update(
                        escalation_level=level, escalated_at=now):
                    continue
                owner = Responsible(followup.owner, followup.owner_role)
                targets = escalation_targets(followup.area, owner, level)
                _event(followup, FollowUpEvent.Kind.ESCALATED,
                       detail={"level": level, "to": [u.username for u in targets]})
                if targets:
                    _announce(followup, [Recipient(u, Role.COMMANDER) for u in targets], "escalated")
                counts["escalated"] += 1
    return counts
