"""Look-up latency at city scale (p50/p99, milliseconds), beside a bare indexed SELECT.

    .venv/bin/python -m louzhang demo --scale city          # once: 1 M residents (var/ or LOUZHANG_VAR_DIR)
    .venv/bin/python bench/lookups.py --var-dir var         # SQLite database of that installation
    .venv/bin/python bench/lookups.py --database-url postgres://…/db   # a PostgreSQL one with the city

Runs against an installation that holds the city-scale demo (it is not rebuilt here). Times, for
random residents and cars of the city:

- find a resident by ID number, by phone, by full name (`find_residents`, scoped, masked by the
  page's `present`) as the city commander and as the warden of the resident's building;
- `GET /api/v1/vehicles/{plate}` through the whole Django stack (in-process client: server time,
  no network), as the city commander; the registry's answer a vehicle tip shows
  (`vehicle_record`: the car, its owner masked and audited, its checkpoint history) and the car's
  page `/vehicles/{plate}/`;
- a household page `GET /areas/{household}/` as its warden;

each beside the same row fetched by a bare `SELECT … WHERE <unique key> = %s`.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--var-dir", default="var")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    os.environ["LOUZHANG_VAR_DIR"] = str(Path(args.var_dir).resolve())
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "louzhang.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from louzhang.access.masking import present
    from louzhang.accounts.models import Grant, Role, User
    from louzhang.accounts.services import token_create
    from louzhang.registry.models import Resident, Vehicle
    from louzhang.registry.selectors import find_residents

    total = Resident.objects.count()
    if total < 100_000:
        raise SystemExit(f"only {total:,} residents here: run `louzhang demo --scale city` first")
    rng = random.Random(7)
    max_id = Resident.objects.order_by("-id").values_list("id", flat=True).first() or 0
    people = list(Resident.objects.filter(id__in=[rng.randrange(1, max_id) for _ in range(args.repeat * 2)])
                  .select_related("household__parent__parent")[: args.repeat])
    plates = list(Vehicle.objects.filter(id__in=[rng.randrange(1, 300_000) for _ in range(args.repeat * 2)])
                  .values_list("plate", flat=True)[: args.repeat])
    commander = User.objects.get(username="commander")
    wardens = {g.area_id: g.user for g in Grant.objects.filter(
        role=Role.WARDEN, area_id__in={p.household.parent.parent_id for p in people}).select_related("user")}
    print(f"database: {connection.vendor}  residents: {total:,}  vehicles: {Vehicle.objects.count():,}  "
          f"samples: {len(people)}")

    def cycle(items: list) -> Callable[[], object]:
        it = itertools.cycle(items)
        return lambda: next(it)

    table = connection.ops.quote_name(Resident._meta.db_table)

    def bare(column: str, values: list[str]) -> Callable[[], object]:
        nxt = cycle(values)

        def run() -> object:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {table} WHERE {column} = %s", [nxt()])  # noqa: S608
                return cursor.fetchall()
        return run

    def found_by(user_of: Callable[[Resident], User], key: Callable[[Resident], str]) -> Callable[[], object]:
        nxt = cycle(people)

        def run() -> object:
            person = nxt()
            user = user_of(person)
            return present(user, find_residents(user, key(person)), path_of=lambda r: r.household.path)
        return run

    warden_of = lambda p: wardens.get(p.household.parent.parent_id, commander)  # noqa: E731
    rows = [
        ("resident by ID number, commander", found_by(lambda p: commander, lambda p: p.id_number),
         bare("id_number", [p.id_number for p in people])),
        ("resident by ID number, warden", found_by(warden_of, lambda p: p.id_number),
         bare("id_number", [p.id_number for p in people])),
        ("resident by phone, commander", found_by(lambda p: commander, lambda p: p.phone),
         bare("phone", [p.phone for p in people])),
        ("resident by full name, warden", found_by(warden_of, lambda p: p.name),
         bare("name", [p.name for p in people])),
    ]
    _, token = token_create(user=commander, name="bench")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    next_plate = cycle(plates)
    vehicles_table = connection.ops.quote_name(Vehicle._meta.db_table)

    def bare_plate() -> object:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {vehicles_table} WHERE plate = %s", [next_plate()])  # noqa: S608
            return cursor.fetchall()

    def api_plate() -> object:
        response = api.get(f"/api/v1/vehicles/{next_plate()}")
        assert response.status_code == 200, response.content
        return response

    rows.append(("GET /api/v1/vehicles/{plate} (whole stack)", api_plate, bare_plate))
    from louzhang.checkpoints.selectors import vehicle_record

    rows.append(("a tip's registry answer (vehicle_record)", lambda: vehicle_record(commander, next_plate()),
                 bare_plate))
    car_pages = Client()
    car_pages.handler = api.handler
    car_pages.force_login(commander, backend="django.contrib.auth.backends.ModelBackend")

    def car_page() -> object:
        response = car_pages.get(f"/vehicles/{next_plate()}/")
        assert response.status_code == 200, response.status_code
        return response

    rows.append(("car page /vehicles/{plate}/ (whole stack)", car_page, bare_plate))
    pages: dict[int, Client] = {}
    for person in people:  # logged in beforehand: a session per warden, as on their phones
        warden = warden_of(person)
        if warden.pk not in pages:
            pages[warden.pk] = Client()
            # one request handler for all, as in a server process (a test client's first request
            # otherwise loads the middleware, and WhiteNoise indexes every static file)
            pages[warden.pk].handler = api.handler
            pages[warden.pk].force_login(warden, backend="django.contrib.auth.backends.ModelBackend")
    next_person = cycle(people)

    def household_page() -> object:
        person = next_person()
        response = pages[warden_of(person).pk].get(f"/areas/{person.household.code}/")
        assert response.status_code == 200
        return response

    rows.append(("household page as its warden (whole stack)", household_page,
                 bare("household_id", [str(p.household_id) for p in people])))
    # the samples and clients above are long-lived: keep the collector from walking them on every
    # cycle (a server process does not hold them)
    gc.collect()
    gc.freeze()
    print(f"{'look-up':<46}{'p50 ms':>9}{'p99 ms':>9}   {'bare SELECT p50':>15}{'p99':>8}")
    for label, measured, baseline in rows:
        for fn in (measured, baseline):  # warm caches and connections
            for _ in range(20):
                fn()
        p50, p99 = timed(measured, args.repeat)
        b50, b99 = timed(baseline, args.repeat)
        print(f"{label:<46}{p50:>9.2f}{p99:>9.2f}   {b50:>15.2f}{b99:>8.2f}")


if __name__ == "__main__":
    main()
