"""Writes for unit representatives (单元代表) and disinfection (消杀): registering and ending a
representative, renewing their personal link, setting plans, logging a round (from the phone
page, the personal link or a device batch), and the sweep that looks at each deadline of the
day once — reminding the representatives of a unit short of its plan, then giving its warden a
follow-up (rule `disinfection_overdue` in `rules.py`) unless a round is logged first.

Every change checks the actor's capability (`selectors.may_keep`, the representative's own
units) and is audited; a round logged settles the unit's open follow-up.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pydantic import Field

from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.accounts.models import Role
from louzhang.areas.models import Area, Level
from louzhang.audit.services import audit_record
from louzhang.core.ingest import (
    DeviceBatch,
    DeviceRecordIn,
    DeviceTime,
    Errors,
    Result,
    Rules,
    Text,
    Words,
    error,
    future_error,
)
from louzhang.disinfection.models import (
    CommonArea,
    DeadlineLook,
    Disinfection,
    DisinfectionPlan,
    MissedRound,
    UnitRepresentative,
)
from louzhang.disinfection.schedule import (
    at_local,
    day_bounds,
    deadlines,
    due_at,
    warden_after,
)
from louzhang.disinfection.selectors import (
    KEEPING,
    may_keep,
    may_reach,
    represented_units,
    unit_rep_users,
)
from louzhang.followups.models import ACTIVE_STATES, FollowUp
from louzhang.followups.rules import rules_fire_many, rules_prepare
from louzhang.followups.services import followups_settle
from louzhang.notifications.services import Recipient, announce
from louzhang.registry.models import Resident

#: the follow-up rule of a unit short of its plan (`rules.py`)
OVERDUE_RULE = "disinfection_overdue"
#: records per device request
MAX_BATCH = 200


class DisinfectionError(ValueError):
    """A change that cannot be made as asked; the message says why."""


def new_token() -> str:
    """The secret of a representative's personal link: 128 bits, URL-safe."""
    return secrets.token_urlsafe(16)


def place(unit: Area) -> str:
    """富贵佳园 3号楼一单元: the unit with its building and compound (select them with it)."""
    building = unit.parent
    compound = building.parent if building is not None else None
    names = [a.name for a in (compound, building) if a is not None and a.level >= Level.COMPOUND]
    return " ".join(names[:1] + ["".join(names[1:] + [unit.name])])


def areas_in_words(values: Sequence[str]) -> str:
    return "、".join(str(CommonArea(v).label) for v in values if v in CommonArea.values)


def clean_areas(values: Sequence[str]) -> list[str]:
    """The common areas named, each once, in the order of `CommonArea`; at least one."""
    unknown = [v for v in values if v not in CommonArea.values]
    if unknown:
        raise DisinfectionError(_("unknown area: %(bad)s (known: %(known)s)")
                                % {"bad": ", ".join(unknown), "known": ", ".join(CommonArea.values)})
    chosen = [v for v in CommonArea.values if v in values]
    if not chosen:
        raise DisinfectionError(_("Tick at least one area."))
    return chosen


# --- representatives -------------------------------------------------------------------------

def _audit(actor: Any, action: str, rep: UnitRepresentative, summary: str) -> None:
    audit_record(actor=actor, action=action, object_type="disinfection.unitrepresentative",
                 object_id=rep.pk, area_path=rep.unit.path, summary=summary)


def representative_register(*, actor: Any, unit: Area, resident: Resident, consent: bool,
                            user: Any = None) -> UnitRepresentative:
    """Register `resident` of `unit` as its representative (单元代表), their consent noted now;
    `user`: a log-in holding the unit representative's role over the unit, linked to them.
    Only a warden or commander of the unit may (`PermissionDenied`)."""
    if unit.level != Level.UNIT or not may_keep(actor, unit.path):
        raise PermissionDenied("representatives are registered by a warden or commander of the unit")
    if resident.household.parent_id != unit.pk:
        raise DisinfectionError(_("Choose a resident of this unit."))
    if not consent:
        raise DisinfectionError(_("Tick that they agreed to be the unit's representative."))
    if user is not None and user.pk not in {u.pk for u in unit_rep_users(unit)}:
        raise DisinfectionError(_("This log-in does not hold the unit representative's role over this unit."))
    active = UnitRepresentative.objects.filter(unit=unit, ended_at__isnull=True)
    if active.filter(resident=resident).exists():
        raise DisinfectionError(_("Already a representative of this unit."))
    if user is not None and active.filter(user=user).exists():
        raise DisinfectionError(_("This log-in is linked to another representative of this unit already."))
    now = timezone.now()
    try:
        with transaction.atomic():
            rep = UnitRepresentative.objects.create(
                unit=unit, resident=resident, user=user, token=new_token(), consent_noted_at=now,
                registered_by=actor, registered_at=now)
            _audit(actor, "create", rep, "unit representative registered, consent noted"
                   + (f", linked to {user.username}" if user is not None else ""))
    except IntegrityError:  # registered a moment ago from another tab
        raise DisinfectionError(_("Already a representative of this unit.")) from None
    return rep


