"""The commanders' figures at city scale: the dashboard's reads from the daily roll-ups, beside the
naive aggregate over the raw records (milliseconds, p50 / p99), the 日报 and the roll-up's own cost.

    .venv/bin/python bench/stats.py --build --database-url postgres://postgres@127.0.0.1:5432/louzhang_bench_stats
    .venv/bin/python bench/stats.py --database-url postgres://…/louzhang_bench_stats   # reuse it
    .venv/bin/python bench/stats.py --build --var-dir /tmp/lz-stats                   # SQLite
    .venv/bin/python bench/stats.py --var-dir /tmp/lz-stats                           # reuse it

`--build` makes a fresh database (PostgreSQL: dropped and recreated; SQLite: a file under
`--var-dir`, which must be outside the repository) with the city-scale demo (`louzhang demo
--scale city`: 1,000,000 residents, 720,000 households), two gates per compound,
`--gate-records` gate records (10,000,000) spread evenly over the last `--days` days (30) up to
now, 0.1 % of them fevers, and `--visits` visits (500,000) over the same days, 1 % of them with
a returnee found; then rolls the days up (`rebuild`). Without `--build` the database named is
reused as it is (each step is skipped when its rows are there already, so an interrupted build
can be completed with `--build --keep`).

Records go in with plain bulk SQL, not through the services: on PostgreSQL `INSERT … SELECT`
over `generate_series` (gate records) and `COPY` (visits); on SQLite `executemany`.

Then, as the city commander, for the city (包头市) and for a district (东河区):

- (a) the dashboard's reads through `stats.selectors`: today's figures and yesterday's, the
  30-day series, the children's figures, the areas at risk — one by one and all together; and a
  whole-stack GET of the dashboard page `/dashboard/<code>/` when that page exists; target:
  under 300 ms;
- (c) beside them, the naive way: the same figures aggregated from the raw tables (today's gate
  checks and fevers per child area, joined to the area tree; households visited; the 30-day
  series of gate checks);
- (b) the 日报 of the city written to a file, when `stats.reporting` has a writer: target
  under 10 s;
- (d) the background cost: one `rollup_day(today)` and one `refresh()` (the worker's round,
  every `LOUZHANG_STATS_REFRESH_SECONDS`).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CITY, DISTRICT = "150200", "150202"  # 包头市, 东河区


def setup(args: argparse.Namespace) -> None:
    var = Path(args.var_dir).resolve()
    if not args.database_url and ROOT in var.parents:
        raise SystemExit(f"{var} is inside the repository: give --var-dir outside it")
    var.mkdir(parents=True, exist_ok=True)
    if args.build and not args.keep:
        from bench.common import _recreate_postgres

        if args.database_url:
            _recreate_postgres(args.database_url)
        else:
            for old in var.glob("*.sqlite3*"):
                old.unlink()
    os.environ["LOUZHANG_VAR_DIR"] = str(var)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "louzhang.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    import django

    django.setup()
    if args.build:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def step(label: str) -> Callable[[], None]:
    started = time.monotonic()
    print(f"{label} …", flush=True)
    return lambda: print(f"  {label}: {time.monotonic() - started:.0f} s", flush=True)


# --- building the data ----------------------------------------------------------------------


def build(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from louzhang.registry.models import Resident

    if Resident.objects.count() < args.residents:
        done = step("the small demo city (louzhang demo)")
        call_command("demo", verbosity=0)
        done()
        city(args)
    gate_ids = gates()
    gate_records(args, gate_ids)
    visits(args)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    from louzhang.stats.models import AreaDay
    from louzhang.stats.rollup import rebuild
    from louzhang.stats.selectors import today

    last = today()
    first = last - timedelta(days=args.days - 1)
    if AreaDay.objects.filter(day=first).exists() and AreaDay.objects.filter(day=last).exists():
        return
    done = step(f"roll-up of {args.days} days (rebuild)")
    rebuild(first, last)
    done()


def _bulk(model: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Rows into `model`'s table: `COPY` on PostgreSQL, `executemany` on SQLite."""
    from django.db import connection, transaction

    table = connection.ops.quote_name(model._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608
                               f"({', '.join(['%s'] * len(columns))})", rows)


