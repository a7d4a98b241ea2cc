"""Two weeks of the demo city's past (fictional), so that the dashboard shows a trend the moment
the demo is loaded: gate checks at the gates of 保利百合 and 富贵佳园 (a few fevers), vehicles
checked at 达拉特旗进城检查站 (some from Hubei: 鄂A …, 鄂F …), a few visits a day by the demo's
wardens in the weeks before the round opened, and the officers' duty status over the period —
then the figures of those days rolled up.

Only past days (the seed's own stories are today's and the last three days': the returnee found
in building 34, the Wuhan car's tip, 库都尔派出所's five officers as they stand). Every record
carries a `client_id` starting `seed-history-`, which makes loading it twice add nothing.
Stored in bulk (no rules fired: these days are over and their follow-ups long closed).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.areas.models import Area, Level
from louzhang.checkpoints.models import Checkpoint, KeyRegion, Occupant, VehicleInspection
from louzhang.demo.screening import RETURNEE_HOUSEHOLD
from louzhang.duty.models import DutyStatus, Officer, StatusChange
from louzhang.gates.models import Gate, GateRecord, HouseholdPass
from louzhang.identifiers.plates import parse_plate
from louzhang.registry.models import Resident
from louzhang.screening.models import Finding, Mode, Visit
from louzhang.stats.rollup import rebuild

MARK = "seed-history-"
DAYS = 14
#: the days the seed's own screening stories happen on (the round opened three days ago)
SEED_DAYS = 3
HISTORY_REASON = "演示数据：两周前的状态"
#: (compound code, user recording at its gates)
GATES = [("150202001001001", "gate"), ("150207001001001", "warden_jy")]
CHECKPOINT = "DLT-CP1"
#: (warden, compound, buildings) visiting before the round: never building 34's first unit,
#: where the seed's warden found the returnee
WARDENS = [("warden", "150202001001001", [7, 31, 32, 33, 35, 36]),
           ("warden_jy", "150207001001001", [1, 2, 3, 4, 5, 6])]
LOCAL_PLATES = ["蒙B", "蒙A", "蒙K", "蒙E"]
#: plates from the key regions (never the tip's 鄂A5K2B8)
HUBEI_PLATES = ["鄂A", "鄂F", "鄂K"]
PROVINCES = ["晋A", "陕K", "京N", "冀G"]
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
#: 王振宇 of 库都尔派出所 fell ill two days ago; everybody else keeps today's status throughout
FELL_ILL = ("150782104", 2)


def _at(day: date, hour: int, minute: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _temperature(rng: random.Random, fever: bool) -> Decimal:
    if fever:
        return Decimal(rng.choice(["37.5", "37.8", "38.1", "38.4"]))
    return Decimal(f"{rng.uniform(35.9, 36.9):.1f}")


def demo_stats(today: date | None = None) -> int:
    """Add the demo city's two weeks of history if it has none yet, then roll those days (and
    today) up; returns how many records it added (0: it was there already)."""
    today = today or timezone.localdate()
    if GateRecord.objects.filter(client_id__startswith=MARK).exists():
        return 0
    users = {u.username: u for u in User.objects.filter(
        username__in={"checkpoint", *(u for _c, u in GATES), *(u for u, _c, _b in WARDENS)})}
    if len(users) < 4:
        return 0  # not the demo city
    rng = random.Random("louzhang-demo-history")
    days = [today - timedelta(days=n) for n in range(DAYS, 0, -1)]
    added = 0
    with transaction.atomic():
        added += _gate_records(rng, days, users)
        added += _inspections(rng, days, users)
        added += _visits(rng, [d for d in days if d < today - timedelta(days=SEED_DAYS)], users)
        added += _duty_history(today)
    rebuild(days[0], today)
    return added


def _gate_records(rng: random.Random, days: list[date], users: dict[str, User]) -> int:
    records = []
    for code, username in GATES:
        gates = list(Gate.objects.filter(compound__code=code).order_by("code"))
        passes = list(HouseholdPass.objects.filter(household__path__startswith=Area.objects.get(code=code).path,
                                                   revoked_at__isnull=True)
                      .exclude(household__code=RETURNEE_HOUSEHOLD).values_list("household_id", flat=True))
        if not gates or not passes:
            continue
        for day in days:
            fevers = 1 if rng.random() < 0.35 else 0
            n = rng.randint(28, 46)
            for i in range(n):
                direction = GateRecord.Direction.OUT if i % 2 == 0 else GateRecord.Direction.IN
                records.append(GateRecord(
                    gate=rng.choice(gates), client_id=f"{MARK}{code}-{day:%m%d}-{i}",
                    recorded_by=users[username], direction=direction,
                    at=_at(day, rng.randint(6, 21), rng.randint(0, 59)),
                    temperature=_temperature(rng, i < fevers), household_id=rng.choice(passes)))
    GateRecord.objects.bulk_create(records, batch_size=1000)
    return len(records)


def _plate(rng: random.Random, prefixes: list[str]) -> str:
    while True:
        plate = rng.choice(prefixes) + "".join(rng.choice(PLATE_CHARS) for _ in range(5))
        if plate != "鄂A5K2B8":
            return plate


def _inspections(rng: random.Random, days: list[date], users: dict[str, User]) -> int:
    checkpoint = Checkpoint.objects.filter(code=CHECKPOINT).first()
    if checkpoint is None:
        return 0
    regions = {r.name: r for r in KeyRegion.objects.filter(name__in=["湖北省", "武汉市"])}
    inspections: list[VehicleInspection] = []
    people: list[list[Decimal]] = []
    for day in days:
        for i in range(rng.randint(14, 24)):
            roll = rng.random()
            prefixes = HUBEI_PLATES if roll < 0.12 else PROVINCES if roll < 0.3 else LOCAL_PLATES
            plate = parse_plate(_plate(rng, prefixes))
            region = None
            if plate.plate.startswith("鄂"):
                region = regions.get("武汉市" if plate.plate.startswith("鄂A") else "湖北省")
            fever = region is not None and rng.random() < 0.3
            temperatures = [_temperature(rng, fever and n == 0) for n in range(rng.randint(1, 3))]
            inspections.append(VehicleInspection(
                checkpoint=checkpoint, client_id=f"{MARK}{day:%m%d}-{i}", recorded_by=users["checkpoint"],
                at=_at(day, rng.randint(0, 23), rng.randint(0, 59)), plate=plate.plate,
                plate_province=plate.province, plate_city=plate.city, vehicle_type="小型轿车",
                origin=plate.city or plate.province,
                disposition=(VehicleInspection.Disposition.REFERRED if fever
                             else VehicleInspection.Disposition.PASS),
                key_region=region))
            people.append(temperatures)
    VehicleInspection.objects.bulk_create(inspections, batch_size=500)
    stored = dict(VehicleInspection.objects.filter(client_id__startswith=MARK).values_list("client_id", "pk"))
    Occupant.objects.bulk_create([
        Occupant(inspection_id=stored[inspection.client_id], temperature=t)
        for inspection, temperatures in zip(inspections, people, strict=True) for t in temperatures
    ], batch_size=1000)
    return len(inspections)


def _visits(rng: random.Random, days: list[date], users: dict[str, User]) -> int:
    visits: list[Visit] = []
    for username, compound, buildings in WARDENS:
        households = list(Area.objects.filter(
            level=Level.HOUSEHOLD, parent__parent__code__in=[f"{compound}-{b}" for b in buildings])
            .exclude(code=RETURNEE_HOUSEHOLD).order_by("code").values_list("pk", flat=True))
        rng.shuffle(households)
        for day in days:
            for i in range(rng.randint(3, 6)):
                if not households:
                    break
                visits.append(Visit(
                    household_id=households.pop(), visited_by=users[username],
                    client_id=f"{MARK}{username}-{day:%m%d}-{i}", at=_at(day, rng.randint(9, 19), rng.randint(0, 59)),
                    mode=rng.choice([Mode.IN_PERSON, Mode.IN_PERSON, Mode.PHONE, Mode.NOBODY_HOME])))
    Visit.objects.bulk_create(visits, batch_size=500)
    stored = dict(Visit.objects.filter(client_id__startswith=MARK).values_list("client_id", "pk"))
    members: dict[int, list[int]] = {}
    for pk, household_id in Resident.objects.filter(household_id__in=[v.household_id for v in visits]).values_list(
            "pk", "household_id"):
        members.setdefault(household_id, []).append(pk)
    # everybody reached, nothing to report (the seed's returnee is found after the round opened)
    Finding.objects.bulk_create([
        Finding(visit_id=stored[v.client_id], resident_id=resident)
        for v in visits if v.mode != Mode.NOBODY_HOME for resident in members.get(v.household_id, [])
    ], batch_size=1000)
    return len(visits)


def _duty_history(today: date) -> int:
    """Every officer's status since two weeks ago, as they stand today (one fell ill two days
    ago), for the officers the demo has; none for an officer with history that old."""
    start = _at(today - timedelta(days=DAYS), 8, 0)
    if StatusChange.objects.filter(reason=HISTORY_REASON).exists():
        return 0
    changes = []
    for officer in Officer.objects.exclude(status_changes__at__lte=start):
        if officer.badge_number == FELL_ILL[0] and officer.status == DutyStatus.SICK:
            changes.append(StatusChange(officer=officer, status=DutyStatus.ON_POST, at=start,
                                        reason=HISTORY_REASON))
            changes.append(StatusChange(officer=officer, status=DutyStatus.SICK,
                                        at=_at(today - timedelta(days=FELL_ILL[1]), 7, 30),
                                        reason="发热，在家休息"))
        else:
            changes.append(StatusChange(officer=officer, status=officer.status, at=start,
                                        reason=HISTORY_REASON))
    StatusChange.objects.bulk_create(changes)
    return len(changes)
