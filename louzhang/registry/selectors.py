"""Reading the registry, always through the user's jurisdiction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from louzhang.access.areas import area_children, area_roots, areas_ancestors
from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.access.masking import Presented, present
from louzhang.areas.models import Area, Level
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone
from louzhang.identifiers.plates import Plate, parse_plate
from louzhang.registry.addresses import parse_address
from louzhang.registry.models import Resident, Vehicle


@dataclass
class VehicleView:
    vehicle: Vehicle
    plate: Plate
    owner_name: str
    owner_phone: str
    owner_registered: bool
    #: the owner's household when the user's jurisdiction covers it (its page may be opened),
    #: else None: a warden who only reaches the compound sees which compound, not which flat
    household: Area | None = None


def _registered_vehicle(user: Any, plate: Plate) -> Vehicle | None:
    """The registered car with this plate if its home compound is in the user's jurisdiction or
    on the way to it; None for missing and forbidden alike. One query (the owner's household,
    its unit, building and compound, read with it)."""
    vehicle = (
        Vehicle.objects.select_related("compound", "owner__household__parent__parent__parent")
        .filter(plate=plate.plate).first()
    )
    if vehicle is None or not jurisdiction_for(user).navigable(vehicle.compound.path):
        return None
    return vehicle


def vehicle_registered_for(user: Any, plate: Plate) -> bool:
    """Whether the user may open the registered car with this plate (see `access_vehicle`);
    nothing personal is read, so nothing is audited."""
    path = Vehicle.objects.filter(plate=plate.plate).values_list("compound__path", flat=True).first()
    return path is not None and jurisdiction_for(user).navigable(path)


def access_vehicle(user: Any, raw_plate: str) -> VehicleView:
    """A registered car, if its home compound is in the user's jurisdiction or on the way to it
    (a warden of building 7 answering a tip about a car under building 34 of the same compound).
    The owner's name and phone are masked unless the user's role needs them over the owner's
    household. Missing and forbidden are the same 404. A malformed plate raises IdentifierError."""
    plate = parse_plate(raw_plate)
    vehicle = _registered_vehicle(user, plate)
    if vehicle is None:
        raise Http404("no such vehicle in your jurisdiction")
    household = None
    if vehicle.owner is not None:
        owner = vehicle.owner
        shown = present(user, [owner], path_of=lambda r: r.household.path)[0]
        name, phone = shown["name"], shown["phone"]
        if jurisdiction_for(user).covers(owner.household.path):
            household = owner.household
    else:
        shown = present(user, [vehicle], path_of=lambda v: v.compound.path)[0]
        name, phone = shown["owner_name"], shown["owner_phone"]
    return VehicleView(vehicle, plate, name, phone, vehicle.owner_id is not None, household)


def household_vehicles(household: Area, members: Sequence[Presented]) -> list[VehicleView]:
    """The cars owned by these members of `household` (as `household_members` found them for
    the user and `present` showed them): the owner's name and phone exactly as the members
    list shows them, so the page masks and audits them once. One query."""
    shown = {m.obj.pk: m for m in members}
    if not shown:
        return []
    cars = Vehicle.objects.filter(owner__in=list(shown)).order_by("plate")
    views = []
    for car in cars:
        try:
            plate = parse_plate(car.plate)
        except IdentifierError:  # a plate stored before plates were checked: shown as it is
            plate = Plate(plate=car.plate, kind="", province="", city="", division_code="")
        owner = shown[car.owner_id]
        views.append(VehicleView(car, plate, owner["name"], owner["phone"], True, household))
    return views


def find_residents(user: Any, query: str, limit: int = 50) -> list[Resident]:
    """Residents in the user's jurisdiction whose ID number, phone or name is exactly `query`
    (ID numbers and phones in any common spelling). Exact matches only: each is one index look-up
    however large the city."""
    query = query.strip()
    if not query:
        return []
    conditions = Q(name=query)
    try:
        conditions |= Q(id_number=parse_id_number(query).number)
    except IdentifierError:
        pass
    try:
        conditions |= Q(phone=normalise_phone(query))
    except IdentifierError:
        pass
    found = scope(Resident.objects.filter(conditions), user).select_related("household")
    return list(found.order_by("household__path")[:limit])


@dataclass
class AreaSummary:
    area: Area
    households: int
    residents: int | None


def area_summaries(user: Any, areas: list[Area]) -> list[AreaSummary]:
    """Household (and, from compounds down, resident) counts within the user's jurisdiction.

    Two queries whatever the number of areas: one conditional count per area in each.
    """
    if not areas:
        return []
    jurisdiction = jurisdiction_for(user)
    within = Q()
    for area in areas:
        within |= Q(path__subtree=area.path)
    households = Area.objects.filter(within, level=Level.HOUSEHOLD).filter(jurisdiction.q())
    household_counts = households.aggregate(
        **{f"a{i}": Count("pk", filter=Q(path__subtree=a.path)) for i, a in enumerate(areas)}
    )
    small = [(i, a) for i, a in enumerate(areas) if a.level >= Level.COMPOUND]
    resident_counts: dict[str, int] = {}
    if small:
        residents = Resident.objects.filter(household__in=households)
        resident_counts = residents.aggregate(
            **{f"a{i}": Count("pk", filter=Q(household__path__subtree=a.path)) for i, a in small}
        )
    return [
        AreaSummary(
            area=area,
            households=household_counts[f"a{i}"],
            residents=resident_counts.get(f"a{i}") if area.level >= Level.COMPOUND else None,
        )
        for i, area in enumerate(areas)
    ]


def household_members(user: Any, household: Area) -> QuerySet[Resident]:
    return scope(Resident.objects.filter(household=household), user).order_by("-is_head", "birth_date")


@dataclass
class HomeSection:
    """One block of a user's home page: a place, and what under it is theirs."""

    heading: Area
    crumbs: list[Area]
    items: list[AreaSummary]


