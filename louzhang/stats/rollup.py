"""Rolling the records of a day up into `AreaDay` and `UnitDay` rows.

`rollup_day(day)` reads the day's records from the raw tables in a handful of grouped queries,
files each record at the area it happened in — a household's, building's or unit's records at
their compound, a checkpoint's or a follow-up's at the area it belongs to — adds every area's
figures into its ancestors' and replaces the day's rows in one transaction. It is exact and
idempotent: the worker runs it for today every `LOUZHANG_STATS_REFRESH_SECONDS`, for a past day
whenever records of that day arrive late (a phone that was offline), and `louzhang stats rebuild`
runs it for any day asked.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from louzhang.areas.models import Area, Level
from louzhang.checkpoints.models import Checkpoint, Occupant, VehicleInspection
from louzhang.core.sql import advisory_locks
from louzhang.core.thresholds import fever_threshold
from louzhang.disinfection.models import Disinfection
from louzhang.duty.models import DutyStatus, Officer, StatusChange
from louzhang.followups.models import FollowUp, FollowUpEvent
from louzhang.gates.models import Gate, GateRecord
from louzhang.observation.models import CheckIn, Observation, ObservationEvent, Status
from louzhang.screening.models import Finding, Mode, Visit
from louzhang.stats.figures import AREA_KEYS
from louzhang.stats.models import AreaDay, StaleDay, UnitDay, Watermark, frozen_through
from louzhang.tips.models import CLOSED_STATUSES, Tip

logger = logging.getLogger("louzhang.stats")

#: the follow-up kind of the gate rule on home observation (`gates.rules.observation_breach`)
BREACH = "observation_breach"

#: the finest area a roll-up row is kept for: below it, records roll up into their compound
FINEST = Level.COMPOUND


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The local day (`TIME_ZONE`, Asia/Shanghai) as [start, end) aware datetimes."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return start, end


def _parent_path(path: str) -> str:
    cut = path.rstrip("/").rfind("/")
    return path[: cut + 1] if cut > 0 else ""


@dataclass
class Tree:
    """The areas a roll-up row is kept for (city … compound): where a record is filed."""

    #: path → (id, parent id)
    by_path: dict[str, tuple[int, int | None]]
    parent_of: dict[int, int | None]

    @classmethod
    def load(cls) -> Tree:
        by_path: dict[str, tuple[int, int | None]] = {}
        for pk, path, parent_id in Area.objects.filter(level__lte=FINEST).values_list(
                "pk", "path", "parent_id"):
            by_path[path] = (pk, parent_id)
        return cls(by_path, {pk: parent for pk, parent in by_path.values()})

    def filed_at(self, path: str) -> int | None:
        """The area a record at `path` is filed at: the area itself down to a compound, else
        its compound (the deepest ancestor kept)."""
        while path:
            found = self.by_path.get(path)
            if found is not None:
                return found[0]
            path = _parent_path(path)
        return None

    def lineage(self, area_id: int) -> Iterable[int]:
        """The area and its ancestors."""
        current: int | None = area_id
        while current is not None:
            yield current
            current = self.parent_of.get(current)


class Tally:
    """Figures per area where they happened, then rolled up into the ancestors."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.at: dict[int, Counter[str]] = defaultdict(Counter)

    def add(self, path: str | None, key: str, n: int = 1) -> None:
        if not n or not path:
            return
        filed = self.tree.filed_at(path)
        if filed is not None:
            self.at[filed][key] += n

    def add_area(self, area_id: int, key: str, n: int) -> None:
        if n:
            self.at[area_id][key] += n

    def rolled_up(self) -> dict[int, Counter[str]]:
        total: dict[int, Counter[str]] = defaultdict(Counter)
        for area_id, counts in self.at.items():
            for ancestor in self.tree.lineage(area_id):
                total[ancestor].update(counts)
        return total


# --- what does not change by the day: households and units of each area --------------------

_STRUCTURE: dict[str, Any] = {}


