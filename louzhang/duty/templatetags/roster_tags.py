"""What other pages show of the rosters: who is on shift at a post now and who comes next
(the checkpoint's page, which may not import `duty`: a template loads this instead)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from louzhang.duty.rosters import may_see, on_duty, post_find

register = template.Library()


@register.simple_tag(takes_context=True)
def on_shift(context: template.Context, kind: str, code: str) -> dict[str, Any]:
    """{"now": shifts on now, "next": the shifts starting next, "link": the post's roster for a
    user who may see it} at the post `kind` `code`; empty for no such post."""
    post = post_find(kind, code)
    if post is None:
        return {}
    duty = on_duty([post])[post.key]
    link = ""
    user = context.get("user")
    if user is not None and may_see(user, post):
        try:
            link = reverse("roster-post", args=[post.kind, post.code])
        except NoReverseMatch:  # the rosters' pages are not served here
            link = ""
    return {"now": duty.now, "next": duty.next, "link": link}


@register.filter
def sees_rosters(user: Any) -> bool:
    """Checkpoint officers: the top bar's link to their checkpoint's roster (commanders reach
    rosters from the officers' page, wardens from their compound)."""
    from louzhang.access.jurisdiction import jurisdiction_for
    from louzhang.accounts.models import Role

    return not jurisdiction_for(user, roles=[Role.CHECKPOINT]).is_empty
