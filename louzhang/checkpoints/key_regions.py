"""Key regions (重点地区), scoped: each city's command centre keeps its own city's list; the list
for every city (a province-wide or national one) belongs to the operator (a superuser).

A region with a `city` is that city's; one without is operator-wide. A commander sees the
operator-wide list and the lists of the cities of their jurisdiction (a district's commander
reads their city's), and keeps only the lists of the cities they command whole. A checkpoint
matches plates and origins against the operator-wide list and its own city's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import COMMANDING
from louzhang.areas.models import Area, Level
from louzhang.audit.services import audit_record
from louzhang.checkpoints.models import KeyRegion
from louzhang.core.paths import AreaPath
from louzhang.identifiers.plates import known_prefix

# --- reads -----------------------------------------------------------------------------------


def city_path(path: str) -> str:
    """The path of the city an area at `path` lies in."""
    return AreaPath(path).ancestor(Level.CITY)


def in_force(on: date) -> Q:
    return Q(starts_on__lte=on) & (Q(ends_on__isnull=True) | Q(ends_on__gte=on))


def key_regions_for_cities(city_paths: Iterable[str]) -> QuerySet[KeyRegion]:
    """The operator-wide key regions and those of the cities at `city_paths`."""
    return KeyRegion.objects.filter(Q(city__isnull=True) | Q(city__path__in=list(set(city_paths))))


def key_regions_for_area(area: Area | None, on: date) -> list[KeyRegion]:
    """What applies at `area` (a checkpoint's, a household's) on `on`: the operator-wide
    regions and those of its city, in force that day."""
    cities = [city_path(area.path)] if area is not None else []
    return list(key_regions_for_cities(cities).filter(in_force(on)).select_related("city"))


def cities_commanded(user: Any) -> list[Area]:
    """The cities whose key regions `user` keeps: those they command whole (every city for an
    operator)."""
    jurisdiction = jurisdiction_for(user, roles=COMMANDING)
    cities = Area.objects.filter(level=Level.CITY).order_by("code")
    if jurisdiction.everything:
        return list(cities)
    return [city for city in cities.filter(path__in=[city_path(p) for p in jurisdiction.paths])
            if jurisdiction.covers(city.path)]


def key_regions_visible(user: Any) -> QuerySet[KeyRegion]:
    """The key regions `user` reads: operator-wide and those of the cities they command in."""
    jurisdiction = jurisdiction_for(user, roles=COMMANDING)
    regions = KeyRegion.objects.select_related("city")
    if jurisdiction.everything:
        return regions
    return regions.filter(Q(city__isnull=True) | Q(city__path__in={city_path(p) for p in jurisdiction.paths}))


def may_keep(user: Any, region: KeyRegion) -> bool:
    """Whether `user` may end `region`: the operator an operator-wide one, a commander of the
    whole city their city's."""
    if region.city is None:
        return bool(getattr(user, "is_superuser", False))
    return jurisdiction_for(user, roles=COMMANDING).covers(region.city.path)


def may_keep_any(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(cities_commanded(user))


# --- writes ----------------------------------------------------------------------------------


class KeyRegionError(Exception):
    """A key region that cannot be saved as given; the message says why."""


def key_region_add(*, actor: Any, name: str, division_prefixes: list[str], plate_prefixes: list[str],
                   starts_on: Any, ends_on: Any = None, risk: str = KeyRegion.Risk.HIGH,
                   observation_days: int | None = None, city: Area | None = None,
                   operator_wide: bool = False) -> KeyRegion:
    """Add a key region to the list of `city` (its command centre, or the operator), or with
    `operator_wide` to the list for every city (the operator only); audited.

    Without either, the region goes to the one city `actor` commands whole (`KeyRegionError`
    when that is not one city)."""
    if operator_wide:
        if not getattr(actor, "is_superuser", False):
            raise PermissionDenied("the key regions of every city are kept by the operator")
        city = None
    else:
        kept = cities_commanded(actor)
        if not kept:
            raise PermissionDenied("key regions are kept by a city's command centre")
        if city is None:
            if len(kept) != 1:
                raise KeyRegionError(_("Choose the city whose list this is."))
            city = kept[0]
        if city.level != Level.CITY or city.pk not in {c.pk for c in kept}:
            raise PermissionDenied("key regions of a city are kept by its command centre")
    name = name.strip()
    if not name:
        raise KeyRegionError(_("Give the region a name."))
    if not division_prefixes and not plate_prefixes:
        raise KeyRegionError(_("Give division code prefixes, plate prefixes or both."))
    bad = [p for p in division_prefixes if not (p.isdigit() and 2 <= len(p) <= 6)]
    if bad:
        raise KeyRegionError(_("Division code prefixes are 2 to 6 digits: %(bad)s") % {"bad": ", ".join(bad)})
    bad = [p for p in plate_prefixes if not known_prefix(p)]
    if bad:
        raise KeyRegionError(_("Not a plate prefix: %(bad)s") % {"bad": ", ".join(bad)})
    if ends_on is not None and ends_on < starts_on:
        raise KeyRegionError(_("The end is before the start."))
    if risk not in KeyRegion.Risk.values:
        raise KeyRegionError(_("Unknown risk level."))
    with transaction.atomic():
        region = KeyRegion.objects.create(name=name[:50], division_prefixes=division_prefixes,
                                          plate_prefixes=plate_prefixes, starts_on=starts_on,
                                          ends_on=ends_on, risk=risk, observation_days=observation_days,
                                          city=city)
        audit_record(actor=actor, action="create", object_type="checkpoints.keyregion",
                     object_id=region.pk, area_path=city.path if city else "",
                     summary=f"key region {region.name} from {starts_on} "
                             f"({city.name if city else 'every city'})")
    return region


def key_region_end(*, actor: Any, region: KeyRegion, on: Any) -> bool:
    """End `region` on `on` (it still applies that day); audited. Only who keeps its list may
    (`PermissionDenied`). False when it had ended by then already."""
    if not may_keep(actor, region):
        raise PermissionDenied("key regions are kept by the command centre of their city")
    with transaction.atomic():
        changed = (KeyRegion.objects.filter(pk=region.pk)
                   .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=on)).update(ends_on=on))
        if changed:
            audit_record(actor=actor, action="change", object_type="checkpoints.keyregion",
                         object_id=region.pk, area_path=region.city.path if region.city else "",
                         summary=f"key region {region.name} ends {on}")
    return bool(changed)
