"""Reads for break-the-glass: the look-up's page (its author, while open; the commanders it was
reported to), the commanders' list, the officer's open look-ups, and what a look-up opened,
masked as for gate staff except what the officer typed; an address by name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from louzhang.access.holders import owner_for
from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import COMMANDING
from louzhang.areas.models import Area, Level
from louzhang.breakglass.models import LookUp, Opened
from louzhang.core.memo import remembered
from louzhang.core.paths import AreaPath
from louzhang.core.personal import mask, personal_fields
from louzhang.registry.models import Resident


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


def address(area: Area) -> str:
    """'保利百合 34号楼 二单元 6楼西户': the compound and what is below it, by name."""
    return addresses([area.path])[area.path]


def addresses(paths: Iterable[str]) -> dict[str, str]:
    """`address` of each area path, in one query."""
    wanted = {str(p) for p in paths}
    chains = {p: [*AreaPath(p).ancestors(), AreaPath(p)] for p in wanted}
    names = dict(Area.objects.filter(path__in={a for chain in chains.values() for a in chain},
                                     level__gte=Level.COMPOUND).values_list("path", "name"))
    return {p: " ".join(names[a] for a in chain if a in names) for p, chain in chains.items()}


@dataclass
class Shown:
    """A record as gate staff would see it: personal fields masked, except `typed`."""

    obj: Any
    values: dict[str, str]


@dataclass
class OpenedView:
    """One record a look-up opened, as its author reads it: the address, who answers for it,
    and only what was looked up — the resident of the ID number typed (not the rest of the
    household, nor their cars), or the car of the plate typed and its owner."""

    opened: Opened
    address: str
    #: who answers for the household or compound (the officer's contact), by name
    responsible: str
    #: the resident of the ID number typed, or the car's registered owner
    person: Shown | None = None
    #: the car of the plate typed (None when it has been deleted since: `opened.plate` remains)
    car: Shown | None = None


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
    """What the look-up opened, for its author's page (see `access_look_up`). A bounded number
    of queries: one each for the records, the addresses, the residents, and the holders of
    each compound opened (read once per compound)."""
    typed = look_up.query
    opened = list(look_up.opened.select_related("household", "vehicle__owner").order_by("pk"))
    if not opened:
        return []
    places = addresses(o.area_path for o in opened)
    residents: dict[int, Resident] = {}
    if look_up.kind == LookUp.Kind.ID_NUMBER:
        households = [o.household_id for o in opened if o.household_id is not None]
        residents = {r.household_id: r for r in Resident.objects.filter(
            household_id__in=households, id_number=look_up.id_number).order_by("-pk")}
    compounds = {a.path: a for a in Area.objects.filter(
        path__in={o.area_path for o in opened if o.household is None})}
    views = []
    with remembered():
        for o in opened:
            area = o.household or compounds.get(o.area_path)
            view = OpenedView(o, places[o.area_path], _responsible(area) if area is not None else "")
            if o.household_id is not None:
                found = residents.get(o.household_id)
                view.person = _shown(found, typed) if found is not None else None
            elif o.vehicle is not None:
                view.car = _shown(o.vehicle, typed)
                owner = o.vehicle.owner
                view.person = _shown(owner, typed) if owner is not None else None
            views.append(view)
    return views
