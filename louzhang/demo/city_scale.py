"""A Baotou-sized synthetic city for benchmarks: `louzhang demo --scale city`.

About 1,000 compounds with 30 buildings each (30,000 buildings, 720,000 households), 1,000,000
residents, 300,000 vehicles and 4,500 wardens, spread over 包头市's nine districts. Residents
and vehicles go in through the same import path as a community's spreadsheet (CSV files written
under var/city-scale/, then `import_residents` / `import_vehicles`), so building the city also
exercises and times the import. Deterministic (seeded); all people are fictional.
"""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from louzhang.accounts.models import Grant, Role, User
from louzhang.areas.models import Area, Level, build_path
from louzhang.core.sql import insert
from louzhang.demo.city import CITIES, GIVEN_F, GIVEN_M, SURNAMES, build_demo_city, make_id_number
from louzhang.registry.importing.engine import ids_by_code
from louzhang.registry.importing.residents import import_residents
from louzhang.registry.importing.vehicles import import_vehicles
from louzhang.registry.models import Resident, Vehicle

BAOTOU = ("150200", "包头市")
BUILDINGS, UNITS, FLOORS = 30, 2, 6
COMPOUND_WORDS = ["阳光", "幸福", "和谐", "富强", "锦绣", "金地", "华府", "翠苑", "康乐", "兴业",
                  "安居", "祥和", "明珠", "龙腾", "春晖", "青年", "钢城", "鹿城", "北梁", "新都"]
COMPOUND_KINDS = ["花园", "家园", "小区", "公寓", "新村", "雅苑", "名邸", "嘉园"]
MOBILE_PREFIXES = ["35", "36", "38", "39", "50", "51", "58", "59", "86", "87", "88", "89"]
PLATE_FIRST = "LMNPQRSTUVWXYZ"  # ordinary plates; new-energy first letters avoided
SERIAL = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


@dataclass
class CityScale:
    compounds: int = 1_000
    residents: int = 1_000_000
    vehicles: int = 300_000
    wardens: int = 4_500


@dataclass
class CityReport:
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def city_build(scale: CityScale, *, say: Callable[[str], None] = print,
               progress: Callable[[int], None] | None = None) -> CityReport:
    """Build (or complete: every step is idempotent) the synthetic city."""
    report = CityReport()
    work = Path(settings.VAR_DIR) / "city-scale"
    work.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    compounds = _areas(scale)
    report.seconds["areas"] = time.monotonic() - started
    report.counts["compounds"] = len(compounds)
    say(f"areas: {len(compounds):,} compounds ({report.seconds['areas']:.1f} s)")

    residents_csv = work / f"residents-{scale.residents}.csv"
    heads = _write_residents(residents_csv, compounds, scale.residents)
    started = time.monotonic()
    summary = import_residents(residents_csv, rejects_path=work / "residents-rejects.csv",
                               progress=progress)
    report.seconds["residents"] = time.monotonic() - started
    report.counts["residents_read"] = summary.read
    say(f"residents: {summary.read:,} read, {summary.created:,} created, "
        f"{summary.updated:,} updated, {summary.unchanged:,} unchanged, {summary.rejected:,} rejected "
        f"({summary.read / max(report.seconds['residents'], 1e-9):,.0f} rows/s)")

    vehicles_csv = work / f"vehicles-{scale.vehicles}.csv"
    _write_vehicles(vehicles_csv, heads, scale.vehicles)
    started = time.monotonic()
    summary = import_vehicles(vehicles_csv, rejects_path=work / "vehicles-rejects.csv",
                              progress=progress)
    report.seconds["vehicles"] = time.monotonic() - started
    say(f"vehicles: {summary.read:,} read, {summary.created:,} created, "
        f"{summary.rejected:,} rejected ({report.seconds['vehicles']:.1f} s)")

    started = time.monotonic()
    report.counts["wardens"] = _wardens(compounds, scale.wardens)
    report.seconds["wardens"] = time.monotonic() - started
    say(f"wardens: {report.counts['wardens']:,} new ({report.seconds['wardens']:.1f} s)")
    report.counts["residents"] = Resident.objects.count()
    report.counts["vehicles"] = Vehicle.objects.count()
    with connection.cursor() as cursor:  # fresh statistics for the planner after a million rows
        cursor.execute("ANALYZE")
    return report


