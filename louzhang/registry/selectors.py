"""Reading the registry, always through the user's jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.http import Http404

from louzhang.accounts.policy import present
from louzhang.areas.jurisdiction import jurisdiction_for, scope
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone
from louzhang.identifiers.plates import Plate, parse_plate
from louzhang.registry.models import Resident, Vehicle


@dataclass
class VehicleView:
    vehicle: Vehicle
    plate: Plate
    owner_name: str
    owner_phone: str
    owner_registered: bool


def access_vehicle(user: Any, raw_plate: str) -> VehicleView:
    """A registered car, if its home compound is in the user's jurisdiction or on the way to it
    (a warden of building 7 answering a tip about a car under building 34 of the same compound).
    The owner's name and phone are masked unless the user's role needs them over the owner's
    household. Missing and forbidden are the same 404. A malformed plate raises IdentifierError."""
    plate = parse_plate(raw_plate)
    vehicle = (
        Vehicle.objects.select_related("compound", "owner__household").filter(plate=plate.plate).first()
    )
    if vehicle is None or not jurisdiction_for(user).navigable(vehicle.compound.path):
        raise Http404("no such vehicle in your jurisdiction")
    if vehicle.owner is not None:
        owner = vehicle.owner
        shown = present(user, [owner], path_of=lambda r: r.household.path)[0]
        name, phone = shown["name"], shown["phone"]
    else:
        shown = present(user, [vehicle], path_of=lambda v: v.compound.path)[0]
        name, phone = shown["owner_name"], shown["owner_phone"]
    return VehicleView(vehicle, plate, name, phone, vehicle.owner_id is not None)


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
