from typing import Any

from django import template

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import FOLLOWING_UP

register = template.Library()


@register.filter
def sees_tips(user: Any) -> bool:
    """Wardens, commanders and health liaisons: the tips of their jurisdiction."""
    return not jurisdiction_for(user, roles=FOLLOWING_UP).is_empty