def _structure(tree: Tree) -> dict[int, Counter[str]]:
    """Households and units (单元) filed at each area, read again only when the tree below
    compounds changed (new households imported, some removed)."""
    # the sums of ids and parents as well as count and newest id: a household removed and
    # another added (SQLite reuses the highest id) still changes it
    signature = tuple(
        Area.objects.filter(level__in=(Level.UNIT, Level.HOUSEHOLD)).aggregate(
            n=Count("pk"), last=Max("pk"), ids=Sum("pk"), parents=Sum("parent_id")).values()
    ) + (hash(frozenset(tree.by_path.items())),)
    if _STRUCTURE.get("signature") == signature:
        cached: dict[int, Counter[str]] = _STRUCTURE["counts"]
        return cached
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for key, level in (("households", Level.HOUSEHOLD), ("units", Level.UNIT)):
        # grouped by parent first (a building or unit holds many households): far fewer paths
        parents: Counter[int] = Counter(dict(
            Area.objects.filter(level=level).values("parent_id").annotate(n=Count("pk"))
            .values_list("parent_id", "n")))
        paths = dict(Area.objects.filter(pk__in=list(parents)).values_list("pk", "path"))
        for parent_id, n in parents.items():
            filed = tree.filed_at(paths.get(parent_id, ""))
            if filed is not None:
                counts[filed][key] += n
    _STRUCTURE.update(signature=signature, counts=counts)
    return counts


# --- the day's records --------------------------------------------------------------------


