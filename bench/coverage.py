"""Screening coverage of a district at city scale (p50/p99 ms), beside the naive aggregate over
the raw visits.

    .venv/bin/python bench/coverage.py --build                      # fresh SQLite, city built here (~2 min)
    .venv/bin/python bench/coverage.py --build --database-url postgres://postgres@127.0.0.1:5432/lz_bench
    .venv/bin/python bench/coverage.py --var-dir var                # an installation that has the city

The city-scale demo (1,000,000 residents, 720,000 households in 包头市's nine districts), a round
over the whole city and `--visits` visits (500,000) spread over its households: most reached
in person, by phone or WeChat, 15 % nobody home, a few returnees, people with symptoms and care
needs. The visits and the round's per-household rows (`RoundHousehold`) are written with plain
INSERTs in the shape `visit_record` writes them (recording 500,000 visits one by one through
the service would take an hour and measure the wrong thing).

Then, for every district as the city commander, times:

- `coverage()` — what the round page shows: households, reached, nobody home, not visited and
  people found, per child area, from the per-household rows;
- the baseline: the same reached counts computed the naive way, straight from the visits
  (COUNT(DISTINCT household) over the district's visits, grouped by child area);

and once per district `coverage_by_warden()`. Target: coverage of a district under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import timed  # noqa: E402


def setup(args: argparse.Namespace) -> None:
    if args.build:
        from bench.common import fresh_database

        fresh_database(args.database_url, "lz-coverage-")
        from django.core.management import call_command

        started = time.monotonic()
        call_command("demo", "--scale", "city", "--residents", str(args.residents), verbosity=0)
        print(f"city built in {time.monotonic() - started:.0f} s")
        return
    os.environ["LOUZHANG_VAR_DIR"] = str(Path(args.var_dir).resolve())
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "louzhang.settings"
    import django

    django.setup()


def make_round(visits: int) -> object:
    from django.db import connection, transaction
    from django.utils import timezone

    from louzhang.accounts.models import User
    from louzhang.areas.models import Area, Level
    from louzhang.core.paths import AreaPath
    from louzhang.core.sql import insert
    from louzhang.screening.models import Round, RoundHousehold, RoundUnit, Visit

    name = f"bench {visits}"
    existing = Round.objects.filter(name=name).first()
    if existing is not None:
        return existing
    commander = User.objects.get(username="commander")
    city = Area.objects.get(code="150200")
    start = timezone.localdate() - timedelta(days=10)
    round_ = Round.objects.create(name=name, area=city, starts_on=start, opened_by=commander)
    households = list(Area.objects.filter(level=Level.HOUSEHOLD, path__startswith=city.path)
                      .values_list("id", "path", "parent_id"))
    rng = random.Random(2020)
    started = time.monotonic()
    rows = []
    seen: dict[int, list[object]] = {}
    now = timezone.now()
    for n in range(visits):
        household_id, path, unit_id = households[rng.randrange(len(households))]
        day = start + timedelta(days=rng.randrange(10))
        at = timezone.make_aware(datetime.combine(day, dtime(8 + rng.randrange(12), rng.randrange(60))))
        mode = "nobody_home" if rng.random() < 0.15 else rng.choice(["in_person", "in_person", "phone", "wechat"])
        rows.append((household_id, commander.pk, f"bench-{n}", at, mode, "", now))
        row = seen.setdefault(household_id, [round_.pk, household_id, path, 0, 0, None, at, None, 0, 0, 0, 0, unit_id])
        row[3] += 1  # type: ignore[operator]
        if mode == "nobody_home":
            row[4] += 1  # type: ignore[operator]
        else:
            if row[5] is None or day < row[5]:  # type: ignore[operator]
                row[5], row[7] = day, commander.pk
            row[8] = max(row[8], int(rng.random() < 0.01))  # type: ignore[call-overload]
            row[9] = max(row[9], int(rng.random() < 0.002))  # type: ignore[call-overload]
            row[11] = max(row[11], int(rng.random() < 0.05))  # type: ignore[call-overload]
        if at > row[6]:  # type: ignore[operator]
            row[6] = at
    for i in range(0, len(rows), 5000):
        with transaction.atomic():
            insert(Visit, ["household_id", "visited_by_id", "client_id", "at", "mode", "note", "created_at"],
                   rows[i:i + 5000])
    counted = [tuple(r) for r in seen.values()]
    for i in range(0, len(counted), 5000):
        with transaction.atomic():
            insert(RoundHousehold, ["round_id", "household_id", "path", "visits", "nobody_home", "reached_on",
                                    "last_visit_at", "reached_by_id", "returnees", "symptomatic", "contacts",
                                    "care", "unit_id"], counted[i:i + 5000])
    # and the units' sums, as every visit keeps them
    units: dict[int, list[object]] = {}
    for row in counted:
        household_path, unit_id = str(row[2]), int(row[12])  # type: ignore[call-overload]
        unit = units.setdefault(unit_id, [round_.pk, unit_id, AreaPath(household_path).ancestor(Level.UNIT),
                                          0, 0, 0, 0, 0, 0])
        if row[5] is not None:
            unit[3] += 1  # type: ignore[operator]
            for k in range(4):
                unit[5 + k] += row[8 + k]  # type: ignore[operator]
        else:
            unit[4] += 1  # type: ignore[operator]
    unit_rows = [tuple(u) for u in units.values()]
    for i in range(0, len(unit_rows), 5000):
        with transaction.atomic():
            insert(RoundUnit, ["round_id", "unit_id", "path", "reached", "nobody_home", "returnees",
                               "symptomatic", "contacts", "care"], unit_rows[i:i + 5000])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"round: {visits:,} visits over {len(households):,} households, {len(counted):,} households "
          f"seen ({time.monotonic() - started:.0f} s to write)")
    return round_


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", action="store_true", help="a fresh database with the city built here")
    parser.add_argument("--var-dir", default="var")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    setup(args)

    from django.db import connection
    from django.db.models import Count, Value
    from django.db.models.functions import StrIndex, Substr

    from louzhang.accounts.models import User
    from louzhang.areas.models import Area, Level
    from louzhang.screening.models import Visit
    from louzhang.screening.selectors import coverage, coverage_by_warden

    round_ = make_round(args.visits)
    commander = User.objects.get(username="commander")
    districts = list(Area.objects.filter(level=Level.DISTRICT, parent__code="150200").order_by("code"))

    def naive(district: Area) -> dict[str, int]:
        start = len(district.path) + 1
        child = Substr("household__path", start, StrIndex(Substr("household__path", start), Value("/")) - 1)
        # the round's visits (the small demo's own visits, in its own round, are left out)
        return dict(Visit.objects.filter(household__path__subtree=district.path, visited_by=commander,
                                         at__date__gte=round_.starts_on)  # type: ignore[attr-defined]
                    .exclude(mode="nobody_home").annotate(child=child).values("child")
                    .annotate(n=Count("household_id", distinct=True)).values_list("child", "n"))

    print(f"database: {connection.vendor}; {args.repeat} runs per district; milliseconds")
    print(f"{'district':<10} {'households':>10} {'reached':>8} | {'coverage p50':>12} {'p99':>7} | "
          f"{'naive p50':>10} {'p99':>7} | {'by warden':>9}")
    worst = 0.0
    for district in districts:
        total = coverage(commander, round_, district)  # type: ignore[arg-type]
        reached_naive = sum(naive(district).values())
        assert reached_naive == total.reached, (reached_naive, total.reached)
        p50, p99 = timed(lambda d=district: coverage(commander, round_, d), args.repeat)  # type: ignore[misc]
        n50, n99 = timed(lambda d=district: naive(d), max(args.repeat // 4, 3))  # type: ignore[misc]
        w50, _ = timed(lambda d=district: coverage_by_warden(commander, round_, d), 3)  # type: ignore[misc]
        worst = max(worst, p99)
        print(f"{district.name:<10} {total.households:>10,} {total.reached:>8,} | {p50:>12.1f} {p99:>7.1f} | "
              f"{n50:>10.1f} {n99:>7.1f} | {w50:>9.1f}")
    print(f"worst district p99: {worst:.1f} ms (target < 300 ms): {'met' if worst < 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
