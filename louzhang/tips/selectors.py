"""Reading tips: officers through their jurisdiction, the reporter through the tracking code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import ACTING_ON_FOLLOWUPS, FOLLOWING_UP
from louzhang.areas.models import Area, Level
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.core.personal import Kind, mask
from louzhang.followups.models import FollowUp
from louzhang.tips.models import OPEN_STATUSES, Status, Tip, TipEvent
from louzhang.tips.services import tip_followup, tracking_code_normalise


def tips_visible(user: Any) -> QuerySet[Tip]:
    """The tips of the user's jurisdiction, and those about a whole compound the user holds a
    part of (every warden of its buildings is told of them, as of its follow-ups)."""
    visible = jurisdiction_for(user, roles=FOLLOWING_UP).q_in_reach("area__path", Level.COMPOUND)
    return Tip.objects.select_related("area").filter(visible)


def tips_open_first(queryset: QuerySet[Tip]) -> QuerySet[Tip]:
    """Open tips first (the oldest on top: it has waited longest), then the closed, newest first."""
    return queryset.annotate(closed=Case(
        When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField(),
    )).order_by("closed", "-received_at", "-pk")


def access_tip(user: Any, pk: int | str) -> Tip:
    """The tip, if the user may see it; "not found" for missing and forbidden alike."""
    try:
        return tips_visible(user).select_related("entered_by", "closed_by", "notice").get(pk=int(pk))
    except (Tip.DoesNotExist, ValueError, OverflowError):
        raise Http404("no such tip") from None


@dataclass
class TipPage:
    """A tip as an officer reads it."""

    tip: Tip
    followup: FollowUp | None
    #: in full only for the owner of the tip's follow-up, who calls the reporter back
    contact_phone: str
    contact_in_full: bool
    events: list[TipEvent]


def tip_page(user: Any, tip: Tip) -> TipPage:
    followup = tip_followup(tip)
    in_full = bool(tip.contact_phone) and followup is not None and followup.owner_id == user.pk
    if in_full:
        audit_record(actor=user, action=AuditEvent.Action.VIEW, object_type="tips.tip", object_id=tip.pk,
                     area_path=tip.area.path, summary="reporter's phone")
    phone = tip.contact_phone if in_full else mask(Kind.PHONE, tip.contact_phone)
    return TipPage(tip=tip, followup=followup, contact_phone=phone, contact_in_full=in_full,
                   events=list(tip.events.select_related("actor")))


@dataclass(frozen=True)
class Tracked:
    """What the reporter (anybody holding the code) may read: nothing personal."""

    tracking_code: str
    status: str
    status_label: str
    category: str
    category_label: str
    place: str
    received_at: Any
    closed_at: Any
    outcome: str
    #: the public page of the compound it is about (its notices, its warden)
    compound: Area


def tip_tracked(raw_code: str) -> Tracked | None:
    code = tracking_code_normalise(raw_code)
    if not code:
        return None
    tip = Tip.objects.select_related("area", "area__parent").filter(tracking_code=code).first()
    if tip is None:
        return None
    compound = tip.area if tip.area.level == Level.COMPOUND else tip.area.parent
    assert compound is not None
    return Tracked(
        tracking_code=tip.tracking_code, status=tip.status, status_label=str(Status(tip.status).label),
        category=tip.category, category_label=str(tip.get_category_display()), place=tip.area.name if tip.area != compound else "",
        received_at=tip.received_at, closed_at=tip.closed_at, outcome=tip.outcome, compound=compound,
    )


#: more places than this and the officer's tip form offers compounds only
MAX_PLACES = 300


def tip_places(user: Any) -> list[Area]:
    """Where the user may enter a tip: the compounds and buildings they hold as a warden or
    commander (compounds only for a large jurisdiction), in tree order."""
    jurisdiction = jurisdiction_for(user, roles=ACTING_ON_FOLLOWUPS)
    if jurisdiction.is_empty:
        return []
    held = jurisdiction.q_in_reach("path", Level.COMPOUND)
    places = Area.objects.select_related("parent").filter(held, level__in=[Level.COMPOUND, Level.BUILDING])
    if places.count() > MAX_PLACES:
        places = places.filter(level=Level.COMPOUND)
    return sorted(places[:MAX_PLACES * 4], key=lambda a: (
        a.parent.path if a.level == Level.BUILDING and a.parent else a.path, a.level, a.ordinal, a.code))
