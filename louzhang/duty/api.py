"""`GET /api/v1/on-post?area=<code>`: officers and officers on post (在岗率) of the police units
answering for an area, as far as the token's user commands them."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from louzhang.duty.selectors import OnPost, access_command_area, on_post_rate

router = Router(tags=["people on post"])


class OnPostItemOut(Schema):
    area: str = Field(description="code of the child area (for a city: a district) or of the police unit")
    name: str
    kind: str = Field(description="area, or the police unit's kind: station, branch, bureau, brigade")
    officers: int
    on_post: int
    rate: float = Field(description="on_post / officers (0 when there are none)")
    recalled: int = Field(description="recalls still waiting: recalled officers not back on post yet")
    overdue: int = Field(description="of those, past their due time")


class OnPostOut(Schema):
    area: str
    officers: int
    on_post: int
    rate: float
    recalled: int
    overdue: int
    items: list[OnPostItemOut]


@router.get("/on-post", response=OnPostOut)
def get_on_post(request: HttpRequest, area: str) -> dict[str, object]:
    """The on-post rate of an area: one item per child station (for a district or below) or
    per child area (for a city). Counts only the units the user commands; an area outside the
    user's commander grants is a 404, exactly as one that does not exist."""
    user = request.auth  # type: ignore[attr-defined]
    found: OnPost = on_post_rate(user, access_command_area(user, area))
    return {
        "area": found.area.code, "officers": found.count.officers, "on_post": found.count.on_post,
        "rate": found.count.rate, "recalled": found.count.recalled, "overdue": found.count.overdue,
        "items": [{"area": i.code, "name": i.name, "kind": i.kind, "officers": i.count.officers,
                   "on_post": i.count.on_post, "rate": i.count.rate, "recalled": i.count.recalled,
                   "overdue": i.count.overdue} for i in found.items],
    }
