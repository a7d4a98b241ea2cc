"""`POST /api/v1/tips` and `GET /api/v1/tips/{tracking_code}`: the resident's side for apps and
mini-programs. No token; limited per client address like the public form (the two share their
counters)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pydantic
from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.errors import Throttled, ValidationError

from louzhang.areas.models import Area, Level
from louzhang.core.ingest import RequiredWords, Text, Words
from louzhang.core.public import address_of, rate_wait
from louzhang.notifications.services import absolute_link
from louzhang.tips.models import Category, Source
from louzhang.tips.selectors import tip_tracked
from louzhang.tips.services import (
    TRACK_RATE_PER_ADDRESS,
    TipError,
    TipIn,
    building_of,
    tip_posts_wait,
    tip_receive,
)

router = Router(tags=["tips"])


class TipInSchema(Schema):
    content: RequiredWords = Field(..., max_length=4000, description="what was seen, in the reporter's words")
    compound: Text = Field(..., max_length=64, description="the compound's code (on its poster)")
    building: Words = Field("", max_length=20, description='the building ("34", "34号楼")')
    category: Literal["vehicle", "returnee", "fever", "gathering", "rumour", "other"] = "other"
    place: Words = Field("", max_length=200, description="where exactly (车库入口)")
    plate: Text = Field("", max_length=20, description="a plate, in any common spelling")
    contact_phone: Text = Field("", max_length=30, description="only the verifying warden sees it")


class Accepted(Schema):
    tracking_code: str
    #: the reporter's page of the tip
    url: str


class TrackedOut(Schema):
    status: str
    outcome: str
    category: str
    received_at: datetime
    closed_at: datetime | None


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError([{"loc": ["body", field], "msg": message, "type": "value_error"}])


@router.post("/tips", auth=None, response={202: Accepted}, summary="Send a tip (no token)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": TipInSchema.model_json_schema()}}}})
def post_tip(request: HttpRequest) -> Status[dict[str, str]]:
    """A resident's tip about a compound (or one of its buildings). Answers 202 with the code
    the reporter keeps; 422 naming the field that is wrong; 429 with `Retry-After` when too many
    came from one address."""
    try:
        body = TipInSchema.model_validate_json(request.body or b"null")
    except pydantic.ValidationError as exc:
        raise ValidationError([{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                               for e in exc.errors()]) from None
    compound = Area.objects.filter(code=body.compound.strip(), level=Level.COMPOUND).first()
    if compound is None:
        raise _invalid("compound", "no compound with this code")
    wait = tip_posts_wait(address_of(request), compound)
    if wait:
        raise Throttled(wait)
    area = (building_of(compound, body.building) if body.building.strip() else None) or compound
    place = body.place
    if body.building.strip() and area is compound:
        place = f"{body.building.strip()} {place}".strip()
    try:
        received = tip_receive(TipIn(area=area, content=body.content, category=Category(body.category),
                                     place=place, plate=body.plate, contact_phone=body.contact_phone),
                               source=Source.API)
    except TipError as exc:
        raise _invalid(exc.field or "body", exc.message) from None
    code = received.tip.tracking_code
    return Status(202, {"tracking_code": code, "url": absolute_link(reverse("tip-track-code", args=[code]))})


@router.get("/tips/{tracking_code}", auth=None, response=TrackedOut, summary="Follow a tip (no token)")
def get_tip(request: HttpRequest, tracking_code: str) -> dict[str, object]:
    """The status and, once closed, the outcome of a tip — nothing personal."""
    wait = rate_wait("tip-track", address_of(request), TRACK_RATE_PER_ADDRESS)
    if wait:
        raise Throttled(wait)
    tracked = tip_tracked(tracking_code)
    if tracked is None:
        raise Http404("no tip with this tracking code")
    return {"status": tracked.status, "outcome": tracked.outcome, "category": tracked.category,
            "received_at": tracked.received_at, "closed_at": tracked.closed_at}
