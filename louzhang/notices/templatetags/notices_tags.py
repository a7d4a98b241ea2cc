"""What other pages ask of notices: whether to show the 通知 and 我的名片 links, and the poster
link of a compound's or building's page."""

from __future__ import annotations

from typing import Any

from django import template

from louzhang.access.roles import may_print_poster, publishes_anywhere
from louzhang.areas.models import Area

register = template.Library()


@register.filter
def writes_notices(user: Any) -> bool:
    """A warden or commander: the notices pages and a card of their own."""
    return publishes_anywhere(user)


@register.filter
def may_print_poster_of(user: Any, area: Area) -> bool:
    return may_print_poster(user, area.path, area.level)
