"""`GET /api/v1/checkpoints` (the checkpoints in the token user's jurisdiction) and
`POST /api/v1/vehicle-checks` (inspections from checkpoint devices)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from louzhang.access.jurisdiction import scope
from louzhang.checkpoints.models import Checkpoint
from louzhang.checkpoints.services import MAX_BATCH, VehicleCheckIn, vehicle_checks_ingest
from louzhang.core.ingest import batch_body, records_of, results_response

router = Router(tags=["checkpoints"])


class CheckpointOut(Schema):
    code: str
    name: str
    area: str
    road: str
    round_the_clock: bool


class CheckpointsOut(Schema):
    items: list[CheckpointOut]


@router.get("/checkpoints", response=CheckpointsOut)
def list_checkpoints(request: HttpRequest) -> dict[str, Any]:
    found = scope(Checkpoint.objects.select_related("area"), request.auth)
    return {"items": [{"code": c.code, "name": c.name, "area": c.area.code, "road": c.road,
                       "round_the_clock": c.round_the_clock} for c in found]}


class InspectionResultOut(Schema):
    index: int
    status: str
    id: int | None
    errors: list[dict[str, Any]]
    alerts: list[str]
    plate_region: dict[str, str] | None
    key_region: bool
    registered_vehicle: bool
    followups: list[int]


class InspectionResults(Schema):
    results: list[InspectionResultOut]


@router.post("/vehicle-checks", response=InspectionResults, openapi_extra=batch_body(VehicleCheckIn, MAX_BATCH))
def post_vehicle_checks(request: HttpRequest) -> HttpResponse:
    """One inspection, or `{"records": [...]}` with up to 1,000; answered per record with the
    plate's issuing region, whether it is from a key region, whether the registry knows the car,
    and the follow-ups opened."""
    records = records_of(request, MAX_BATCH)
    return results_response([r.as_dict() for r in vehicle_checks_ingest(user=request.auth, records=records)])