def _tally_day(tree: Tree, day: date, now: datetime) -> Tally:
    start, end = day_bounds(day)
    #: states are read at the end of the day, or now for today
    upto = min(end, now)
    fever = fever_threshold()
    tally = Tally(tree)
    for area_id, counts in _structure(tree).items():
        tally.at[area_id].update(counts)

    # gate by gate (the ids named): the (gate, time) index reads only the day's records of each
    # gate, where a time range alone scans the whole table (10 M records: 190 ms against 800 ms
    # on PostgreSQL); in chunks, under SQLite's limit of parameters
    gates = dict(Gate.objects.values_list("pk", "compound__path"))
    for chunk in _chunks(list(gates)):
        for gate_id, n, fevers in (
                GateRecord.objects.filter(gate_id__in=chunk, at__gte=start, at__lt=end)
                .values("gate_id").annotate(n=Count("pk"), f=Count("pk", filter=Q(temperature__gte=fever)))
                .values_list("gate_id", "n", "f")):
            tally.add(gates[gate_id], "gate_checks", n)
            tally.add(gates[gate_id], "gate_fevers", fevers)

    checkpoints = dict(Checkpoint.objects.values_list("pk", "area__path"))
    for cp_id, n, key_region in (
            VehicleInspection.objects.filter(checkpoint_id__in=list(checkpoints), at__gte=start, at__lt=end)
            .values("checkpoint_id")
            .annotate(n=Count("pk"), k=Count("pk", filter=Q(key_region__isnull=False)))
            .values_list("checkpoint_id", "n", "k")):
        tally.add(checkpoints[cp_id], "vehicles_checked", n)
        tally.add(checkpoints[cp_id], "key_region_vehicles", key_region)
    for cp_id, n in (
            Occupant.objects.filter(inspection__checkpoint_id__in=list(checkpoints),
                                    inspection__at__gte=start, inspection__at__lt=end,
                                    temperature__gte=fever)
            .values("inspection__checkpoint_id").annotate(n=Count("pk"))
            .values_list("inspection__checkpoint_id", "n")):
        tally.add(checkpoints[cp_id], "checkpoint_fevers", n)

    # one per household somebody was reached at that day (in person, by phone or WeChat): a
    # door where nobody answered is not a household visited, however often it was knocked at
    # (`order_by()`: a model's default ordering would join the DISTINCT and count every visit)
    for path, in (Visit.objects.filter(at__gte=start, at__lt=end).exclude(mode=Mode.NOBODY_HOME)
                  .order_by().values_list("household__path").distinct()):
        tally.add(path, "households_visited")
    # people, not findings: the same returnee found at two visits of the day is one
    for path, returnees, symptomatic, contacts in (
            Finding.objects.filter(visit__at__gte=start, visit__at__lt=end)
            .values("visit__household__path")
            .annotate(r=Count("resident", distinct=True, filter=~Q(key_region="")),
                      s=Count("resident", distinct=True, filter=~Q(symptoms="")),
                      c=Count("resident", distinct=True, filter=Q(contact_with_case=True)))
            .values_list("visit__household__path", "r", "s", "c")):
        tally.add(path, "returnees_found", returnees)
        tally.add(path, "symptomatic_found", symptomatic)
        tally.add(path, "contacts_found", contacts)

    # an observation runs from its first day (`starts_on`: the day of the visit that found
    # them, even when the visit was sent late) — or, when it was proposed, from the day the
    # health liaison confirmed it — until it was closed; a proposal never confirmed and a
    # cancelled observation (turned down, a mistake) never ran
    ran = (Observation.objects.exclude(status=Status.CANCELLED)
           .filter(Exists(ObservationEvent.objects.filter(
               observation=OuterRef("pk"),
               kind__in=(ObservationEvent.Kind.OPENED, ObservationEvent.Kind.CONFIRMED))))
           .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start), starts_on__lte=day))
    for path, starts_on, confirmed_at, closed_at in ran.values_list(
            "household__path", "starts_on", "confirmed_at", "closed_at"):
        began = starts_on if confirmed_at is None else timezone.localdate(confirmed_at)
        if began > day:
            continue
        if began == day:
            tally.add(path, "observations_started")
        if closed_at is None or closed_at >= upto:
            tally.add(path, "under_observation")
    for path, n in (
            Observation.objects.filter(status=Status.RELEASED, closed_at__gte=start, closed_at__lt=end)
            .values("household__path").annotate(n=Count("pk")).values_list("household__path", "n")):
        tally.add(path, "released", n)
    for path, n in (
            ObservationEvent.objects.filter(kind=ObservationEvent.Kind.MISSED, at__gte=start, at__lt=end)
            .values("observation__household__path").annotate(n=Count("pk"))
            .values_list("observation__household__path", "n")):
        tally.add(path, "check_ins_missed", n)
    # people: two feverish check-ins of one person the same day are one fever
    for path, n in (
            CheckIn.objects.filter(at__gte=start, at__lt=end, temperature__gte=fever)
            .values("observation__household__path").annotate(n=Count("observation", distinct=True))
            .values_list("observation__household__path", "n")):
        tally.add(path, "check_in_fevers", n)

    for path, received in (
            Tip.objects.filter(received_at__gte=start, received_at__lt=end)
            .values("area__path").annotate(n=Count("pk")).values_list("area__path", "n")):
        tally.add(path, "tips_received", received)
    for path, closed in (
            Tip.objects.filter(status__in=CLOSED_STATUSES, closed_at__gte=start, closed_at__lt=end)
            .values("area__path").annotate(n=Count("pk")).values_list("area__path", "n")):
        tally.add(path, "tips_closed", closed)

    # every time the gate rule found a member of a household under home observation going out
    # (the records its follow-ups name: the one that opened it and each repeat), counted on the
    # gate record's own day — a record sent late counts on its day, a second time while the
    # follow-up is open counts again
    breached = _breach_records()
    if breached:
        for path, n in (
                GateRecord.objects.filter(pk__in=breached, at__gte=start, at__lt=end)
                .values("gate__compound__path").annotate(n=Count("pk"))
                .values_list("gate__compound__path", "n")):
            tally.add(path, "breaches", n)
    for path, n, overdue in (
            FollowUp.objects.filter(opened_at__lt=upto)
            .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=upto))
            .values("area__path")
            .annotate(n=Count("pk"), late=Count("pk", filter=Q(due_at__lt=upto)))
            .values_list("area__path", "n", "late")):
        tally.add(path, "followups_open", n)
        tally.add(path, "followups_overdue", overdue)

    for path, in Disinfection.objects.filter(at__gte=start, at__lt=end).order_by().values_list(
            "unit__path").distinct():
        tally.add(path, "units_disinfected")

    for counts in tally.at.values():
        counts["fevers"] = counts["gate_fevers"] + counts["checkpoint_fevers"] + counts["check_in_fevers"]
    return tally


