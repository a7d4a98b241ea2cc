"""What other apps' pages ask about screening: may this user record visits (anywhere, or in
this area)? For the link on a household's page and the entry in the top bar."""

from __future__ import annotations

from typing import Any

from django import template

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import VISITING, may_visit

register = template.Library()


@register.filter
def visits_anywhere(user: Any) -> bool:
    """`{% if user|visits_anywhere %}`: a warden or commander somewhere."""
    return not jurisdiction_for(user, roles=VISITING).is_empty


@register.filter
def may_visit_at(user: Any, path: str) -> bool:
    """`{% if user|may_visit_at:area.path %}`."""
    return may_visit(user, path)
