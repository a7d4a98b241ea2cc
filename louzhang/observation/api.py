"""Device API of home observation (居家观察): `POST /api/v1/observations`,
`POST /api/v1/observations/{id}/check-ins`, `GET /api/v1/observations?area=`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from louzhang.access.areas import access_area
from louzhang.access.masking import present
from louzhang.core.ingest import MAX_OFFSET, Id, batch_body, records_of, results_response
from louzhang.observation.devices import (
    MAX_BATCH,
    CheckInIn,
    ObservationIn,
    check_ins_ingest,
    observations_ingest,
)
from louzhang.observation.selectors import StatusFilter, observations_in

router = Router(tags=["observation"])


class ObservationResultOut(Schema):
    index: int
    status: str = Field(description="created, duplicate or rejected")
    id: int | None = Field(description="the observation: stored now, stored before, or already open")
    errors: list[dict[str, Any]] = Field(
        description='why it was rejected: `{"loc": ["person", "id_number"], "msg": ...}`')
    alerts: list[str]
    added: bool = Field(description="the person was added to the registry")
    note: str = Field(description="for a person already under observation: that observation, in words")


class ObservationResults(Schema):
    results: list[ObservationResultOut]


@router.post("/observations", response=ObservationResults, openapi_extra=batch_body(ObservationIn, MAX_BATCH))
def post_observations(request: HttpRequest) -> HttpResponse:
    """One observation, or `{"records": [...]}` with up to 200, from a warden's, health
    liaison's or commander's token (another role: 403): `{"client_id", "household", "person":
    {"id_number", "name", "phone"}, "reason", "last_exposure"}`, optionally `"exposure_region"`
    and `"days"` (1–28; default 14 from the last exposure). Each record is stored in its own
    transaction and answered on its own:

    - `created` with the observation's `id`;
    - `duplicate` with the stored observation's id for a `client_id` this user sent before;
    - `duplicate` with the open observation's id, and a `note`, for a person already under home
      observation (or proposed for it) in the user's area — a person is never observed twice,
      and nothing of the record is stored (a resend is answered the same);
    - `rejected` with errors naming the field: a household outside the user's area, a person
      who cannot be matched or added (`["person", "id_number"]`: several registered people have
      this name and phone, or one not registered came without an ID number), a last exposure in
      the future or too long ago, a person under observation outside the user's area.

    The person is matched by ID number, else by name and phone (a single registered candidate
    in the compound is taken); one not registered is added to the household (`added`)."""
    records = records_of(request, MAX_BATCH)
    results = observations_ingest(user=request.auth, records=records)  # type: ignore[attr-defined]
    return results_response([r.as_dict() for r in results])


class CheckInResultOut(Schema):
    index: int
    status: str = Field(description="created, duplicate or rejected")
    id: int | None
    errors: list[dict[str, Any]]
    alerts: list[str] = Field(description="rules fired: `check_in_fever` (a fever or a symptom)")
    followups: list[int] = Field(description="follow-ups opened (the health liaison's)")


class CheckInResults(Schema):
    results: list[CheckInResultOut]


@router.post("/observations/{observation_id}/check-ins", response=CheckInResults,
             openapi_extra=batch_body(CheckInIn, MAX_BATCH))
def post_check_ins(request: HttpRequest, observation_id: Id) -> HttpResponse:
    """One check-in, or `{"records": [...]}` with up to 200: `{"client_id", "at",
    "temperature": 36.6, "symptoms": []}` (symptoms: fever, cough, sore_throat, breathless,
    fatigue, diarrhoea, taste). A fever or a symptom fires `check_in_fever`: an urgent
    follow-up for the health liaison, the warden told. A `client_id` sent before for this
    observation is `duplicate`; a check-in of a closed observation, timed in the future or
    before the observation started is `rejected`. An observation outside the token user's
    jurisdiction is a 404, exactly as one that does not exist."""
    records = records_of(request, MAX_BATCH)
    results = check_ins_ingest(user=request.auth,  # type: ignore[attr-defined]
                               observation_id=observation_id, records=records)
    return results_response([r.as_dict() for r in results])


class PersonOut(Schema):
    name: str
    phone: str
    id_number: str


class ObservationOut(Schema):
    id: int
    household: str = Field(description="household code")
    person: PersonOut = Field(description="masked unless the role needs it in full")
    starts: date
    ends: date = Field(description="the last day: release is due on it")
    status: str = Field(description="proposed, active, released, hospital, moved, cancelled")
    last_check_in: datetime | None
    missed_check_ins: int


class ObservationsOut(Schema):
    items: list[ObservationOut]
    count: int = Field(description="all the observations found, not only this page")


class ListFilters(Schema):
    area: str | None = Field(None, description="an area code; without it, the whole jurisdiction")
    status: StatusFilter = Field(
        "active", description="active (default), released, proposed, hospital, moved, cancelled; "
        "open (proposed and active), all")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.get("/observations", response=ObservationsOut)
def list_observations(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    """Observations of the households in `area` the token user observes (warden, health
    liaison, commander), the last day first to come first, `limit` (≤ 500) from `offset`.
    Names, phones and ID numbers are masked unless the role needs them over the household (a
    warden or health liaison sees them in full, a commander names and phones); full views are
    audited. An area outside the jurisdiction is a 404."""
    user = request.auth  # type: ignore[attr-defined]
    area = access_area(user, filters.area) if filters.area else None
    found = observations_in(user, area, filters.status)
    page = list(found[filters.offset:filters.offset + filters.limit])
    paths = {id(o.resident): o.household.path for o in page}
    people = present(user, [o.resident for o in page], path_of=lambda r: paths[id(r)])
    return {
        "items": [{
            "id": o.pk, "household": o.household.code,
            "person": {"name": p["name"], "phone": p["phone"], "id_number": p["id_number"]},
            "starts": o.starts_on, "ends": o.ends_on, "status": o.status,
            "last_check_in": o.last_check_in_at, "missed_check_ins": o.missed_count,
        } for o, p in zip(page, people, strict=True)],
        "count": found.count() if len(page) == filters.limit or filters.offset else len(page),
    }