def _areas(scale: CityScale) -> list[str]:
    """Sub-districts, communities and compounds under 包头市's districts; compound codes."""
    districts = CITIES[BAOTOU]
    rng = random.Random("louzhang-city-areas")
    per_district = [scale.compounds // len(districts)] * len(districts)
    for i in range(scale.compounds - sum(per_district)):
        per_district[i] += 1
    levels: list[list[tuple[str, str, Level, str, int]]] = [[], [], []]
    compounds = []
    for (district, district_name), count in zip(districts, per_district, strict=True):
        for k in range(count):
            sub = f"{district}{200 + k // 40:03d}"  # 200…: clear of the small demo's 001
            community = f"{sub}{1 + (k % 40) // 4:03d}"
            compound = f"{community}{1 + k % 4:03d}"
            levels[0].append((sub, f"{district_name}第{k // 40 + 1}街道", Level.SUBDISTRICT, district, k // 40))
            levels[1].append((community, f"第{(k % 40) // 4 + 1}社区", Level.COMMUNITY, sub, (k % 40) // 4))
            name = f"{rng.choice(COMPOUND_WORDS)}{rng.choice(COMPOUND_KINDS)}{k + 1}期"
            levels[2].append((compound, name, Level.COMPOUND, community, k % 4))
            compounds.append(compound)
    for level in levels:
        wanted = {code: (name, lvl, parent, ordinal) for code, name, lvl, parent, ordinal in level}
        known = ids_by_code(wanted)
        parents = {p.code: p for p in Area.objects.filter(code__in={v[2] for v in wanted.values()})}
        rows = [
            (code, name, lvl, parents[parent].pk, build_path(parents[parent], code), ordinal)
            for code, (name, lvl, parent, ordinal) in wanted.items() if code not in known
        ]
        with transaction.atomic():
            insert(Area, ["code", "name", "level", "parent_id", "path", "ordinal"], rows)
    return compounds


def _households(compounds: list[str]) -> Iterator[tuple[str, int, int, int]]:
    for compound in compounds:
        for building in range(1, BUILDINGS + 1):
            for unit in range(1, UNITS + 1):
                for floor in range(1, FLOORS + 1):
                    for door in (1, 2):
                        yield compound, building, unit, floor * 100 + door


def _write_residents(path: Path, compounds: list[str], count: int) -> list[tuple[str, str]]:
    """Write the residents CSV (unless it is there already); return (ID number, compound) of
    heads of household, the owners of the cars."""
    rng = random.Random("louzhang-city-residents")
    households = list(_households(compounds))
    # the small demo city's people keep their numbers: never generate one of theirs
    demo_ids = {p.id_number for p in build_demo_city().residents}
    heads: list[tuple[str, str]] = []
    sizes = [1, 1, 1, 2, 2, 3]  # about 1.4 people per household on average at this scale
    assigned = 0
    rows = []
    district_of = {c: c[:6] for c in compounds}
    for index, (compound, building, unit, room) in enumerate(households):
        remaining = count - assigned
        if remaining <= 0:
            break
        left = len(households) - index
        size = min(remaining, max(1, rng.choice(sizes) if remaining > left else 1))
        for member in range(size):
            person = assigned
            assigned += 1
            gender = "M" if person % 2 else "F"
            born = date(1935, 1, 1) + timedelta(days=person % 30_000)
            seq = (person // 30_000) * 2 + (1 if gender == "M" else 0)
            id_number = make_id_number(district_of[compound], born, seq)
            while id_number in demo_ids:  # above every sequence the city itself uses
                seq += 200
                id_number = make_id_number(district_of[compound], born, seq)
            given = GIVEN_M if gender == "M" else GIVEN_F
            name = rng.choice(SURNAMES) + rng.choice(given) + (rng.choice(given) if person % 3 else "")
            phone = f"1{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
            residency = "常住" if person % 10 < 8 else ("租户" if person % 10 == 8 else "暂住")
            rows.append((name, "男" if gender == "M" else "女", id_number, phone, compound,
                         building, unit, room, residency))
            if member == 0:
                heads.append((id_number, compound))
    if not path.exists():
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["姓名", "性别", "身份证号", "手机号", "小区", "楼号", "单元", "门牌号", "人员类型"])
            writer.writerows(rows)
    return heads


def _write_vehicles(path: Path, heads: list[tuple[str, str]], count: int) -> None:
    if path.exists():
        return
    rng = random.Random("louzhang-city-vehicles")
    taken = set(Vehicle.objects.values_list("plate", flat=True))
    owners = rng.sample(heads, min(count, len(heads)))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["车牌号", "车辆类型", "车主身份证号", "小区"])
        serial = 0
        for id_number, compound in owners:
            while True:
                n, serial = serial, serial + 1
                tail = ""
                for _ in range(4):
                    n, digit = divmod(n, len(SERIAL))
                    tail = SERIAL[digit] + tail
                plate = f"蒙B{PLATE_FIRST[n % len(PLATE_FIRST)]}{tail}"
                if plate not in taken:
                    break
            writer.writerow([plate, rng.choice(["小型轿车", "SUV", "面包车", "货车"]), id_number, compound])


def _wardens(compounds: list[str], count: int) -> int:
    """`count` wardens sharing the buildings of the compounds (about 7 buildings each)."""
    prefix = "bt-warden-"
    existing = set(User.objects.filter(username__startswith=prefix).values_list("username", flat=True))
    buildings = list(
        Area.objects.filter(level=Level.BUILDING, parent__code__in=compounds).order_by("path")
        .values_list("id", flat=True)
    )
    if not buildings:
        return 0
    unusable = make_password(None)
    rng = random.Random("louzhang-city-wardens")
    new_users = [
        User(username=f"{prefix}{i:04d}", display_name=rng.choice(SURNAMES) + rng.choice(GIVEN_M),
             password=unusable)
        for i in range(count) if f"{prefix}{i:04d}" not in existing
    ]
    with transaction.atomic():
        User.objects.bulk_create(new_users, batch_size=1000)
        users = dict(User.objects.filter(username__in=[u.username for u in new_users])
                     .values_list("username", "id"))
        grants = []
        for i in range(count):
            user_id = users.get(f"{prefix}{i:04d}")
            if user_id is None:
                continue
            share = buildings[i * len(buildings) // count:(i + 1) * len(buildings) // count]
            grants += [Grant(user_id=user_id, role=Role.WARDEN, area_id=b) for b in share]
        Grant.objects.bulk_create(grants, batch_size=5000)
    return len(new_users)
