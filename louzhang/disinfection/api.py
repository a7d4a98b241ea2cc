"""Device API of disinfection (消杀): `POST /api/v1/disinfections`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema

from louzhang.core.ingest import batch_body, records_of, results_response
from louzhang.disinfection.services import MAX_BATCH, DisinfectionIn, disinfections_ingest

router = Router(tags=["disinfection"])


class DisinfectionResultOut(Schema):
    index: int
    status: str = Field(description="created, duplicate or rejected")
    id: int | None = Field(description="the round: stored now, or stored before (duplicate)")
    errors: list[dict[str, Any]] = Field(
        description='why it was rejected: `{"loc": ["areas", 1], "msg": ...}`')
    alerts: list[str]


class DisinfectionResults(Schema):
    results: list[DisinfectionResultOut]


@router.post("/disinfections", response=DisinfectionResults, openapi_extra=batch_body(DisinfectionIn, MAX_BATCH))
def post_disinfections(request: HttpRequest) -> HttpResponse:
    """One round of a unit's disinfection, or `{"records": [...]}` with up to 200:
    `{"client_id", "unit": "<unit code>", "at": "2020-01-28T08:15:00+08:00", "areas":
    ["stairwell", "lift", "handles"], "agent": "84消毒液"}` (areas: stairwell, lift, handles,
    entrance, bins). Each record is answered on its own: `created`; `duplicate` for a
    `client_id` this user sent before (stored once); `rejected` with errors naming the field —
    a unit outside the token user's jurisdiction is an unknown unit, exactly like one that does
    not exist; an unknown area; a time without an offset or in the future. Valid records are
    kept when others are rejected. Wardens and commanders log for the units of their area, a
    unit representative for the units they are registered for. A round closes the unit's open
    "unit not disinfected" follow-up."""
    records = records_of(request, MAX_BATCH)
    results = disinfections_ingest(user=request.auth, records=records)  # type: ignore[attr-defined]
    return results_response([r.as_dict() for r in results])
