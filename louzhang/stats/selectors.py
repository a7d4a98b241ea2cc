"""Reads of the figures, for commanders, from the roll-ups only.

A *place* is what a figure is about: an area of the tree from a city down to a compound, or a
police station (派出所), whose figures are those of the communities of its beat and its own
officers. The dashboard, the daily report and `GET /api/v1/stats` all read through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Max, Q, Sum
from django.http import Http404
from django.utils import timezone

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import COMMANDING
from louzhang.areas.models import Area, Level, PoliceUnit
from louzhang.core.paths import AreaPath
from louzhang.duty.selectors import UnitPlace, police_units, units_commanded
from louzhang.stats.figures import AREA_KEYS, KEYS, RISK_KEYS, STATES, UNIT_KEYS
from louzhang.stats.models import AreaDay, UnitDay
from louzhang.stats.rollup import FINEST

#: the longest series a page or the API asks for
MAX_DAYS = 120

Figures = dict[str, int]


def zero() -> Figures:
    return dict.fromkeys(KEYS, 0)


@dataclass(frozen=True)
class Place:
    """An area (city … compound) or a police station, as the figures see it."""

    #: "area", or "station" for a police station
    kind: str
    code: str
    name: str
    #: the area's level; a station stands between its district and its communities
    level: int
    #: the areas whose rows make up its figures: an area itself, a station its communities
    area_ids: tuple[int, ...]
    paths: tuple[str, ...]
    #: the police units whose officers it counts
    unit_ids: tuple[int, ...] = ()
    area: Area | None = field(default=None, compare=False, hash=False)

    @property
    def is_station(self) -> bool:
        return self.kind == "station"

    @property
    def key(self) -> str:
        """How pages and the API name it: the area's code, `station:<code>` for a station."""
        return f"station:{self.code}" if self.is_station else self.code


STATION_LEVEL = Level.SUBDISTRICT


def _units_inside(path: str, units: Iterable[UnitPlace]) -> tuple[int, ...]:
    """The units every place of which lies inside the area at `path`."""
    within = AreaPath(path).contains
    return tuple(sorted(u.pk for u in units if all(within(p) for p in u.paths)))


def area_place(area: Area, units: dict[int, UnitPlace] | None = None) -> Place:
    units = police_units() if units is None else units
    return Place("area", area.code, area.name, area.level, (area.pk,), (area.path,),
                 _units_inside(area.path, units.values()), area)


def station_place(unit: UnitPlace) -> Place:
    return Place("station", unit.code, unit.name, STATION_LEVEL,
                 tuple(pk for pk, _path in unit.communities),
                 tuple(path for _pk, path in unit.communities), (unit.pk,))


