"""Jurisdiction at city scale: 1,000,000 households, subtree queries by indexed path.

    .venv/bin/python bench/jurisdiction.py                      # SQLite (temporary file)
    .venv/bin/python bench/jurisdiction.py --database-url postgres://postgres@127.0.0.1:5432/lz_bench
    .venv/bin/python bench/jurisdiction.py --households 200000  # smaller, quicker

Builds a synthetic tree (10 districts → 50 sub-districts → 200 communities → 1,000 compounds →
30,000 buildings → 60,000 units → households), then times, each beside a baseline in the same run:

- a district's household count through `path__subtree` vs the same count by a recursive CTE
  (the recursion the design avoids);
- a warden's scoped household count (8 buildings in 2 compounds) vs the same rows fetched by
  foreign keys with no jurisdiction logic;
- `access_area` (fetch + jurisdiction check) vs a bare fetch by code;
- the warden's and the district commander's whole home-page selector (counts per building /
  per sub-district) vs fetching the grants / one plain household count.

Prints p50/p99 in milliseconds. The PostgreSQL database named in the URL is dropped and recreated.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    fresh_database(args.database_url, "lz-bench-")
    from django.db import connection

    print(f"database: {connection.vendor}  households: {args.households:,}")
    t0 = time.perf_counter()
    warden, commander, district = _build(args.households)
    print(f"built tree in {time.perf_counter() - t0:.1f} s")
    with connection.cursor() as cursor:
        # statistics, as `louzhang init` does; on PostgreSQL also the visibility map that
        # autovacuum would build soon after a bulk load (index-only scans need it)
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    _measure(warden, commander, district, args.repeat)


def _build(households: int):  # type: ignore[no-untyped-def]
    from django.db import transaction

    from louzhang.accounts.models import Grant, User
    from louzhang.areas.models import Area, Level

    per_unit = max(1, households // 60_000)
    fan = [(Level.DISTRICT, 10), (Level.SUBDISTRICT, 5), (Level.COMMUNITY, 4), (Level.COMPOUND, 5),
           (Level.BUILDING, 30), (Level.UNIT, 2), (Level.HOUSEHOLD, per_unit)]
    with transaction.atomic():
        city = Area.objects.create(code="990000", name="基准市", level=Level.CITY, path="/990000/")
        parents = [(city.pk, city.code, city.path)]
        for level, n in fan:
            rows = []
            for pk, code, path in parents:
                for i in range(1, n + 1):
                    child = f"{code}-{i}" if level > Level.DISTRICT else f"99{i:02d}00"
                    rows.append(Area(code=child, name=f"{i}", level=level, parent_id=pk,
                                     path=path + child + "/", ordinal=i))
            for start in range(0, len(rows), 20_000):
                Area.objects.bulk_create(rows[start:start + 20_000], batch_size=5_000)
            if level < Level.HOUSEHOLD:
                parents = list(Area.objects.filter(level=level).values_list("pk", "code", "path"))
    district = Area.objects.get(code="990100")
    compounds = list(Area.objects.filter(level=Level.COMPOUND, path__subtree=district.path)[:2])
    buildings = [b for c in compounds for b in Area.objects.filter(parent=c).order_by("ordinal")[:4]]
    warden = User.objects.create(username="bench-warden")
    Grant.objects.bulk_create([Grant(user=warden, role="warden", area=b) for b in buildings])
    commander = User.objects.create(username="bench-commander")
    Grant.objects.create(user=commander, role="commander", area=district)
    return warden, commander, district


def _timed(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    result = fn()  # warm-up
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1], result


def _measure(warden, commander, district, repeat: int) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    from louzhang.access.areas import access_area
    from louzhang.access.jurisdiction import scope
    from louzhang.accounts.models import User
    from louzhang.areas.models import Area, Level
    from louzhang.registry.selectors import home_sections

    def fresh(user):  # type: ignore[no-untyped-def]
        return User.objects.get(pk=user.pk)  # no cached jurisdiction: measure the whole check

    building_ids = list(warden.grants.values_list("area_id", flat=True))
    some_household = Area.objects.filter(level=Level.HOUSEHOLD, parent__parent_id=building_ids[0]).first()
    recursive = """
        WITH RECURSIVE sub(id, level) AS (
            SELECT id, level FROM areas_area WHERE id = %s
            UNION ALL SELECT a.id, a.level FROM areas_area a JOIN sub ON a.parent_id = sub.id)
        SELECT count(*) FROM sub WHERE level = 8"""

    def cte_count() -> int:
        with connection.cursor() as cursor:
            cursor.execute(recursive, [district.pk])
            return cursor.fetchone()[0]

    cases = [
        ("district households: subtree", lambda: scope(Area.objects.filter(level=Level.HOUSEHOLD), fresh(commander)).count(),
         "baseline: recursive CTE", cte_count, max(repeat // 20, 5)),
        ("warden households: scope()", lambda: len(list(scope(Area.objects.filter(level=Level.HOUSEHOLD), fresh(warden)).values_list("pk", flat=True))),
         "baseline: FK join, no check", lambda: len(list(Area.objects.filter(level=Level.HOUSEHOLD, parent__parent_id__in=building_ids).values_list("pk", flat=True))), repeat),
        ("access_area(household)", lambda: access_area(fresh(warden), some_household.code).pk,
         "baseline: fetch by code", lambda: (fresh(warden), Area.objects.get(code=some_household.code).pk)[1], repeat),
        ("warden home_sections()", lambda: len(home_sections(fresh(warden))),
         "baseline: fetch grants only", lambda: len(list(fresh(warden).grants.select_related("area"))), max(repeat // 4, 5)),
        ("district commander home_sections()", lambda: sum(s.households for sec in home_sections(fresh(commander)) for s in sec.items),
         "baseline: one unscoped count", lambda: Area.objects.filter(level=Level.HOUSEHOLD, path__startswith=district.path).count(), max(repeat // 20, 5)),
    ]
    print(f"{'measure':<36}{'p50 ms':>9}{'p99 ms':>9}   {'baseline':<30}{'p50 ms':>9}{'p99 ms':>9}  result")
    for name, fn, base_name, base_fn, n in cases:
        p50, p99, result = _timed(fn, n)
        b50, b99, base_result = _timed(base_fn, n)
        print(f"{name:<36}{p50:>9.2f}{p99:>9.2f}   {base_name:<30}{b50:>9.2f}{b99:>9.2f}  {result} / {base_result}")


if __name__ == "__main__":
    main()