def _chunks(ids: list[int], size: int = 5000) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _breach_records() -> list[int]:
    """The gate records the home-observation breach rule fired on (follow-ups are few)."""
    ids: set[int] = set()
    for detail in FollowUpEvent.objects.filter(
            followup__kind=BREACH, kind__in=(FollowUpEvent.Kind.OPENED, FollowUpEvent.Kind.REPEATED)
    ).values_list("detail", flat=True):
        record = (detail or {}).get("gate_record")
        if isinstance(record, int) and record > 0:
            ids.add(record)
    return sorted(ids)


def _officers(day: date, now: datetime) -> dict[int, tuple[int, int]]:
    """Officers and officers on post per police unit at the end of `day` (today: now)."""
    start, end = day_bounds(day)
    if end > now:  # today: as they stand
        return {
            unit_id: (n, on)
            for unit_id, n, on in Officer.objects.filter(created_at__lte=now).values("unit_id").annotate(
                n=Count("pk"), on=Count("pk", filter=Q(status=DutyStatus.ON_POST)))
            .values_list("unit_id", "n", "on")
        }
    # a past day: each officer's last status change before its end
    last: dict[int, str] = {}
    for officer_id, status in (StatusChange.objects.filter(at__lt=end)
                               .order_by("officer_id", "at", "pk").values_list("officer_id", "status")):
        last[officer_id] = status
    changed_since = set(StatusChange.objects.filter(at__gte=end).values_list("officer_id", flat=True))
    per_unit: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for pk, unit_id, created_at, status in Officer.objects.values_list("pk", "unit_id", "created_at", "status"):
        if created_at >= end and pk not in last:
            continue
        if pk in last:
            was = last[pk]
        elif pk not in changed_since:
            # created with a status and never changed since (no history row written)
            was = status
        else:  # its status before its first recorded change is unknown
            was = ""
        counts = per_unit[unit_id]
        counts[0] += 1
        counts[1] += int(was == DutyStatus.ON_POST)
    return {unit_id: (n, on) for unit_id, (n, on) in per_unit.items()}


def rollup_day(day: date, now: datetime | None = None) -> int:
    """Replace the roll-up rows of `day` with figures read from the records. Returns how many
    area rows it wrote. A day on or before the purge's end (`frozen_through`) is never rolled
    up again: its records were purged, its figures stay as they were."""
    frozen = frozen_through()
    if frozen is not None and day <= frozen:
        StaleDay.objects.filter(day=day).delete()
        return AreaDay.objects.filter(day=day).count()
    now = now or timezone.now()
    tree = Tree.load()
    totals = _tally_day(tree, day, now).rolled_up()
    officers = _officers(day, now)
    area_rows = [
        AreaDay(area_id=area_id, day=day, refreshed_at=now, **{k: counts[k] for k in AREA_KEYS})
        for area_id, counts in totals.items() if any(counts.values())
    ]
    unit_rows = [UnitDay(unit_id=unit_id, day=day, officers=n, officers_on_post=on, refreshed_at=now)
                 for unit_id, (n, on) in officers.items()]
    with transaction.atomic():
        # one roll-up of a day writes at a time (the worker's round, a report, `stats rebuild`):
        # a second waits here, then replaces the first one's rows (on SQLite: one writer anyway)
        advisory_locks([f"stats.rollup:{day.isoformat()}"])
        AreaDay.objects.filter(day=day).delete()
        AreaDay.objects.bulk_create(area_rows, batch_size=500)
        UnitDay.objects.filter(day=day).delete()
        UnitDay.objects.bulk_create(unit_rows, batch_size=500)
        StaleDay.objects.filter(day=day, marked_at__lte=now).delete()
    return len(area_rows)


