"""`GET /api/v1/areas`: the tree, as far as the token's user may see it."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from louzhang.access.areas import access_area, area_children, area_roots
from louzhang.areas.models import Area, Level
from louzhang.core.ingest import MAX_OFFSET

router = Router(tags=["areas"])


class AreaPageIn(LimitOffsetPagination.Input):
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class Pages(LimitOffsetPagination):
    """`limit` and `offset`, the offset bounded (one past 2^63 is not a database error)."""

    Input = AreaPageIn  # type: ignore[assignment]


class AreaOut(Schema):
    code: str
    name: str
    level: str = Field(description="city, district, subdistrict, community, compound, building, unit, household")
    parent: str | None = Field(None, description="code of the parent area")

    @staticmethod
    def resolve_level(obj: Area) -> str:
        return Level(obj.level).slug

    @staticmethod
    def resolve_parent(obj: Area) -> str | None:
        return obj.parent.code if obj.parent_id else None


@router.get("/areas", response=list[AreaOut])
@paginate(Pages)
def list_areas(request: HttpRequest, parent: str | None = None):  # type: ignore[no-untyped-def]
    """Children of `parent` (an area code); without it, where the user's jurisdiction starts.

    An area outside the jurisdiction is a 404, exactly as one that does not exist.
    """
    if parent is None:
        return area_roots(request.auth).select_related("parent")
    return area_children(request.auth, access_area(request.auth, parent)).select_related("parent")


@router.get("/areas/{code}", response=AreaOut)
def get_area(request: HttpRequest, code: str) -> Area:
    """One area the user may navigate to."""
    return access_area(request.auth, code)