def _check_keeps(actor: Any, rep: UnitRepresentative) -> None:
    if not may_keep(actor, rep.unit.path):
        raise PermissionDenied("a warden or commander of the unit")


def representative_link_renew(*, actor: Any, representative: UnitRepresentative) -> str:
    """A new secret for the representative's personal link (the old one leaked, a phone was
    lost): the old link stops working at once. Returns the new secret."""
    _check_keeps(actor, representative)
    if representative.ended_at is not None:
        raise DisinfectionError(_("This representative was ended."))
    token = new_token()
    with transaction.atomic():
        UnitRepresentative.objects.filter(pk=representative.pk).update(token=token)
        representative.token = token
        _audit(actor, "change", representative, "personal disinfection link renewed")
    return token


def representative_end(*, actor: Any, representative: UnitRepresentative) -> bool:
    """End a representative: their personal link stops working, their log-in no longer logs
    for the unit. Returns False when somebody ended them first."""
    _check_keeps(actor, representative)
    now = timezone.now()
    with transaction.atomic():
        if not UnitRepresentative.objects.filter(pk=representative.pk, ended_at__isnull=True).update(ended_at=now):
            return False
        representative.ended_at = now
        _audit(actor, "change", representative, "unit representative ended")
    return True


# --- plans -----------------------------------------------------------------------------------

def plans_set(*, actor: Any, area: Area, areas: Sequence[str], times_per_day: int) -> int:
    """The plan of every unit under `area` (a compound, a building or one unit) that the actor
    keeps: these common areas, `times_per_day` a day. Returns how many units it was set for."""
    if area.level < Level.COMPOUND or area.level > Level.UNIT or not may_reach(actor, area.path):
        raise PermissionDenied("plans are set by a warden or commander of the units")
    chosen = clean_areas(areas)
    if not 1 <= times_per_day <= 4:
        raise DisinfectionError(_("Once to four times a day."))
    units = scope(Area.objects.filter(path__subtree=area.path, level=Level.UNIT), actor, roles=KEEPING)
    now = timezone.now()
    with transaction.atomic():
        plans = DisinfectionPlan.objects.filter(unit__in=units)
        have = set(plans.values_list("unit_id", flat=True))
        # a plan is in force from when it was first set (never later than now)
        plans.filter(since__gt=now).update(since=now)
        changed = plans.update(areas=chosen, times_per_day=times_per_day, updated_by=actor, updated_at=now)
        new = [DisinfectionPlan(unit_id=pk, areas=chosen, times_per_day=times_per_day, updated_by=actor,
                                since=now)
               for pk in units.exclude(pk__in=have).values_list("pk", flat=True)]
        DisinfectionPlan.objects.bulk_create(new)
        total = changed + len(new)
        if total:
            audit_record(actor=actor, action="change", object_type="disinfection.disinfectionplan",
                         area_path=area.path,
                         summary=f"disinfection plan of {total} units: {','.join(chosen)} ×{times_per_day}")
    return total


# --- logging a round ---------------------------------------------------------------------------

@dataclass
class Recorded:
    disinfection: Disinfection
    created: bool
    #: follow-ups of the unit closed by this round
    settled: int = 0


def _may_record(actor: Any, unit: Area, representative: UnitRepresentative | None) -> bool:
    if may_keep(actor, unit.path):
        return True
    return representative is not None and any(r.pk == representative.pk for r in represented_units(actor))