def city(args: argparse.Namespace) -> None:
    """The city-scale demo's areas (`demo.city_scale`: 1,000 compounds of 30 buildings, 2 units,
    6 floors, 2 households a floor: 720,000 households) and `--residents` residents, written
    straight into the tables. `louzhang demo --scale city` builds the same through the
    residents' import, which on this shared 2-core machine under load ran at a few hundred rows
    a second: it would not finish in the time of a benchmark."""
    from django.utils import timezone

    from louzhang.areas.models import Area, Level
    from louzhang.demo.city_scale import BUILDINGS, FLOORS, UNITS, CityScale, _areas
    from louzhang.registry.models import Resident

    done = step("city-scale areas and households")
    compounds = _areas(CityScale(residents=args.residents))
    columns = ["code", "name", "level", "parent_id", "path", "ordinal"]
    parents = dict(Area.objects.filter(code__in=compounds).values_list("code", "path"))
    ids = dict(Area.objects.filter(code__in=compounds).values_list("code", "id"))
    for level, shape in ((Level.BUILDING, range(1, BUILDINGS + 1)), (Level.UNIT, range(1, UNITS + 1)),
                         (Level.HOUSEHOLD, [f * 100 + d for f in range(1, FLOORS + 1) for d in (1, 2)])):
        rows, paths = [], {}
        for parent, parent_path in parents.items():
            for ordinal, n in enumerate(shape):
                code = f"{parent}-{n:04d}" if level == Level.HOUSEHOLD else f"{parent}-{n}"
                name = {Level.BUILDING: f"{n}号楼", Level.UNIT: f"{n}单元"}.get(level, f"{n}室")
                path = f"{parent_path}{code}/"
                rows.append((code, name, int(level), ids[parent], path, ordinal))
                paths[code] = path
        _bulk(Area, columns, rows)
        ids = dict(Area.objects.filter(level=level, code__in=list(paths)).values_list("code", "id"))
        parents = paths
        print(f"  {len(rows):,} {Level(level).label}", flush=True)
    households = sorted(ids.values())
    done()
    done = step(f"{args.residents:,} residents")
    now = timezone.now()
    rows = []
    for n in range(args.residents):
        household = households[n * len(households) // args.residents]
        first = n == 0 or households[(n - 1) * len(households) // args.residents] != household
        rows.append((f"居民{n}", "M" if n % 2 else "F", date(1940, 1, 1) + timedelta(days=n % 25_000),
                     f"BENCH{n:013d}", f"139{n:08d}", household, "permanent", first, "", "", now, now))
        if len(rows) == 200_000:
            _bulk(Resident, ["name", "gender", "birth_date", "id_number", "phone", "household_id",
                             "residency", "is_head", "note", "care_tags", "created_at", "updated_at"], rows)
            rows = []
    _bulk(Resident, ["name", "gender", "birth_date", "id_number", "phone", "household_id",
                     "residency", "is_head", "note", "care_tags", "created_at", "updated_at"], rows)
    done()


def gates() -> list[int]:
    """Two gates per compound of the city-scale demo."""
    from louzhang.areas.models import Area, Level
    from louzhang.gates.models import Gate

    have = list(Gate.objects.filter(code__startswith="bench-").values_list("pk", flat=True))
    if have:
        return have
    compounds = Area.objects.filter(level=Level.COMPOUND, path__startswith=Area.objects.get(code=CITY).path)
    Gate.objects.bulk_create([Gate(code=f"bench-{c.code}-{k}", name=f"{k}号门", compound=c)
                              for c in compounds for k in (1, 2)], batch_size=2000)
    return list(Gate.objects.filter(code__startswith="bench-").values_list("pk", flat=True))


def gate_records(args: argparse.Namespace, gate_ids: list[int]) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from louzhang.accounts.models import User
    from louzhang.gates.models import GateRecord

    existing = GateRecord.objects.filter(gate_id__in=gate_ids[:1]).exists() and GateRecord.objects.count()
    if existing and existing >= args.gate_records:
        return
    GateRecord.objects.filter(client_id__startswith="bench-").delete()
    guard = User.objects.get(username="gate").pk
    now = timezone.now()
    span = timedelta(days=args.days - 1) + (now - timezone.make_aware(
        datetime.combine(timezone.localdate(now), datetime.min.time())))
    total, chunk = args.gate_records, 1_000_000
    done = step(f"{total:,} gate records over {args.days} days")
    table = connection.ops.quote_name(GateRecord._meta.db_table)
    columns = ("gate_id, client_id, recorded_by_id, direction, at, temperature, method, household_id, "
               "visitor_name, visitor_phone, visitor_id_number, visitor_reason, visiting, created_at")
    if connection.vendor == "postgresql":
        for start in range(0, total, chunk):
            with transaction.atomic(), connection.cursor() as cursor:
                # g spreads evenly from `now - span` (n = 0) to `now`; 0.1 % fevers (37.8 °C)
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) "  # noqa: S608
                    "SELECT (%(gates)s::bigint[])[1 + (g * 7919) %% %(ngates)s], 'bench-' || g, %(guard)s, "
                    "CASE WHEN g %% 2 = 0 THEN 'in' ELSE 'out' END, "
                    "%(now)s::timestamptz - %(span)s::interval * (1 - g::float8 / %(total)s), "
                    "CASE WHEN g %% 1000 = 7 THEN 37.8 ELSE 36.0 + (g %% 11) / 10.0 END, 'forehead', NULL, "
                    "'', '', '', '', '', %(now)s "
                    "FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g",
                    {"gates": gate_ids, "ngates": len(gate_ids), "guard": guard, "now": now,
                     "span": span, "total": total, "first": start, "last": min(start + chunk, total) - 1},
                )
            print(f"  {min(start + chunk, total):,}", flush=True)
    else:
        from decimal import Decimal

        temps = [Decimal(f"36.{k}") if k < 10 else Decimal("37.0") for k in range(11)]
        fever = Decimal("37.8")
        for start in range(0, total, chunk):
            rows = [
                (gate_ids[(g * 7919) % len(gate_ids)], f"bench-{g}", guard, "in" if g % 2 == 0 else "out",
                 now - span * (1 - g / total), fever if g % 1000 == 7 else temps[g % 11], "forehead", None,
                 "", "", "", "", "", now)
                for g in range(start, min(start + chunk, total))
            ]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                                   "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
            print(f"  {min(start + chunk, total):,}", flush=True)
    done()


