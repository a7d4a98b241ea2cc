"""Template pieces of disinfection that other pages use: the top bar's link to the
representative's one-tap page, the link from a compound's, building's or unit's page, and the
common areas in words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template
from django.urls import reverse

from louzhang.areas.models import Area, Level
from louzhang.disinfection.selectors import may_keep, may_reach, represents_anywhere
from louzhang.disinfection.services import areas_in_words

register = template.Library()

#: `{% if user|represents_units %}`: a unit representative (the top bar's 消杀 link)
register.filter("represents_units", represents_anywhere)


@register.filter
def area_labels(values: Sequence[str]) -> str:
    """["stairwell", "lift"] as 楼道、电梯."""
    return areas_in_words(values)


@register.inclusion_tag("disinfection/_area_link.html", takes_context=True)
def disinfection_area_link(context: template.Context, area: Area) -> dict[str, Any]:
    """On an area's page: today's disinfection of a compound or building, or a unit's
    representatives and rounds — for the wardens and commanders who keep them."""
    user = context["request"].user
    href = ""
    if area.level in (Level.COMPOUND, Level.BUILDING) and may_reach(user, area.path):
        href = f"{reverse('disinfection')}?area={area.code}"
    elif area.level == Level.UNIT and may_keep(user, area.path):
        href = reverse("disinfection-unit", args=[area.code])
    return {"href": href, "is_unit": area.level == Level.UNIT}