def disinfection_record(*, unit: Area, areas: Sequence[str], agent: str, client_id: str,
                        at: datetime | None = None, representative: UnitRepresentative | None = None,
                        actor: Any = None) -> Recorded:
    """Log one round of the unit's disinfection, once per `client_id` (a double tap or a resend
    stores one). `actor` None: the representative through their personal link (the caller has
    checked the link's secret). A round logged settles the unit's open follow-up."""
    if representative is not None and (representative.unit_id != unit.pk or representative.ended_at is not None):
        raise PermissionDenied("not a representative of this unit")
    if actor is not None and not _may_record(actor, unit, representative):
        raise PermissionDenied("rounds are logged by the unit's representatives, wardens and commanders")
    if actor is None and representative is None:
        raise PermissionDenied("a round is logged by somebody")
    existing = Disinfection.objects.filter(unit=unit, client_id=client_id).first()
    if existing is not None:
        return Recorded(existing, False)
    chosen = clean_areas(areas)
    now = timezone.now()
    at = at or now
    if at > now + timedelta(minutes=10):
        raise DisinfectionError(_("the time is in the future"))
    try:
        with transaction.atomic():
            record = Disinfection.objects.create(
                unit=unit, at=at, areas=chosen, agent=agent.strip()[:50], client_id=client_id,
                representative=representative, recorded_by=actor)
            settled = _settle({unit.pk: (unit, [at])}, actor)
    except IntegrityError:  # the same client_id from a second tab, a moment ago
        return Recorded(Disinfection.objects.get(unit=unit, client_id=client_id), False)
    return Recorded(record, True, settled)


def _settle(rounds: dict[int, tuple[Area, list[datetime]]], actor: Any) -> int:
    """Inside the transaction that stored `rounds` (unit id -> the unit and the times of the
    rounds stored now): the deadlines they meet are settled (no warden's follow-up for them),
    and the units' open follow-ups are closed. A few queries whatever the number of rounds.
    Returns how many follow-ups were closed."""
    now = timezone.now()
    met = Q()
    counted = Q()
    for unit_id, (_unit, times) in rounds.items():
        met |= Q(unit_id=unit_id, deadline__lte=max(times))
        for day in {timezone.localtime(t).date() for t in times}:
            start, end = day_bounds(day)
            counted |= Q(unit_id=unit_id, at__gte=start, at__lt=end)
    done: dict[tuple[int, date], int] = defaultdict(int)
    for unit_id, at in Disinfection.objects.filter(counted).values_list("unit_id", "at"):
        done[unit_id, timezone.localtime(at).date()] += 1
    for (unit_id, day), n in done.items():
        met |= Q(unit_id=unit_id, day=day, round__lte=n)
    MissedRound.objects.filter(met, settled_at__isnull=True).update(settled_at=now)
    codes = {unit.code: max(times) for unit, times in rounds.values()}
    open_for = set(FollowUp.objects.filter(rule=OVERDUE_RULE, subject_type="unit", subject_id__in=codes,
                                           state__in=ACTIVE_STATES).values_list("subject_id", flat=True))
    settled = 0
    for code in sorted(open_for):
        with translation.override(settings.LANGUAGE_CODE):
            finding = _("disinfected at %(when)s") % {
                "when": timezone.localtime(codes[code]).strftime("%m-%d %H:%M")}
        settled += followups_settle(rule=OVERDUE_RULE, subject_type="unit", subject_id=code,
                                    actor=actor, finding=finding)
    return settled


# --- rounds from devices (`POST /api/v1/disinfections`) -------------------------------------------

class DisinfectionIn(DeviceRecordIn):
    """One round as a device sends it (API.md), after its `client_id`."""

    unit: Text = Field(min_length=1, max_length=64)
    #: ISO 8601 with an offset; a time without one is refused
    at: DeviceTime
    areas: list[Text] = Field(min_length=1, max_length=len(CommonArea.values))
    agent: Words = Field(default="", max_length=50)


@dataclass
class _Valid:
    index: int
    data: DisinfectionIn
    unit: Area
    areas: list[str]
    representative_id: int | None

    @property
    def client_id(self) -> str:
        return self.data.client_id


@dataclass(frozen=True)
class DisinfectionEvent:
    """A stored round as rules would see it (none is registered on it: a round only settles)."""

    record_id: int
    unit_id: int
    at: datetime


