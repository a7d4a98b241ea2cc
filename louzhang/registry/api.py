"""`GET /api/v1/vehicles/{plate}`: whose car is this, and has it left the city."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from louzhang.identifiers import IdentifierError
from louzhang.registry.selectors import access_vehicle

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


class VehicleOut(Schema):
    plate: str
    plate_region: PlateRegion
    vehicle_type: str
    home_compound: CompoundRef
    owner: OwnerOut
    registered_since: datetime
    left_city_at: datetime | None


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
    }