def home_sections(user: Any) -> list[HomeSection]:
    """A warden's compounds with their buildings; a commander's area with its parts.

    Grants on buildings, units or households are grouped under their compound; grants on
    larger areas are shown with their children.
    """
    roots = list(area_roots(user))
    compound_paths = {area.area_path.ancestor(Level.COMPOUND) for area in roots if area.level > Level.COMPOUND}
    compounds = {a.path: a for a in Area.objects.filter(path__in=compound_paths)}
    grouped: dict[str, tuple[Area, list[Area]]] = {}
    for area in roots:
        if area.level > Level.COMPOUND:
            heading = compounds[area.area_path.ancestor(Level.COMPOUND)]
            grouped.setdefault(heading.path, (heading, []))[1].append(area)
        else:
            children = list(area_children(user, area)) if area.level < Level.HOUSEHOLD else []
            grouped.setdefault(area.path, (area, []))[1].extend(children)
    # crumbs and counts of every section at once: a warden of five compounds reads no more
    crumbs = areas_ancestors([heading for heading, _items in grouped.values()])
    summaries = {s.area.pk: s for s in area_summaries(user, [a for _h, items in grouped.values() for a in items])}
    sections = []
    for heading, items in grouped.values():
        items.sort(key=lambda a: (a.level, a.ordinal, a.code))
        sections.append(HomeSection(heading=heading, crumbs=crumbs[heading.path],
                                    items=[summaries[a.pk] for a in items]))
    return sections


def household_at(compound: Area, address: str) -> Area | None:
    """The household of `compound` at `address` (34号楼二单元6楼西户, or 34-2-602), as the
    residents' import names it; None if the compound has no such household. Raises
    `IdentifierError` for an address that cannot be read."""
    parsed = parse_address(address)
    code = f"{compound.code}-{parsed.building}-{parsed.unit}-{parsed.local_code}"
    return Area.objects.filter(code=code, level=Level.HOUSEHOLD, path__startswith=compound.path) \
        .select_related("parent__parent").first()
