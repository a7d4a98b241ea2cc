"""Writes for home observation: open (or propose), confirm, extend, close, record a check-in,
and the sweep that notices missed check-ins and observations due for release.

Every change is checked against the actor's capability (`access.roles`: `may_observe`,
`may_release`), kept in the observation's history and audited; what it asks of somebody goes
through the closed loop (rules in `observation/rules.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.access.holders import health_owner
from louzhang.access.roles import may_observe, may_release
from louzhang.areas.models import Area, Level
from louzhang.audit.services import audit_record
from louzhang.checkpoints.models import Occupant
from louzhang.core.thresholds import fever_threshold
from louzhang.followups.rules import Fired, rules_fire, rules_fire_many
from louzhang.followups.services import followup_open, followups_settle
from louzhang.gates.services import household_mark, household_mark_end, household_mark_move
from louzhang.observation.models import (
    CLOSING_STATUSES,
    OPEN_STATUSES,
    CheckIn,
    Observation,
    ObservationEvent,
    Source,
    Status,
    Symptom,
    new_token,
)
from louzhang.observation.schedule import Slot, missed, slots_due
from louzhang.registry.models import Resident
from louzhang.registry.people import PersonIn, person_resolve


class ObservationError(ValueError):
    """A change that cannot be made as asked; the message says why."""


def observation_days() -> int:
    return int(settings.LOUZHANG_OBSERVATION_DAYS)


def _event(observation: Observation, kind: str, actor: Any = None, note: str = "") -> None:
    ObservationEvent.objects.create(observation=observation, kind=kind, actor=actor, note=note[:300])


def _audit(actor: Any, observation: Observation, summary: str, action: str = "change") -> None:
    audit_record(actor=actor, action=action, object_type="observation.observation",
                 object_id=observation.pk, area_path=observation.household.path, summary=summary)


def _mark(observation: Observation) -> None:
    """Mark the household for the gate rule while the observation runs."""
    if observation.gate_mark_id is None:
        mark = household_mark(household=observation.household, starts_on=observation.starts_on,
                              ends_on=observation.ends_on, reason=observation.reason)
        observation.gate_mark = mark
        Observation.objects.filter(pk=observation.pk).update(gate_mark=mark)


def observation_open(*, actor: Any, household: Area, resident: Resident, reason: str,
                     last_exposure: date, source: str, exposure_region: str = "",
                     days: int | None = None, propose: bool = False, client_id: str = "",
                     today: date | None = None) -> tuple[Observation, bool]:
    """Put `resident` of `household` under home observation until `days` (14) after the last
    exposure, or propose it for the health liaison to confirm (`propose`). Returns the
    observation and whether it is new: a person already under observation (or proposed) is not
    observed twice — that one is returned."""
    if not may_observe(actor, household.path):
        raise PermissionDenied("home observation is opened by a warden, health liaison or commander of the household")
    if household.level != Level.HOUSEHOLD:
        raise ObservationError(_("home observation is of a household"))
    today = today or timezone.localdate()
    days = days or observation_days()
    if last_exposure > today:
        raise ObservationError(_("the last exposure (%(date)s) is in the future") % {"date": last_exposure})
    ends_on = last_exposure + timedelta(days=days)
    if ends_on < today:
        raise ObservationError(_(
            "%(days)d days from the last exposure (%(date)s) ended on %(end)s: no observation is needed")
            % {"days": days, "date": last_exposure, "end": ends_on})
    reason = reason.strip()[:200] or _("home observation")
    existing = Observation.objects.filter(resident=resident, status__in=OPEN_STATUSES).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            observation = Observation.objects.create(
                household=household, resident=resident, reason=reason, source=source,
                exposure_region=exposure_region[:100], last_exposure=last_exposure, days=days,
                starts_on=today, ends_on=ends_on, opened_by=actor, client_id=client_id,
                status=Status.PROPOSED if propose else Status.ACTIVE,
            )
            if propose:
                _event(observation, ObservationEvent.Kind.PROPOSED, actor, reason)
                followup_open(
                    rule="observation_proposed", kind="observation_proposed",
                    subject_type="observation", subject_id=str(observation.pk), area=household,
                    summary=f"{_place(household)} {reason}"[:300],
                    action=_("decide whether they stay under home observation"),
                    due_in=timedelta(hours=4), owner=health_owner(household), actor=actor,
                )
            else:
                _event(observation, ObservationEvent.Kind.OPENED, actor, reason)
                _mark(observation)
            _audit(actor, observation, f"home observation {observation.status}", action="create")
    except IntegrityError:  # the same person opened a moment ago by somebody else
        existing = Observation.objects.filter(resident=resident, status__in=OPEN_STATUSES).first()
        if existing is None:
            raise
        return existing, False
    return observation, True


def _place(household: Area) -> str:
    """34号楼二单元6楼西户, fit for a group chat (no names)."""
    parent = household.parent
    building = parent.parent if parent is not None else None
    parts = [p.name for p in (building, parent) if p is not None and p.level >= Level.BUILDING]
    return "".join([*parts, household.name])


def _open_for_change(observation: Observation, statuses: Sequence[str]) -> None:
    if observation.status not in statuses:
        raise ObservationError(_("this observation is %(status)s") % {"status": observation.get_status_display()})


def observation_confirm(*, actor: Any, observation: Observation) -> bool:
    """The health liaison confirms a proposed observation: it starts, the household is marked."""
    if not may_release(actor, observation.household.path):
        raise PermissionDenied("a health liaison or commander confirms home observation")
    _open_for_change(observation, [Status.PROPOSED])
    now = timezone.now()
    with transaction.atomic():
        if not Observation.objects.filter(pk=observation.pk, status=Status.PROPOSED).update(
                status=Status.ACTIVE, confirmed_by=actor, confirmed_at=now, updated_at=now):
            return False
        observation.status = Status.ACTIVE
        _event(observation, ObservationEvent.Kind.CONFIRMED, actor)
        _mark(observation)
        followups_settle(rule="observation_proposed", subject_type="observation",
                         subject_id=observation.pk, actor=actor, finding=_("confirmed: under home observation"))
        _audit(actor, observation, "home observation confirmed")
    return True


def observation_extend(*, actor: Any, observation: Observation, days: int, note: str) -> None:
    """Keep them `days` more days (a new exposure, a symptom): the last day moves."""
    if not may_release(actor, observation.household.path):
        raise PermissionDenied("a health liaison or commander extends home observation")
    _open_for_change(observation, [Status.ACTIVE, Status.PROPOSED])
    if not 1 <= days <= 28:
        raise ObservationError(_("extend by 1 to 28 days"))
    if not note.strip():
        raise ObservationError(_("say why it is extended"))
    with transaction.atomic():
        # conditional, relative: two extensions at once both count, a closed one is not moved
        if not Observation.objects.filter(pk=observation.pk, status__in=OPEN_STATUSES).update(
                ends_on=F("ends_on") + timedelta(days=days), updated_at=timezone.now()):
            raise ObservationError(_("this observation was closed meanwhile"))
        observation.refresh_from_db(fields=["ends_on", "updated_at"])
        if observation.gate_mark_id is not None:
            household_mark_move(mark_id=observation.gate_mark_id, ends_on=observation.ends_on)
        _event(observation, ObservationEvent.Kind.EXTENDED, actor, f"+{days}: {note.strip()}")
        _audit(actor, observation, f"home observation extended by {days} days")


def observation_close(*, actor: Any, observation: Observation, status: str, note: str = "",
                      today: date | None = None) -> bool:
    """End it: released on (or after) its last day by the health liaison, transferred to
    hospital, moved away, or cancelled (a proposal turned down, a mistake). Returns False when
    somebody else closed it first."""
    if status not in CLOSING_STATUSES:
        raise ObservationError(f"not a closing status: {status}")
    path = observation.household.path
    if status in (Status.RELEASED, Status.CANCELLED):
        if not may_release(actor, path):
            raise PermissionDenied("a health liaison or commander releases or cancels home observation")
    elif not may_observe(actor, path):
        raise PermissionDenied("not an officer of this household")
    _open_for_change(observation, OPEN_STATUSES)
    today = today or timezone.localdate()
    if status == Status.RELEASED:
        if observation.status != Status.ACTIVE:
            raise ObservationError(_("only an observation that started can be released"))
        if today < observation.ends_on:
            raise ObservationError(_("release is due on the last day, %(date)s") % {"date": observation.ends_on})
    if status != Status.RELEASED and not note.strip():
        raise ObservationError(_("write a note: where to, or why"))
    now = timezone.now()
    with transaction.atomic():
        if not Observation.objects.filter(pk=observation.pk, status__in=OPEN_STATUSES).update(
                status=status, closed_by=actor, closed_at=now, close_note=note.strip()[:300],
                updated_at=now):
            return False
        observation.status = status
        if observation.gate_mark_id is not None:
            household_mark_end(mark_id=observation.gate_mark_id)
        label = str(Status(status).label)
        _event(observation, ObservationEvent.Kind.CLOSED, actor, f"{label} {note.strip()}".strip())
        for rule in ("observation_release", "check_in_missed", "observation_proposed"):
            followups_settle(rule=rule, subject_type="observation", subject_id=observation.pk,
                             actor=actor, finding=f"{label} {note.strip()}".strip())
        _audit(actor, observation, f"home observation {status}")
    return True


def observation_link_renew(*, actor: Any, observation: Observation) -> str:
    """A new secret for the resident's personal link (the old one was shared too widely, a
    phone was lost): the old link stops working at once. Returns the new secret."""
    if not may_observe(actor, observation.household.path):
        raise PermissionDenied("the link is renewed by an officer of the household")
    _open_for_change(observation, OPEN_STATUSES)
    token = new_token()
    with transaction.atomic():
        Observation.objects.filter(pk=observation.pk).update(token=token, updated_at=timezone.now())
        observation.token = token
        _event(observation, ObservationEvent.Kind.LINK_RENEWED, actor)
        _audit(actor, observation, "personal check-in link renewed")
    return token


# --- check-ins ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckInEvent:
    """What the check-in rules read (`check_in.created`)."""

    check_in_id: int
    observation_id: int
    household: Area
    place: str
    temperature: Decimal
    symptoms: tuple[str, ...]


@dataclass
class CheckInResult:
    check_in: CheckIn
    created: bool
    alerts: list[str] = field(default_factory=list)
    followups: list[int] = field(default_factory=list)
    #: what the rules did (`followups.rules.fired_in_words` says it on a page)
    fired: list[Fired] = field(default_factory=list)


def parse_symptoms(values: Sequence[str]) -> tuple[str, ...]:
    known = set(Symptom.values)
    bad = [v for v in values if v not in known]
    if bad:
        raise ObservationError(_("unknown symptom: %(bad)s (known: %(known)s)")
                               % {"bad": ", ".join(bad), "known": ", ".join(Symptom.values)})
    return tuple(dict.fromkeys(values))


def check_in_record(*, observation: Observation, at: datetime, temperature: Decimal,
                    symptoms: Sequence[str] = (), note: str = "", actor: Any = None,
                    via: str = CheckIn.Via.OFFICER, client_id: str) -> CheckInResult:
    """Record a check-in of an open observation; sending the same `client_id` again stores
    nothing twice. `actor` None: the resident, through their personal link (the caller has
    checked the link's secret). A fever or a symptom opens an urgent follow-up for the health
    liaison (rule `check_in_fever`); an open "check-in missed" follow-up is closed by it."""
    if actor is not None and not may_observe(actor, observation.household.path):
        raise PermissionDenied("check-ins are recorded by the household's officers or the resident")
    if not Decimal("34.0") <= temperature <= Decimal("43.0"):
        raise ObservationError(_("a temperature between 34.0 and 43.0 °C"))
    clean_symptoms = parse_symptoms(symptoms)
    existing = CheckIn.objects.filter(observation=observation, client_id=client_id).first()
    if existing is not None:
        return CheckInResult(existing, False)
    if observation.status not in OPEN_STATUSES:
        raise ObservationError(_("this observation is %(status)s") % {"status": observation.get_status_display()})
    now = timezone.now()
    if at > now + timedelta(minutes=10):
        raise ObservationError(_("the time is in the future"))
    if timezone.localtime(at).date() < observation.starts_on:
        raise ObservationError(_("the observation started on %(date)s") % {"date": observation.starts_on})
    try:
        with transaction.atomic():
            check_in = CheckIn.objects.create(
                observation=observation, client_id=client_id, recorded_by=actor, via=via, at=at,
                temperature=temperature, symptoms=",".join(clean_symptoms), note=note.strip()[:200])
            latest = observation.last_check_in_at
            if latest is None or at > latest:
                Observation.objects.filter(pk=observation.pk).update(last_check_in_at=at)
                observation.last_check_in_at = at
            event = CheckInEvent(check_in.pk, observation.pk, observation.household,
                                 _place(observation.household), temperature, clean_symptoms)
            fired = rules_fire("check_in.created", event)
            # a missed check-in made up for: nobody needs to chase them any more (a fever in it
            # has its own follow-up)
            when = timezone.localtime(at).strftime("%m-%d %H:%M")
            followups_settle(rule="check_in_missed", subject_type="observation", subject_id=observation.pk,
                             actor=actor, finding=_("checked in at %(when)s: %(t)s °C")
                             % {"when": when, "t": temperature})
    except IntegrityError:  # the same client_id from a second tab, a moment ago
        return CheckInResult(CheckIn.objects.get(observation=observation, client_id=client_id), False)
    return CheckInResult(check_in, True, alerts=sorted({f.rule for f in fired}),
                         followups=[f.followup.pk for f in fired if f.followup is not None],
                         fired=list(fired))


def is_fever(temperature: Decimal, symptoms: Sequence[str]) -> bool:
    return temperature >= fever_threshold() or Symptom.FEVER in symptoms


# --- the sweep ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ObservationDay:
    """What the sweep found about one observation (`observation.swept`)."""

    observation_id: int
    household: Area
    place: str
    missed: tuple[Slot, ...]
    missed_total: int
    release_due: bool
    ends_on: date


def observations_sweep(now: datetime | None = None) -> dict[str, int]:
    """Look at every active observation: the check-in slots whose deadline passed since the
    last sweep without a check-in are missed (rule `check_in_missed`); one whose last day has
    come is due for release (rule `observation_release`). Run by the worker every few minutes;
    running it twice changes nothing."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    found = {"observations": 0, "missed": 0, "release_due": 0}
    active = list(Observation.objects.filter(status=Status.ACTIVE).select_related("household__parent__parent"))
    found["observations"] = len(active)
    check_ins: dict[int, list[datetime]] = {}
    earliest = min((o.checked_through or o.opened_at for o in active), default=now) - timedelta(days=1)
    for observation_id, at in CheckIn.objects.filter(
            observation__in=[o.pk for o in active], at__gte=earliest).values_list("observation_id", "at"):
        check_ins.setdefault(observation_id, []).append(at)
    events: list[ObservationDay] = []
    with transaction.atomic():
        for observation in active:
            due = slots_due(starts_on=observation.starts_on, ends_on=observation.ends_on,
                            opened_at=observation.opened_at, after=observation.checked_through, now=now)
            lost = missed(due, check_ins.get(observation.pk, []))
            # due for release once: the first sweep on (or after) the last day
            before = observation.checked_through
            release_due = today >= observation.ends_on and (
                before is None or timezone.localtime(before).date() < observation.ends_on)
            total = observation.missed_count + len(lost)
            if lost:
                Observation.objects.filter(pk=observation.pk).update(missed_count=total)
            for slot in lost:
                _event(observation, ObservationEvent.Kind.MISSED, note=slot.label())
            found["missed"] += len(lost)
            found["release_due"] += int(release_due)
            if lost or release_due:
                events.append(ObservationDay(observation.pk, observation.household,
                                             _place(observation.household), tuple(lost), total,
                                             release_due, observation.ends_on))
        Observation.objects.filter(pk__in=[o.pk for o in active]).update(checked_through=now)
        rules_fire_many("observation.swept", events)
    return found



# --- travellers of a key-region car --------------------------------------------------------

def traveller_observe(*, actor: Any, occupant: Occupant, household: Area,
                      today: date | None = None) -> tuple[Observation, bool]:
    """Put a traveller of a car a checkpoint let through from a key region under home
    observation where they stay (the warden's follow-up "register the travellers and start
    their home observation"). The traveller is matched to the registry, or added to `household`
    (an ID number is needed for that); the last exposure is the day they came through the
    checkpoint. Raises `PersonError` or `ObservationError` saying what to fix."""
    inspection = occupant.inspection
    said = PersonIn.clean(id_number=occupant.id_number, name=occupant.name, phone=occupant.phone)
    if not may_observe(actor, household.path):
        raise PermissionDenied("home observation is opened by an officer of the household")
    resident, _added = person_resolve(actor=actor, household=household, person=said,
                                      note=_("added as a traveller from a key region"))
    came = timezone.localtime(inspection.at).date()
    region = inspection.key_region.name if inspection.key_region else inspection.origin
    reason = _("came from %(region)s by car %(plate)s through %(checkpoint)s on %(date)s") % {
        "region": region or inspection.origin, "plate": inspection.plate,
        "checkpoint": inspection.checkpoint.name, "date": came.strftime("%m-%d")}
    days = inspection.key_region.observation_days if inspection.key_region else None
    return observation_open(actor=actor, household=household, resident=resident, reason=reason,
                            last_exposure=came, source=Source.CHECKPOINT, exposure_region=region,
                            days=days, today=today)