# --- keeping them up to date --------------------------------------------------------------

#: the tables of records that may arrive for a past day, and the field holding their time
LATE: tuple[tuple[Any, str, str], ...] = (
    # (table, its time, when it was stored)
    (GateRecord, "at", "created_at"),
    (VehicleInspection, "at", "created_at"),
    (Visit, "at", "created_at"),
    (CheckIn, "at", "created_at"),
    (Disinfection, "at", "created_at"),
    (Tip, "received_at", "updated_at"),
)

#: how long a record may take to commit after its id was drawn (a device batch in one
#: transaction): the watermark stays this far behind, and the records since are read again
SETTLE = timedelta(minutes=5)


def mark_late_days(now: datetime) -> set[date]:
    """Days before today that got records since the last look (ids past each table's
    watermark): marked stale, for `refresh` to roll up again.

    Ids are drawn when a record is inserted, not when its transaction commits: a batch holding
    ids 100–1099 may commit after 1100 was seen. So the watermark only passes records stored more
    than `SETTLE` ago, and those stored since are looked at again next round (marking a day
    stale twice costs nothing)."""
    today = timezone.localdate(now)
    start_today = day_bounds(today)[0]
    days: set[date] = set()
    with transaction.atomic():
        for model, field, stored in LATE:
            name = model._meta.label
            mark = Watermark.objects.select_for_update().filter(name=name).first()
            if mark is None:  # the first look: from now on (`stats rebuild` for the past)
                newest = model.objects.aggregate(m=Max("pk"))["m"] or 0
                Watermark.objects.get_or_create(name=name, defaults={"last_id": newest})
                continue
            since = model.objects.filter(pk__gt=mark.last_id)
            for day in (since.filter(**{f"{field}__lt": start_today})
                        .annotate(d=TruncDate(field, tzinfo=timezone.get_current_timezone()))
                        .order_by().values_list("d", flat=True).distinct()):
                days.add(day)
            settled = since.filter(**{f"{stored}__lte": now - SETTLE}).aggregate(m=Max("pk"))["m"]
            if settled:
                Watermark.objects.filter(pk=mark.pk).update(last_id=settled)
        for day in days:
            StaleDay.objects.update_or_create(day=day, defaults={"marked_at": now})
    return days


def mark_stale(days: Iterable[date], now: datetime | None = None) -> None:
    """Ask for these days to be rolled up again (a record of a past day changed)."""
    for day in days:
        StaleDay.objects.update_or_create(day=day, defaults={"marked_at": now or timezone.now()})


#: past days rolled up again in one round at most (the rest wait for the next)
STALE_PER_ROUND = 3


def refresh(now: datetime | None = None) -> list[date]:
    """One round of the worker: today; yesterday once more after midnight (its states as they
    stood at its end); past days whose records arrived late. Returns the days rolled up."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    done = [today]
    rollup_day(today, now)
    yesterday = today - timedelta(days=1)
    last = AreaDay.objects.filter(day=yesterday).aggregate(m=Max("refreshed_at"))["m"]
    # rolled up before midnight (or never: the worker was down all day)
    if last is None or last < day_bounds(today)[0]:
        rollup_day(yesterday, now)
        done.append(yesterday)
    mark_late_days(now)
    for stale in StaleDay.objects.filter(day__lt=today).order_by("-day")[:STALE_PER_ROUND]:
        if stale.day not in done:
            rollup_day(stale.day, now)
            done.append(stale.day)
    return done


def rebuild(first: date, last: date) -> list[tuple[date, int]]:
    """Roll every day from `first` to `last` up again from the records."""
    days = []
    day = first
    while day <= last:
        days.append((day, rollup_day(day)))
        day += timedelta(days=1)
    return days