class Disinfections(DeviceBatch[DisinfectionIn, _Valid, DisinfectionEvent, Result]):
    """A batch of rounds (`core.ingest.DeviceBatch`): each checked against the units the device
    user may log for — a warden's or commander's, or a representative's own —, stored once per
    `client_id`, the units' follow-ups settled in the same transaction."""

    schema = DisinfectionIn
    model = Disinfection
    result = Result
    rules = Rules("disinfection.created", rules_prepare, rules_fire_many)

    units: dict[str, Area]
    recordable: dict[str, bool]
    representatives: dict[int, int]

    def look_up(self, records: list[DisinfectionIn]) -> None:
        self.units = {u.code: u for u in Area.objects.filter(
            code__in={r.unit for r in records}, level=Level.UNIT)}
        keeps = jurisdiction_for(self.user, roles=KEEPING)
        self.representatives = {r.unit_id: r.pk for r in represented_units(self.user)}
        self.recordable = {code: keeps.covers(u.path) or u.pk in self.representatives
                           for code, u in self.units.items()}

    def check(self, index: int, record: DisinfectionIn) -> _Valid | Errors:
        errors: Errors = []
        unit = self.units.get(record.unit)
        if unit is None or not self.recordable[record.unit]:
            # another's unit is "unknown" to this device, exactly like a missing one
            errors.append(error(["unit"], _("unknown unit %(code)s") % {"code": record.unit}))
        for n, value in enumerate(record.areas):
            if value not in CommonArea.values:
                errors.append(error(["areas", n], _("unknown area %(area)s (known: %(known)s)")
                                    % {"area": value, "known": ", ".join(CommonArea.values)}))
        if self.too_late(record.at):
            errors.append(future_error())
        if errors:
            return errors
        assert unit is not None
        return _Valid(index, record, unit, clean_areas(record.areas), self.representatives.get(unit.pk))

    def prepare(self, valid: list[_Valid]) -> list[tuple[_Valid, DisinfectionEvent]]:
        ordered = sorted(valid, key=lambda v: (v.unit.pk, v.index))
        return [(v, DisinfectionEvent(0, v.unit.pk, v.data.at)) for v in ordered]

    def store(self, valid: list[_Valid]) -> dict[str, int]:
        ids: dict[str, int] = {}
        stored: dict[int, tuple[Area, list[datetime]]] = {}
        for item in valid:
            try:
                with transaction.atomic():  # a savepoint: a racing resend may have stored it
                    record = Disinfection.objects.create(
                        unit=item.unit, at=item.data.at, areas=item.areas, agent=item.data.agent.strip(),
                        client_id=item.client_id, representative_id=item.representative_id,
                        recorded_by=self.user)
            except IntegrityError:
                continue
            ids[item.client_id] = record.pk
            stored.setdefault(item.unit.pk, (item.unit, []))[1].append(item.data.at)
        if stored:
            _settle(stored, self.user)
        return ids


def disinfections_ingest(*, user: Any, records: list[Any]) -> list[Result]:
    """Check, store and settle a batch of rounds from the device `user`."""
    return Disinfections(user).ingest(records)


# --- the sweep -------------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitOverdue:
    """A unit still short of its plan after its representatives were reminded (or could not
    be): what rule `disinfection_overdue` reads (`disinfection.overdue`)."""

    missed_id: int
    unit: Area
    place: str
    deadline: datetime
    due: int
    done: int
    reminded: int
    reminder_note: str


def disinfections_sweep(now: datetime | None = None) -> dict[str, int]:
    """Look at each deadline of the day once (`LOUZHANG_DISINFECTION_DEADLINES`, today's and
    yesterday's that passed): every unit whose plan is short of the rounds due by it is
    reminded through its representatives; then give the warden a follow-up for each unit still
    short when its time came (`LOUZHANG_DISINFECTION_WARDEN_AFTER_MINUTES`). Run by the worker
    every few minutes; running it twice changes nothing."""
    now = now or timezone.now()
    found = {"deadlines": 0, "missed": 0, "reminded": 0, "not_reminded": 0, "wardens": 0, "settled": 0}
    times = deadlines()
    today = timezone.localtime(now).date()
    with translation.override(settings.LANGUAGE_CODE):
        for day in (today - timedelta(days=1), today):
            for index, moment in enumerate(times):
                deadline = at_local(day, moment)
                if deadline <= now:
                    _look(day, index, deadline, now, found)
        _tell_wardens(now, found)
    return found


