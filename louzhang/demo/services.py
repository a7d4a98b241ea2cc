"""Loading the demo city into the database (idempotent)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction

from louzhang.accounts.models import Grant, User
from louzhang.areas.models import Area, Level, PoliceUnit, build_path
from louzhang.checkpoints.models import Checkpoint
from louzhang.demo.city import DemoCity, build_demo_city
from louzhang.demo.disinfection import demo_disinfection
from louzhang.demo.duty import demo_duty
from louzhang.demo.notices import demo_notices
from louzhang.demo.rosters import demo_rosters
from louzhang.demo.screening import load_screening
from louzhang.demo.stats import demo_stats
from louzhang.demo.tips import demo_tips
from louzhang.registry.models import Resident, Vehicle


@dataclass
class DemoResult:
    created: dict[str, int] = field(default_factory=dict)
    #: username -> password of the demo log-ins ("" if its password was changed since)
    logins: dict[str, str] = field(default_factory=dict)
    created_usernames: set[str] = field(default_factory=set)
    roles: dict[str, str] = field(default_factory=dict)


def credentials_file() -> Path:
    return Path(settings.VAR_DIR) / "demo_logins.json"


def demo_load(city: DemoCity | None = None, *, history: bool = False) -> DemoResult:
    """Insert whatever of the demo city is missing; never duplicates, never overwrites. With
    `history` (`louzhang demo`), two weeks of past records and their figures for the dashboard
    (`demo.stats`); the tests' seed goes without them."""
    city = city or build_demo_city()
    result = DemoResult()
    with transaction.atomic():
        result.created["areas"] = _load_areas(city)
        result.created["police_units"] = _load_police(city)
        result.created["checkpoints"] = _load_checkpoint(city)
        result.created["residents"] = _load_residents(city)
        result.created["vehicles"] = _load_vehicles(city)
        result.created_usernames = _load_users(city)
        result.created["users"] = len(result.created_usernames)
        result.created["lead_wardens"] = _load_leads(city)
        result.created["gates"], result.created["passes"] = _load_gates(city)
        result.created["visits"] = load_screening()
        result.created["notices"] = demo_notices()
        result.created["tips"] = demo_tips()
        result.created["officers"] = demo_duty()
        result.created["rosters"] = demo_rosters()
        result.created["disinfection"] = demo_disinfection()
    if history:
        result.created["history"] = demo_stats()
    result.logins = _demo_passwords(city, created_now=result.created_usernames)
    result.roles = {u.username: u.role for u in city.users if u.login}
    return result


def _load_areas(city: DemoCity) -> int:
    before = Area.objects.count()
    by_code: dict[str, Area] = {a.code: a for a in Area.objects.filter(code__in=[s.code for s in city.areas])}
    for level in sorted({s.level for s in city.areas}):
        batch = []
        for spec in (s for s in city.areas if s.level == level):
            if spec.code in by_code:
                continue
            parent = by_code[spec.parent] if spec.parent else None
            batch.append(Area(code=spec.code, name=spec.name, level=spec.level, parent=parent,
                              path=build_path(parent, spec.code), ordinal=spec.ordinal))
        Area.objects.bulk_create(batch, batch_size=1000)
        by_code.update({a.code: a for a in Area.objects.filter(level=level, code__in=[b.code for b in batch])})
    return Area.objects.count() - before


def _load_police(city: DemoCity) -> int:
    created = 0
    areas = {a.code: a for a in Area.objects.filter(code__in=[u.area for u in city.police])}
    for spec in city.police:
        parent = PoliceUnit.objects.get(code=spec.parent) if spec.parent else None
        unit, was_created = PoliceUnit.objects.get_or_create(
            code=spec.code,
            defaults={"name": spec.name, "kind": spec.kind, "parent": parent, "area": areas[spec.area]},
        )
        if was_created:
            created += 1
            unit.communities.set(Area.objects.filter(code__in=spec.communities))
    return created


def _load_checkpoint(city: DemoCity) -> int:
    spec = city.checkpoint
    _, created = Checkpoint.objects.get_or_create(
        code=spec["code"],
        defaults={"name": spec["name"], "road": spec["road"],
                  "area": Area.objects.get(code=spec["area"]),
                  "operating_unit": PoliceUnit.objects.get(code=spec["operating_unit"])},
    )
    return int(created)


