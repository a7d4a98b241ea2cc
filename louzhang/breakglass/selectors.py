"""Reads for break-the-glass: the look-up's page (its author, while open; the commanders it was
reported to), the commanders' list, the officer's open look-ups, and what a look-up opened,
masked as for gate staff except what the officer typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from louzhang.access.holders import owner_for
from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import COMMANDING
from louzhang.areas.models import Area
from louzhang.breakglass.models import LookUp, Opened
from louzhang.breakglass.services import address
from louzhang.core.personal import mask, personal_fields
from louzhang.registry.models import Resident, Vehicle


def look_ups_reported_to(user: Any) -> QuerySet[LookUp]:
    """Look-ups into the user's commander jurisdiction: one that opened a record there, or one
    that found nothing in a city the user commands. Newest first."""
    held = jurisdiction_for(user, roles=COMMANDING)
    if held.is_empty:
        return LookUp.objects.none()
    into = Opened.objects.filter(held.q("area_path"), look_up=OuterRef("pk"))
    anything = Opened.objects.filter(look_up=OuterRef("pk"))
    return (LookUp.objects.filter(Exists(into) | (~Exists(anything) & held.q("city__path")))
            .select_related("user", "city").order_by("-created_at", "-pk"))


def my_open_look_ups(user: Any) -> QuerySet[LookUp]:
    if not getattr(user, "is_authenticated", False):
        return LookUp.objects.none()
    return (LookUp.objects.filter(user_id=user.pk, ended_at__isnull=True,
                                  until__gt=timezone.now())
            .select_related("city").order_by("-created_at", "-pk"))


def access_look_up(user: Any, pk: int) -> tuple[LookUp, bool]:
    """The look-up and whether the user may read what it opened: its author while it is open
    (True); a commander it was reported to (False: the record, not what it opened — they see
    that on its own pages). 404 for anyone else, for the author once it has ended, and for a
    missing one alike."""
    look_up = LookUp.objects.select_related("user", "city").filter(pk=pk).first()
    if look_up is None:
        raise Http404("no such look-up")
    if look_up.user_id == getattr(user, "pk", None) and look_up.open_at():
        return look_up, True
    if look_ups_reported_to(user).filter(pk=pk).exists():
        return look_up, False
    raise Http404("no such look-up")


@dataclass
class Shown:
    """A record as gate staff would see it: personal fields masked, except `typed`."""

    obj: Any
    values: dict[str, str]


@dataclass
class OpenedView:
    opened: Opened
    address: str
    #: who answers for the household or compound (the officer's contact), by name
    responsible: str
    members: list[Shown] = field(default_factory=list)
    vehicles: list[Shown] = field(default_factory=list)


def _shown(obj: Any, typed: str) -> Shown:
    values = {}
    for name, declared in personal_fields(type(obj)).items():
        raw = getattr(obj, name) or ""
        values[name] = raw if raw and raw == typed else mask(declared.personal_kind, raw)
    return Shown(obj=obj, values=values)


def _responsible(area: Area) -> str:
    user = owner_for(area).user
    return (user.display_name or user.username) if user is not None else ""


def opened_views(look_up: LookUp) -> list[OpenedView]:
    """What the look-up opened, for its author's page (see `access_look_up`)."""
    typed = look_up.query
    views = []
    for opened in look_up.opened.select_related("household", "vehicle__compound", "vehicle__owner__household"):
        if opened.household is not None:
            household = opened.household
            members = list(Resident.objects.filter(household=household).order_by("-is_head", "birth_date"))
            cars = list(Vehicle.objects.filter(owner__in=members).order_by("plate"))
            views.append(OpenedView(opened, address(household), _responsible(household),
                                    members=[_shown(m, typed) for m in members],
                                    vehicles=[_shown(c, typed) for c in cars]))
        elif opened.vehicle is not None:
            car = opened.vehicle
            owner = car.owner
            views.append(OpenedView(opened, address(car.compound), _responsible(car.compound),
                                    members=[_shown(owner, typed)] if owner is not None else [],
                                    vehicles=[_shown(car, typed)]))
    return views