def _look(day: date, index: int, deadline: datetime, now: datetime, found: dict[str, int]) -> None:
    """One deadline, once: which units are short, and their representatives reminded."""
    times = deadlines()
    with transaction.atomic():
        look, created = DeadlineLook.objects.get_or_create(deadline=deadline, defaults={"looked_at": now})
        if not created:
            return
        found["deadlines"] += 1
        plans = [(p, due) for p in DisinfectionPlan.objects.filter(since__lt=deadline).select_related("unit__parent__parent")
                 if (due := due_at(index, p.times_per_day, times))]
        start, end = day_bounds(day)
        # the day's rounds of every unit with a plan (joined, not a list of ids: a city has tens
        # of thousands of units)
        done = dict(Disinfection.objects.filter(
            unit__disinfection_plan__isnull=False, at__gte=start, at__lt=end,
        ).values("unit_id").annotate(n=Count("id")).values_list("unit_id", "n"))
        short = [(p.unit, due, done.get(p.unit_id, 0)) for p, due in plans if done.get(p.unit_id, 0) < due]
        representatives: dict[int, list[UnitRepresentative]] = defaultdict(list)
        if short:
            for rep in UnitRepresentative.objects.filter(
                    unit__disinfection_plan__isnull=False, ended_at__isnull=True).select_related("user"):
                representatives[rep.unit_id].append(rep)
        for unit, due, logged in short:
            try:
                with transaction.atomic():  # the row first: nobody is reminded twice of one deadline
                    row = MissedRound.objects.create(unit=unit, day=day, round=due, deadline=deadline,
                                                     done=logged, found_at=now, warden_due_at=now)
            except IntegrityError:
                continue
            row.reminded, row.reminder_note = _remind(unit, representatives[unit.pk], deadline, due, logged)
            # nobody to wait for when nobody could be reminded
            row.warden_due_at = now + warden_after() if row.reminded else now
            row.save(update_fields=["reminded", "reminder_note", "warden_due_at"])
            found["missed"] += 1
            found["reminded" if row.reminded else "not_reminded"] += 1
        look.missed = len(short)
        look.save(update_fields=["missed"])


def _remind(unit: Area, reps: list[UnitRepresentative], deadline: datetime, due: int,
            done: int) -> tuple[int, str]:
    """Remind the unit's representatives who have a log-in, in their inbox (and the channels
    serving representatives there). Returns how many were reminded and what was done, in words:
    never that somebody was told who was not."""
    users = {r.user.pk: r.user for r in reps if r.user is not None and r.user.is_active}
    if not users:
        if reps:
            return 0, _("no representative has a log-in: nobody could be reminded electronically")
        return 0, _("no representative registered: nobody could be reminded")
    when = timezone.localtime(deadline).strftime("%H:%M")
    title = _("[Disinfection] %(place)s: %(done)d of %(due)d rounds done by %(when)s") % {
        "place": place(unit), "done": done, "due": due, "when": when}
    text = _("Please disinfect the unit's common areas and tap “Disinfected”.")
    announce(area=unit, recipients=[Recipient(u, Role.UNIT_REP) for u in users.values()], title=title,
             text=text, link=reverse("disinfection-mine"), about=f"disinfection:{unit.code}")
    return len(users), ngettext("%(n)d representative reminded in their inbox",
                                "%(n)d representatives reminded in their inbox", len(users)) % {"n": len(users)}


def _tell_wardens(now: datetime, found: dict[str, int]) -> None:
    """Units whose warden's time came: settled when a round was logged meanwhile, else the
    warden's follow-up (rule `disinfection_overdue`)."""
    rows = list(MissedRound.objects.filter(warden_due_at__lte=now, warden_told_at__isnull=True,
                                           settled_at__isnull=True)
                .select_related("unit__parent__parent").order_by("unit__path", "deadline")[:500])
    if not rows:
        return
    events: list[UnitOverdue] = []
    with transaction.atomic():
        for row in rows:
            start, end = day_bounds(row.day)
            logged = Disinfection.objects.filter(unit=row.unit, at__lte=now)
            if (logged.filter(at__gte=row.deadline).exists()
                    or logged.filter(at__gte=start, at__lt=end).count() >= row.round):
                if MissedRound.objects.filter(pk=row.pk, settled_at__isnull=True).update(settled_at=now):
                    found["settled"] += 1
                continue
            if not MissedRound.objects.filter(pk=row.pk, warden_told_at__isnull=True,
                                              settled_at__isnull=True).update(warden_told_at=now):
                continue  # another sweep took it
            events.append(UnitOverdue(row.pk, row.unit, place(row.unit), row.deadline, row.round,
                                      row.done, row.reminded, row.reminder_note))
        fired = rules_fire_many("disinfection.overdue", events)
        for event, outcomes in zip(events, fired, strict=True):
            followup = next((f.followup for f in outcomes if f.followup is not None), None)
            if followup is not None:
                MissedRound.objects.filter(pk=event.missed_id).update(followup=followup)
            found["wardens"] += 1
