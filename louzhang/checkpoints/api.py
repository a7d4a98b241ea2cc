"""`GET /api/v1/checkpoints`: the checkpoints in the token user's jurisdiction."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from louzhang.areas.jurisdiction import scope
from louzhang.checkpoints.models import Checkpoint

router = Router(tags=["checkpoints"])


class CheckpointOut(Schema):
    code: str
    name: str
    area: str
    road: str
    round_the_clock: bool


class Items(Schema):
    items: list[CheckpointOut]


@router.get("/checkpoints", response=Items)
def list_checkpoints(request: HttpRequest) -> dict[str, Any]:
    found = scope(Checkpoint.objects.select_related("area"), request.auth)
    return {"items": [{"code": c.code, "name": c.name, "area": c.area.code, "road": c.road,
                       "round_the_clock": c.round_the_clock} for c in found]}
