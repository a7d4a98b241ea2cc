"""Device API of door-to-door screening: `POST /api/v1/visits` (走访)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema

from louzhang.core.ingest import batch_body, records_of, results_response
from louzhang.screening.services import VisitIn, visits_ingest

router = Router(tags=["screening"])

#: visits per request: each may match and add people, open observations and fire rules, so a
#: batch is smaller than the gates' 1,000
MAX_BATCH = 200


class VisitResultOut(Schema):
    index: int
    status: str = Field(description="created, duplicate or rejected")
    id: int | None = Field(description="the stored visit (for a duplicate: the one stored before)")
    errors: list[dict[str, Any]] = Field(
        description='why it was rejected: `{"loc": ["people", 0, "id_number"], "msg": ...}`')
    alerts: list[str] = Field(description="rules fired: `visit_symptoms`, `household_unreached`")
    observations: list[int] = Field(description="home observations the findings opened or proposed")
    added: list[int] = Field(description="residents added to the registry at this visit")


class VisitResults(Schema):
    results: list[VisitResultOut]


@router.post("/visits", response=VisitResults, openapi_extra=batch_body(VisitIn, MAX_BATCH))
def post_visits(request: HttpRequest) -> HttpResponse:
    """One visit, or `{"records": [...]}` with up to 200, from a warden's or commander's token or
    log-in session (another role: 403). Each visit is stored whole or not at all and answered on its own:
    `created`; `duplicate` with the stored visit's id for a `client_id` this user sent before
    (nothing is stored twice; `observations` and `added` are then empty); `rejected` with errors
    naming the field — a household outside the user's area ("no household with this code in
    your area"), a person who cannot be matched or added (`["people", 0, "id_number"]`).

    A person is named by `resident` — the id of a member of the household, as `GET
    /api/v1/offline` lists them (its masked ID number cannot be sent back); an id that is not a
    member of this household rejects the visit (`["people", 0, "resident"]`) — or matched by ID
    number, else by name and phone (a single registered candidate in the compound is taken,
    several are an error); one not registered is added to the household (`added`: their ids)
    when the ID number is given. A returnee from a key region (武汉市) is
    put under home observation, or proposed for it, and a contact of a case proposed:
    `observations` lists them (one already under observation: that observation)."""
    records = records_of(request, MAX_BATCH)
    results = visits_ingest(user=request.auth, records=records)  # type: ignore[attr-defined]
    return results_response([r.as_dict() for r in results])