def _load_residents(city: DemoCity) -> int:
    before = Resident.objects.count()
    households = dict(
        Area.objects.filter(code__in={p.household for p in city.residents}).values_list("code", "id")
    )
    Resident.objects.bulk_create(
        [
            Resident(name=p.name, gender=p.gender, birth_date=p.birth_date, id_number=p.id_number,
                     phone=p.phone, household_id=households[p.household], residency=p.residency,
                     is_head=p.is_head, care_tags=p.care_tags)
            for p in city.residents
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return Resident.objects.count() - before


def _load_vehicles(city: DemoCity) -> int:
    before = Vehicle.objects.count()
    owners = dict(Resident.objects.filter(
        id_number__in=[v.owner_id_number for v in city.vehicles]).values_list("id_number", "id"))
    compounds = dict(Area.objects.filter(code__in={v.compound for v in city.vehicles}).values_list("code", "id"))
    known = set(Vehicle.objects.filter(plate__in=[v.plate for v in city.vehicles]).values_list("plate", flat=True))
    new = [v for v in city.vehicles if v.plate not in known]
    Vehicle.objects.bulk_create([
        Vehicle(plate=v.plate, vehicle_type=v.vehicle_type, owner_id=owners[v.owner_id_number],
                compound_id=compounds[v.compound]) for v in new
    ])
    for v in new:  # registered_at is set on creation; the demo's cars were registered years ago
        Vehicle.objects.filter(plate=v.plate).update(
            registered_at=datetime(v.registered_year, 3, 1, tzinfo=UTC))
    return Vehicle.objects.count() - before


def _load_gates(city: DemoCity) -> tuple[int, int]:
    """东门 and 西门 for every compound of the demo city, and a pass for every household."""
    from louzhang.gates.models import Gate
    from louzhang.gates.services import passes_issue

    gates = 0
    for spec in (a for a in city.areas if a.level == Level.COMPOUND):
        compound = Area.objects.get(code=spec.code)
        for suffix, name in (("E", "东门"), ("W", "西门")):
            _, created = Gate.objects.get_or_create(code=f"{spec.code}-{suffix}",
                                                    defaults={"name": name, "compound": compound})
            gates += created
    households = list(Area.objects.filter(level=Level.HOUSEHOLD,
                                          code__in=[a.code for a in city.areas if a.level == Level.HOUSEHOLD]))
    return gates, passes_issue(households=households)


def _load_leads(city: DemoCity) -> int:
    """The lead wardens (牵头楼长) the station commanders named: 郝志东 for 保利百合."""
    from louzhang.accounts.models import LeadWarden

    created = 0
    for code, username in city.leads.items():
        compound = Area.objects.filter(code=code, level=Level.COMPOUND).first()
        user = User.objects.filter(username=username).first()
        if compound is not None and user is not None:
            created += LeadWarden.objects.get_or_create(compound=compound, defaults={"user": user})[1]
    return created


def _load_users(city: DemoCity) -> set[str]:
    created: set[str] = set()
    areas = {a.code: a for a in Area.objects.all().filter(code__in=[c for u in city.users for c in u.scopes])}
    units = {u.code: u for u in PoliceUnit.objects.all()}
    for spec in city.users:
        user, was_created = User.objects.get_or_create(
            username=spec.username,
            defaults={"display_name": spec.display_name, "phone": spec.phone,
                      "police_unit": units.get(spec.police_unit) if spec.police_unit else None},
        )
        if was_created:
            created.add(spec.username)
            user.set_unusable_password()
            user.save(update_fields=["password"])
            for code in spec.scopes:
                if code in areas:
                    Grant.objects.create(user=user, role=spec.role, area=areas[code])
                else:
                    Grant.objects.create(user=user, role=spec.role, police_unit=units[code])
    return created


def _demo_passwords(city: DemoCity, *, created_now: set[str]) -> dict[str, str]:
    """Passwords of the demo log-ins: made when the user is created and kept under var/ (mode 600).

    An existing account is never given a new password: if its password is no longer the one on
    file (an operator changed it), it is reported as "" rather than reset.
    """
    path = credentials_file()
    known: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    logins: dict[str, str] = {}
    changed = False
    for spec in city.users:
        if not spec.login:
            continue
        user = User.objects.get(username=spec.username)
        if spec.username in created_now:
            password = f"lz-{secrets.token_urlsafe(9)}"
            user.set_password(password)
            user.save(update_fields=["password"])
            known[spec.username] = password
            changed = True
        password = known.get(spec.username, "")
        logins[spec.username] = password if password and user.check_password(password) else ""
    if changed:
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(known, handle, ensure_ascii=False, indent=1)
        tmp.replace(path)
    return logins