def visits(args: argparse.Namespace) -> None:
    """`--visits` visits over the days, one in a hundred finding a returnee of the household."""
    from django.db import transaction
    from django.utils import timezone

    from louzhang.accounts.models import User
    from louzhang.areas.models import Area, Level
    from louzhang.registry.models import Resident
    from louzhang.screening.models import Finding, Visit

    if Visit.objects.filter(client_id__startswith="bench-").count() >= args.visits:
        return
    Visit.objects.filter(client_id__startswith="bench-").delete()
    done = step(f"{args.visits:,} visits")
    warden = User.objects.get(username="commander").pk
    city = Area.objects.get(code=CITY)
    households = list(Area.objects.filter(level=Level.HOUSEHOLD, path__startswith=city.path)
                      .values_list("id", flat=True))
    members = dict(Resident.objects.filter(household_id__in=households[::50]).values_list("household_id", "id"))
    rng = random.Random(2020)
    now = timezone.now()
    first = timezone.localdate(now) - timedelta(days=args.days - 1)
    modes = ["in_person", "in_person", "phone", "wechat", "nobody_home"]
    rows: list[tuple[Any, ...]] = []
    finding_of: dict[str, int] = {}
    for n in range(args.visits):
        day = first + timedelta(days=rng.randrange(args.days))
        at = timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(
            minutes=8 * 60 + rng.randrange(12 * 60))
        if at > now:
            at = now - timedelta(minutes=rng.randrange(1, 8 * 60))
        if n % 100 == 0 and members:
            household = rng.choice(list(members))
            finding_of[f"bench-{n}"] = members[household]
            mode = "in_person"
        else:
            household = households[rng.randrange(len(households))]
            mode = rng.choice(modes)
        rows.append((household, warden, f"bench-{n}", at, mode, "", now))
    _bulk(Visit, ["household_id", "visited_by_id", "client_id", "at", "mode", "note", "created_at"], rows)
    with transaction.atomic():
        visit_ids = dict(Visit.objects.filter(client_id__in=list(finding_of)).values_list("client_id", "id"))
        Finding.objects.bulk_create([
            Finding(visit_id=visit_ids[client_id], resident_id=resident, key_region="武汉市",
                    returned_on=first)
            for client_id, resident in finding_of.items()], batch_size=2000)
    done()


