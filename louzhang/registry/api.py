"""`GET /api/v1/vehicles/{plate}`: whose car is this, and has it left the city;
`GET /api/v1/residents?q=`: who is this, within the jurisdiction."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from louzhang.access.masking import present
from louzhang.identifiers import IdentifierError
from louzhang.registry.selectors import access_vehicle, find_residents

router = Router(tags=["registry"])


class PlateRegion(Schema):
    province: str
    city: str


class CompoundRef(Schema):
    code: str
    name: str


class OwnerOut(Schema):
    name: str
    phone: str
    registered_resident: bool
    residency: str | None


class SightingOut(Schema):
    at: datetime
    checkpoint: str
    origin: str
    disposition: str


class VehicleOut(Schema):
    plate: str
    plate_region: PlateRegion
    vehicle_type: str
    home_compound: CompoundRef
    owner: OwnerOut
    registered_since: datetime
    #: last known to have been outside the city (an inbound checkpoint inspection, or recorded)
    left_city_at: datetime | None
    #: the latest checkpoint inspections of this plate, newest first
    checkpoint_history: list[SightingOut]


@router.get("/vehicles/{plate}", response=VehicleOut)
def get_vehicle(request: HttpRequest, plate: str) -> dict[str, object]:
    """A registered vehicle by plate (any common spelling: 鄂A·12345, 鄂a 12345)."""
    try:
        view = access_vehicle(request.auth, plate)
    except IdentifierError as exc:
        raise HttpError(422, str(exc)) from None
    vehicle = view.vehicle
    return {
        "plate": vehicle.plate,
        "plate_region": {"province": view.plate.province, "city": view.plate.city},
        "vehicle_type": vehicle.vehicle_type,
        "home_compound": {"code": vehicle.compound.code, "name": vehicle.compound.name},
        "owner": {
            "name": view.owner_name, "phone": view.owner_phone,
            "registered_resident": view.owner_registered,
            "residency": vehicle.owner.residency if vehicle.owner else None,
        },
        "registered_since": vehicle.registered_at,
        "left_city_at": vehicle.left_city_at,
        "checkpoint_history": [
            {"at": i.at, "checkpoint": i.checkpoint.name, "origin": i.origin, "disposition": i.disposition}
            for i in vehicle.inspections.select_related("checkpoint").order_by("-at")[:5]
        ],
    }


class ResidentOut(Schema):
    name: str
    gender: str
    id_number: str
    phone: str
    household: CompoundRef
    residency: str
    #: care tag codes, or ["***"] when the role does not see health information
    care_tags: list[str]


class ResidentsOut(Schema):
    items: list[ResidentOut]
    count: int


@router.get("/residents", response=ResidentsOut)
def search_residents(request: HttpRequest, q: str) -> dict[str, object]:
    """Residents of the jurisdiction whose ID number, phone or full name is exactly `q`
    (at most 50), masked as the role requires; full views are audited."""
    found = find_residents(request.auth, q[:50])
    shown = present(request.auth, found, path_of=lambda r: r.household.path)
    items = []
    for person in shown:
        resident = person.obj
        tags = person["care_tags"]
        items.append({
            "name": person["name"], "gender": resident.gender, "id_number": person["id_number"],
            "phone": person["phone"],
            "household": {"code": resident.household.code, "name": resident.household.name},
            "residency": resident.residency,
            "care_tags": [tags] if "*" in tags else [t for t in tags.split(",") if t],
        })
    return {"items": items, "count": len(items)}
