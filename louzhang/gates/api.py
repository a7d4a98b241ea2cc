"""Device API of the gates: `POST /api/v1/gate-checks`, `GET /api/v1/gates?compound=`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema

from louzhang.access.jurisdiction import scope
from louzhang.core.ingest import batch_body, records_of, results_response
from louzhang.gates.models import Gate
from louzhang.gates.services import MAX_BATCH, GateCheckIn, gate_checks_ingest

router = Router(tags=["gates"])


class GateCheckResultOut(Schema):
    index: int
    status: str = Field(description="created, duplicate or rejected")
    id: int | None
    errors: list[dict[str, Any]] = Field(description='why it was rejected: `{"loc": ["at"], "msg": ...}`')
    alerts: list[str]


class GateCheckResults(Schema):
    results: list[GateCheckResultOut]


@router.post("/gate-checks", response=GateCheckResults, openapi_extra=batch_body(GateCheckIn, MAX_BATCH))
def post_gate_checks(request: HttpRequest) -> HttpResponse:
    """One gate record, or `{"records": [...]}` with up to 1,000. Each record is answered on its
    own (`created`, `duplicate` for a `client_id` this device sent before, `rejected` with
    errors); valid records are kept when others are rejected. `alerts` names the rules fired."""
    records = records_of(request, MAX_BATCH)
    results = gate_checks_ingest(user=request.auth, records=records)
    return results_response([r.as_dict() for r in results])


class GateOut(Schema):
    code: str
    name: str
    area: str


class GatesOut(Schema):
    items: list[GateOut]


@router.get("/gates", response=GatesOut)
def list_gates(request: HttpRequest, compound: str | None = None) -> dict[str, Any]:
    """The gates of the compounds in the token user's jurisdiction (of one, with `compound=`),
    so a device learns its codes."""
    gates = scope(Gate.objects.select_related("compound"), request.auth)
    if compound:
        gates = gates.filter(compound__code=compound)
    return {"items": [{"code": g.code, "name": g.name, "area": g.compound.code} for g in gates]}