# --- measuring ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", action="store_true", help="a fresh database with the data built here")
    parser.add_argument("--keep", action="store_true", help="with --build: complete the database, do not recreate it")
    parser.add_argument("--var-dir", default=str(Path(tempfile.gettempdir()) / "lz-bench-stats"))
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--gate-records", type=int, default=10_000_000)
    parser.add_argument("--visits", type=int, default=500_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    setup(args)
    if args.build:
        build(args)
    measure(args)


def measure(args: argparse.Namespace) -> None:
    import gc
    import io

    from django.db import connection
    from django.db.models import Count, Q, Value
    from django.db.models.functions import StrIndex, Substr, TruncDate
    from django.test import Client
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone, translation

    from louzhang.accounts.models import User
    from louzhang.areas.models import Area, Level
    from louzhang.core.thresholds import fever_threshold
    from louzhang.gates.models import GateRecord
    from louzhang.registry.models import Resident
    from louzhang.screening.models import Visit
    from louzhang.stats import selectors as s
    from louzhang.stats.models import AreaDay
    from louzhang.stats.rollup import day_bounds, refresh, rollup_day

    commander = User.objects.get(username="commander")
    today = s.today()
    yesterday = today - timedelta(days=1)
    first = today - timedelta(days=args.days - 1)
    fever = fever_threshold()
    tz = timezone.get_current_timezone()
    print(f"database: {connection.vendor}; gate records {GateRecord.objects.count():,}, "
          f"households {Area.objects.filter(level=Level.HOUSEHOLD).count():,}, residents "
          f"{Resident.objects.count():,}, visits {Visit.objects.count():,}; roll-up rows "
          f"{AreaDay.objects.count():,} ({args.days} days); p50 / p99 ms of {args.repeat} runs "
          f"(naive: {max(args.repeat // 5, 3)} runs)", flush=True)
    rollup_day(yesterday)  # as the code of this checkout counts (the others were rolled up at --build)
    rollup_day(today)
    print(f"{'measure':<62}{'p50 ms':>10}{'p99 ms':>10}   {'naive p50':>12}{'p99':>10}{'ratio':>10}")

    def naive_day(place: s.Place, day: date) -> dict[str, int]:
        """Gate checks, fevers and households visited of the place's day, from the raw records."""
        start, end = day_bounds(day)
        gates = GateRecord.objects.filter(gate__compound__path__startswith=place.paths[0], at__gte=start,
                                          at__lt=end).aggregate(n=Count("pk"), f=Count("pk", filter=Q(
                                              temperature__gte=fever)))
        visited = (Visit.objects.filter(household__path__startswith=place.paths[0], at__gte=start, at__lt=end)
                   .exclude(mode="nobody_home").aggregate(n=Count("household_id", distinct=True)))
        return {"gate_checks": gates["n"], "fevers": gates["f"], "households_visited": visited["n"]}

    def naive_series(place: s.Place) -> list[Any]:
        start, end = day_bounds(first)[0], day_bounds(today)[1]
        return list(GateRecord.objects.filter(gate__compound__path__startswith=place.paths[0], at__gte=start,
                                              at__lt=end)
                    .annotate(d=TruncDate("at", tzinfo=tz)).values("d")
                    .annotate(n=Count("pk"), f=Count("pk", filter=Q(temperature__gte=fever))).order_by("d"))

    def naive_children(place: s.Place) -> list[Any]:
        start, end = day_bounds(today)
        cut = len(place.paths[0]) + 1
        path = "gate__compound__path"
        child = Substr(path, cut, StrIndex(Substr(path, cut), Value("/")) - 1)
        return list(GateRecord.objects.filter(gate__compound__path__startswith=place.paths[0], at__gte=start,
                                              at__lt=end)
                    .annotate(child=child).values("child")
                    .annotate(n=Count("pk"), f=Count("pk", filter=Q(temperature__gte=fever))))

    def naive_risk(place: s.Place) -> list[Any]:
        start, end = day_bounds(today)
        return list(GateRecord.objects.filter(gate__compound__path__startswith=place.paths[0], at__gte=start,
                                              at__lt=end, temperature__gte=fever)
                    .values("gate__compound_id").annotate(n=Count("pk")).order_by("-n")[:10])

    client = Client()
    client.force_login(commander, backend="django.contrib.auth.backends.ModelBackend")
    from louzhang.accounts.services import token_create

    _, token = token_create(user=commander, name="bench-stats")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    api.handler = client.handler
    try:
        reverse("dashboard", args=[CITY])
        has_dashboard = True
    except NoReverseMatch:
        has_dashboard = False

    table: list[tuple[str, tuple[float, float] | None, tuple[float, float] | None]] = []
    slow = max(args.repeat // 5, 3)
    for code in (CITY, DISTRICT):
        place = s.place_for(commander, code)
        label = place.name
        # the roll-up agrees with the raw records (the figures the naive queries count)
        got = s.figures(place, today)
        raw = naive_day(place, today)
        assert all(got[k] == v for k, v in raw.items()), (got, raw)

        def dashboard_reads(place: s.Place = place) -> object:
            p = s.place_for(commander, place.key)
            return (s.figures(p, today), s.figures(p, yesterday), s.series(p, first, today),
                    s.figures_of_many(s.children(p), today), s.at_risk(p, today, 10))

        def naive_all(place: s.Place = place) -> object:
            return (naive_day(place, today), naive_day(place, yesterday), naive_series(place),
                    naive_children(place), naive_risk(place))

        rows: list[tuple[str, Callable[[], object], Callable[[], object] | None]] = [
            ("today and yesterday", lambda p=place: (s.figures(p, today), s.figures(p, yesterday)),
             lambda p=place: (naive_day(p, today), naive_day(p, yesterday))),
            (f"series of {args.days} days", lambda p=place: s.series(p, first, today), lambda p=place: naive_series(p)),
            ("children breakdown", lambda p=place: s.figures_of_many(s.children(p), today),
             lambda p=place: naive_children(p)),
            ("at risk (top 10)", lambda p=place: s.at_risk(p, today, 10), lambda p=place: naive_risk(p)),
            ("all the dashboard's reads", dashboard_reads, naive_all),
            ("GET /api/v1/stats?days=30 (whole stack)",
             lambda c=code: _ok(api.get("/api/v1/stats", {"area": c, "days": args.days})), None),
        ]
        if has_dashboard:
            rows.append(("GET /dashboard/<code>/ (whole stack)",
                         lambda c=code: _ok(client.get(reverse("dashboard", args=[c]))), None))
        gc.collect()
        for name, measured, baseline in rows:
            for _ in range(3):
                measured()
            result = timed(measured, args.repeat)
            naive = timed(baseline, slow) if baseline else None
            table.append((f"{label}: {name}", result, naive))
            _print_row(table[-1])
    if not has_dashboard:
        print("(no dashboard page /dashboard/<code>/ in this checkout: its GET is not measured)")

    # (b) the 日报 of the city
    try:
        from louzhang.stats.reporting import report_build, report_write
    except ImportError:
        print("(no 日报 writer in stats.reporting: not measured)")
    else:
        city = s.place_for(commander, CITY)

        def daily_report() -> object:
            target = io.BytesIO()
            with translation.override("zh-hans"):
                report_write(target, report_build(city, today))
            return target

        table.append(("包头市 日报 (report_build + report_write, XLSX)", timed(daily_report, 3), None))
        _print_row(table[-1])

    # (d) the background cost
    table.append(("rollup_day(today)", timed(lambda: rollup_day(today), 3), None))
    _print_row(table[-1])
    table.append(("refresh() (the worker's round)", timed(lambda: refresh(), 3), None))
    _print_row(table[-1])


def _ok(response: Any) -> Any:
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return response


def _print_row(row: tuple[str, tuple[float, float] | None, tuple[float, float] | None]) -> None:
    label, (p50, p99), naive = row[0], row[1] or (0.0, 0.0), row[2]
    beside = f"{naive[0]:>12.1f}{naive[1]:>10.1f}{naive[0] / max(p50, 1e-9):>9.0f}x" if naive else ""
    print(f"{label:<62}{p50:>10.1f}{p99:>10.1f}   {beside}", flush=True)


if __name__ == "__main__":
    main()