def may_see_figures(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or not jurisdiction_for(user, roles=COMMANDING).is_empty


def place_for(user: Any, key: str) -> Place:
    """The place named `key` (an area code, or `station:<code>`) if the user commands it;
    else 404, whether it exists or not."""
    if key.startswith("station:"):
        code = key.removeprefix("station:")
        for unit in units_commanded(user).values():
            if unit.code == code and unit.kind == PoliceUnit.Kind.STATION and unit.communities:
                return station_place(unit)
        raise Http404
    area = Area.objects.filter(code=key, level__lte=FINEST).first()
    if area is None or not jurisdiction_for(user, roles=COMMANDING).covers(area.path):
        raise Http404
    return area_place(area)


def roots(user: Any) -> list[Place]:
    """Where the user's figures start: the areas of their commander grants (an operator: every
    city), and a station commander's station."""
    jurisdiction = jurisdiction_for(user, roles=COMMANDING)
    if jurisdiction.is_empty:
        return []
    units = police_units()
    if jurisdiction.everything:
        areas = list(Area.objects.filter(parent__isnull=True).order_by("code"))
    else:
        areas = list(Area.objects.filter(path__in=jurisdiction.paths, level__lte=FINEST)
                     .order_by("level", "code"))
    # a station's commander is granted its communities: their station is the place to start
    # from (its figures are those communities' and its officers'), instead of each community
    granted = set(jurisdiction.paths)
    stations = [u for u in units_commanded(user).values()
                if u.kind == PoliceUnit.Kind.STATION and u.communities and set(u.paths) <= granted]
    beats = {path for u in stations for path in u.paths}
    return ([station_place(u) for u in sorted(stations, key=lambda u: u.code)]
            + [area_place(a, units) for a in areas if a.path not in beats])


# --- figures ------------------------------------------------------------------------------


def _area_rows(area_ids: Sequence[int], first: date, last: date) -> dict[date, Figures]:
    by_day: dict[date, Figures] = {}
    rows = (AreaDay.objects.filter(area_id__in=list(area_ids), day__gte=first, day__lte=last)
            .values("day").annotate(**{k: Sum(k) for k in AREA_KEYS}))
    for row in rows:
        by_day[row["day"]] = {k: int(row[k] or 0) for k in AREA_KEYS}
    return by_day


def _unit_rows(unit_ids: Sequence[int], first: date, last: date) -> dict[date, Figures]:
    by_day: dict[date, Figures] = {}
    if not unit_ids:
        return by_day
    rows = (UnitDay.objects.filter(unit_id__in=list(unit_ids), day__gte=first, day__lte=last)
            .values("day").annotate(**{k: Sum(k) for k in UNIT_KEYS}))
    for row in rows:
        by_day[row["day"]] = {k: int(row[k] or 0) for k in UNIT_KEYS}
    return by_day


def series(place: Place, first: date, last: date) -> list[tuple[date, Figures]]:
    """The place's figures for each day from `first` to `last` (at most `MAX_DAYS`)."""
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    areas = _area_rows(place.area_ids, first, last)
    units = _unit_rows(place.unit_ids, first, last)
    out = []
    day = first
    while day <= last:
        figures = zero()
        figures.update(areas.get(day, {}))
        figures.update(units.get(day, {}))
        out.append((day, figures))
        day += timedelta(days=1)
    return out


def figures(place: Place, day: date) -> Figures:
    """The place's figures of one day."""
    return series(place, day, day)[0][1]


def total(days: Sequence[tuple[date, Figures]]) -> Figures:
    """Events summed over the days; states as they stood on the last day."""
    out = zero()
    for _day, figures in days:
        for key, value in figures.items():
            out[key] = value if key in STATES else out[key] + value
    return out


def children(place: Place, units: dict[int, UnitPlace] | None = None) -> list[Place]:
    """What the place breaks down into: an area its child areas (down to compounds), a station
    the communities of its beat."""
    units = police_units() if units is None else units
    if place.is_station:
        areas = list(Area.objects.filter(pk__in=place.area_ids).order_by("ordinal", "code"))
    elif place.level >= FINEST:
        return []
    else:
        areas = list(Area.objects.filter(parent_id=place.area_ids[0], level__lte=FINEST)
                     .order_by("ordinal", "code"))
    return [area_place(a, units) for a in areas]


def stations_in(place: Place, units: dict[int, UnitPlace] | None = None) -> list[Place]:
    """The police stations whose whole beat lies inside an area (a district's stations)."""
    if place.is_station or place.area is None:
        return []
    units = police_units() if units is None else units
    within = AreaPath(place.area.path).contains
    return [station_place(u) for u in sorted(units.values(), key=lambda u: u.code)
            if u.kind == PoliceUnit.Kind.STATION and u.communities
            and all(within(p) for p in u.paths)]


def figures_of_many(places: Sequence[Place], day: date) -> list[Figures]:
    """One day's figures of several places, in three queries."""
    area_ids = {pk for p in places for pk in p.area_ids}
    unit_ids = {pk for p in places for pk in p.unit_ids}
    by_area: dict[int, Figures] = {}
    for row in AreaDay.objects.filter(day=day, area_id__in=list(area_ids)).values("area_id", *AREA_KEYS):
        by_area[row["area_id"]] = {k: row[k] for k in AREA_KEYS}
    by_unit: dict[int, Figures] = {}
    for row in UnitDay.objects.filter(day=day, unit_id__in=list(unit_ids)).values("unit_id", *UNIT_KEYS):
        by_unit[row["unit_id"]] = {k: row[k] for k in UNIT_KEYS}
    out = []
    for place in places:
        figures = zero()
        for pk in place.area_ids:
            for key in AREA_KEYS:
                figures[key] += by_area.get(pk, {}).get(key, 0)
        for pk in place.unit_ids:
            for key in UNIT_KEYS:
                figures[key] += by_unit.get(pk, {}).get(key, 0)
        out.append(figures)
    return out


def risk_score(figures: Figures) -> int:
    return sum(figures[k] for k in RISK_KEYS)


def at_risk(place: Place, day: date, limit: int = 10) -> list[tuple[Place, Figures]]:
    """The areas under the place (itself included) where something put people at risk that day
    — fevers, breaches at gates, people with symptoms or contacts found, key-region arrivals,
    missed check-ins, overdue follow-ups — most at risk first, each with the risk figures of
    what happened *in it*: a compound its own, a district what is filed at the district itself
    (its checkpoints' arrivals, follow-ups of the district), not its compounds' again."""
    condition = Q()
    for path in place.paths:
        condition |= Q(area__path__subtree=path)
    rows = list(AreaDay.objects.filter(condition, day=day)
                .values("area_id", "area__parent_id", *RISK_KEYS))
    own: dict[int, Figures] = {row["area_id"]: {k: row[k] for k in RISK_KEYS} for row in rows}
    for row in rows:  # what a child holds is not its parent's own
        parent = own.get(row["area__parent_id"])
        if parent is not None:
            for key in RISK_KEYS:
                parent[key] -= row[key]
    scored = []
    for area_id, risks in own.items():
        figures = zero()
        figures.update(risks)
        score = risk_score(figures)
        if score > 0:
            scored.append((score, area_id, figures))
    scored.sort(key=lambda s: (-s[0], s[1]))
    scored = scored[:limit]
    areas = Area.objects.in_bulk([pk for _s, pk, _f in scored])
    return [(area_place(areas[pk], {}), figures) for _s, pk, figures in scored]


def today() -> date:
    return timezone.localdate()


def refreshed_at(day: date) -> Any:
    """When the day's figures were last rolled up (None: not yet)."""
    return AreaDay.objects.filter(day=day).aggregate(m=Max("refreshed_at"))["m"]
