"""The city of the load test (`bench/load.py`): the small demo plus a generated Baotou-wide layer.

`build_city()` adds to a migrated database that holds the demo city:

- 1,000 compounds under 包头市's nine districts (`demo.city_scale._areas`), each with
  `BUILDINGS` buildings of 2 units, 6 floors, 2 households a floor (120 households a compound:
  120,000 households), one resident and one household pass (出入证) per household;
- two gates per compound: 2,000 gates;
- 4,500 wardens sharing the 5,000 buildings (`demo.city_scale._wardens`);
- three open follow-ups for each warden the load test acts as (their to-do list to close);
- device users for the gates and checkpoints over the whole city, and a channel (webhook) for
  the city bound to a local receiver, so the worker has deliveries to make.

Rows go in with plain batched INSERTs (`core.sql.insert`), not through the services: building
the city is not what is measured. Returns what the load generator needs (codes, tokens, session
cookies) as a JSON-ready dict.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

BUILDINGS, UNITS, FLOORS = 5, 2, 6
CITY = "150200"


def build_city(*, receiver_url: str, warden_sessions: int, commander_sessions: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from louzhang.accounts.models import Grant, Role, User
    from louzhang.accounts.services import token_create
    from louzhang.areas.models import Area, Level
    from louzhang.checkpoints.models import Checkpoint
    from louzhang.core.sql import insert
    from louzhang.demo.city_scale import CityScale, _areas, _wardens
    from louzhang.followups.models import FollowUp
    from louzhang.gates.models import Gate, HouseholdPass
    from louzhang.notifications.services import channel_add
    from louzhang.registry.models import Resident, Vehicle

    rng = random.Random("louzhang-load")
    compounds = _areas(CityScale(compounds=1_000))
    now = timezone.now()
    ids = dict(Area.objects.filter(code__in=compounds).values_list("code", "id"))
    parents = dict(Area.objects.filter(code__in=compounds).values_list("code", "path"))
    for level, shape in ((Level.BUILDING, range(1, BUILDINGS + 1)), (Level.UNIT, range(1, UNITS + 1)),
                         (Level.HOUSEHOLD, [f * 100 + d for f in range(1, FLOORS + 1) for d in (1, 2)])):
        rows, paths = [], {}
        for parent, parent_path in parents.items():
            for ordinal, n in enumerate(shape):
                code = f"{parent}-{n:04d}" if level == Level.HOUSEHOLD else f"{parent}-{n}"
                name = {Level.BUILDING: f"{n}号楼", Level.UNIT: f"{n}单元"}.get(level, f"{n}室")
                rows.append((code, name, int(level), ids[parent], f"{parent_path}{code}/", ordinal))
                paths[code] = f"{parent_path}{code}/"
        with transaction.atomic():
            for start in range(0, len(rows), 5000):
                insert(Area, ["code", "name", "level", "parent_id", "path", "ordinal"], rows[start:start + 5000])
        ids = dict(Area.objects.filter(level=level, code__in=list(paths)).values_list("code", "id"))
        parents = paths
    households = sorted(ids.items())
    pass_rows, resident_rows = [], []
    for n, (_code, household_id) in enumerate(households):
        pass_rows.append((f"L{n:07d}", household_id, now))
        resident_rows.append((f"居民{n}", "M" if n % 2 else "F", date(1950, 1, 1) + timedelta(days=n % 20_000),
                              f"LOAD{n:014d}", f"137{n:08d}", household_id, "permanent", True, "", "", now, now))
    with transaction.atomic():
        for start in range(0, len(pass_rows), 5000):
            insert(HouseholdPass, ["code", "household_id", "issued_at"], pass_rows[start:start + 5000])
            insert(Resident, ["name", "gender", "birth_date", "id_number", "phone", "household_id",
                              "residency", "is_head", "note", "care_tags", "created_at", "updated_at"],
                   resident_rows[start:start + 5000])
    passes_by_compound: dict[str, list[str]] = {}
    for (code, _household_id), (pass_code, _, _) in zip(households, pass_rows, strict=True):
        passes_by_compound.setdefault(code.split("-", 1)[0], []).append(pass_code)
    compound_objects = list(Area.objects.filter(code__in=compounds))
    Gate.objects.bulk_create([Gate(code=f"load-{c.code}-{k}", name=f"{k}号门", compound=c)
                              for c in compound_objects for k in (1, 2)], batch_size=2000)
    _wardens(compounds, 4_500)

    city = Area.objects.get(code=CITY)
    # checkpoints on the roads into the city's districts, one tablet each
    districts = list(Area.objects.filter(parent=city, level=Level.DISTRICT).order_by("code"))
    Checkpoint.objects.bulk_create([
        Checkpoint(code=f"LOAD-CP{n:02d}", name=f"{districts[n % len(districts)].name}{n + 1}号检查站",
                   area=districts[n % len(districts)]) for n in range(20)])
    gate_user = User.objects.create_user("load-gate", password=None)
    checkpoint_user = User.objects.create_user("load-checkpoint", password=None)
    Grant.objects.create(user=gate_user, role=Role.GATE, area=city)
    Grant.objects.create(user=checkpoint_user, role=Role.CHECKPOINT, area=city)
    commander = User.objects.get(username="commander")
    tokens = {name: token_create(user=user, name="load")[1]
              for name, user in (("gate", gate_user), ("checkpoint", checkpoint_user), ("commander", commander))}
    channel_add(actor=None, name="load", kind="webhook", url=receiver_url, area_code=CITY, secret="s")

    # the wardens the load test acts as, each with open follow-ups on their buildings
    grants = list(Grant.objects.filter(role=Role.WARDEN, user__username__startswith="bt-warden-")
                  .select_related("user", "area").order_by("user__username"))
    first_building: dict[int, Area] = {}
    for grant in grants:
        if grant.area is not None:
            first_building.setdefault(grant.user_id, grant.area)
    chosen = sorted(first_building, key=lambda _: rng.random())[:warden_sessions]
    users = {u.pk: u for u in User.objects.filter(pk__in=chosen)}
    followups = []
    for user_id in chosen:
        building = first_building[user_id]
        for k in range(3):
            followups.append(FollowUp(
                kind="task", rule="manual", subject_type="task", subject_id=f"load:{user_id}:{k}",
                area=building, summary="核查返包人员", action="上门核实并登记", owner_id=user_id,
                owner_role=Role.WARDEN, opened_at=now, due_at=now + timedelta(hours=4)))
    FollowUp.objects.bulk_create(followups, batch_size=2000)
    open_by_user: dict[int, list[int]] = {}
    for pk, owner in FollowUp.objects.filter(rule="manual", subject_id__startswith="load:").values_list("pk", "owner_id"):
        open_by_user.setdefault(owner, []).append(pk)
    # households: the first unit's of the warden's first building (codes as built above)
    wardens = []
    for user_id in chosen:
        building = first_building[user_id]
        wardens.append({
            "username": users[user_id].username,
            "cookie": _session(Client(), users[user_id]),
            "households": [f"{building.code}-1-{f * 100 + d:04d}" for f in range(1, FLOORS + 1) for d in (1, 2)],
            "followups": open_by_user.get(user_id, []),
        })
    commanders = []
    for user in (list(User.objects.filter(grants__role=Role.COMMANDER).distinct().order_by("username"))
                 [:commander_sessions]):
        client = Client()
        cookie = _session(client, user)
        response = client.get("/dashboard/")
        if response.status_code == 302 and "/dashboard/" in response["Location"]:
            commanders.append({"username": user.username, "cookie": cookie,
                               "dashboard": response["Location"]})
    connection.close()
    plates = list(Vehicle.objects.values_list("plate", flat=True)[:500])
    return {
        "gates": list(Gate.objects.filter(code__startswith="load-").values_list("code", flat=True)),
        # a gate scans the passes of its own compound's households
        "passes": passes_by_compound,
        "checkpoints": list(Checkpoint.objects.filter(code__startswith="LOAD-CP").values_list("code", flat=True)),
        "compounds": compounds,
        "plates": plates,
        "id_numbers": list(Resident.objects.values_list("id_number", flat=True)[:2000]),
        "tokens": tokens,
        "wardens": wardens,
        "commanders": commanders,
        "city": CITY,
    }


def _session(client: Any, user: Any) -> str:
    """A logged-in session's cookie value (a warden's phone, logged in before the morning)."""
    from django.conf import settings

    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)
