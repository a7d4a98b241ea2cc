"""Reads for follow-ups, always from the user's jurisdiction."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import FOLLOWING_UP, may_act_on_followups
from louzhang.areas.models import Level
from louzhang.followups.models import ACTIVE_STATES, FollowUp, FollowUpEvent


def followups_visible(user: Any) -> QuerySet[FollowUp]:
    """The follow-ups of the user's jurisdiction; and those of a whole compound the user holds
    a part of (a visitor's fever at its gate, a car bound for it: every warden of its buildings
    is told of them, and one of them owns them); and any the user owns."""
    visible = jurisdiction_for(user, roles=FOLLOWING_UP).q_in_reach("area__path", Level.COMPOUND)
    if getattr(user, "is_authenticated", False):
        visible |= Q(owner_id=user.pk)
    return FollowUp.objects.select_related("area", "owner").filter(visible)


def followups_urgent_first(queryset: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    """Open work first, then urgent before normal, then the earliest due (overdue on top)."""
    return queryset.order_by("-priority", "due_at", "id")


def my_followups(user: Any) -> QuerySet[FollowUp]:
    """What the user owns and must still do, most urgent first."""
    return followups_urgent_first(
        followups_visible(user).filter(owner=user, state__in=ACTIVE_STATES))


def followup_counts(user: Any) -> dict[str, int] | None:
    """For the home page: what the user owns, and what is overdue in their jurisdiction;
    None for users who do not follow up (gate staff …)."""
    if jurisdiction_for(user, roles=FOLLOWING_UP).is_empty:
        return None
    visible = followups_visible(user).filter(state__in=ACTIVE_STATES)
    return {
        "mine": visible.filter(owner=user).count(),
        "active": visible.count(),
        "overdue": visible.filter(due_at__lte=timezone.now()).count(),
    }


def access_followup(user: Any, pk: int | str) -> FollowUp:
    """The follow-up, if the user may see it; "not found" for missing and forbidden alike."""
    try:
        return followups_visible(user).get(pk=int(pk))
    except (FollowUp.DoesNotExist, ValueError):
        raise Http404("no such follow-up") from None


def may_act(user: Any, followup: FollowUp) -> bool:
    if followup.owner_id == user.pk:
        return True
    return may_act_on_followups(user, followup.area.path)


def followup_history(followup: FollowUp) -> QuerySet[FollowUpEvent]:
    return followup.events.select_related("actor")
