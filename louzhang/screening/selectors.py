"""Reads for screening: rounds, coverage (per child area, per warden, day by day), a
household's visits, and a warden's "still to visit" list — always within the user's
jurisdiction.

Coverage is counted from `RoundHousehold` (one row per household the round has seen) and the
area tree's households, each grouped by the child area in one query: the child's code is the
part of the path after the area's own (``substr`` up to the next "/"), so a district's coverage
is two index range scans and two GROUP BYs, whatever the number of visits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, StrIndex, Substr
from django.http import Http404
from django.utils import timezone

from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.access.roles import VISITING
from louzhang.accounts.models import Grant, Role
from louzhang.areas.models import Area, Level, PoliceUnit
from louzhang.checkpoints.models import Occupant
from louzhang.core.paths import AreaPath
from louzhang.registry.models import Resident
from louzhang.screening.models import Finding, Round, RoundHousehold, RoundUnit, Visit

#: what a coverage row counts, as RoundHousehold aggregates
_FOUND = ("returnees", "symptomatic", "contacts", "care")


@dataclass
class Coverage:
    """A round's coverage of one area (or one warden's buildings)."""

    label: str
    area: Area | None = None
    households: int = 0
    reached: int = 0
    #: tried, nobody ever answered
    nobody_home: int = 0
    returnees: int = 0
    symptomatic: int = 0
    contacts: int = 0
    care: int = 0
    children: list[Coverage] = field(default_factory=list)

    @property
    def not_visited(self) -> int:
        return max(self.households - self.reached - self.nobody_home, 0)

    @property
    def percent(self) -> float:
        """Households reached, in percent to one decimal, rounded down (99.96 % is not done,
        and 7 of 864 is 0.8 %, not nothing)."""
        return self.reached * 1000 // self.households / 10 if self.households else 0.0

    def add(self, other: Coverage) -> None:
        for name in ("households", "reached", "nobody_home", *_FOUND):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def rounds_visible(user: Any) -> QuerySet[Round]:
    """Rounds over an area the user sees, or over an area above their own (a city-wide round
    is a warden's round too)."""
    jurisdiction = jurisdiction_for(user, roles=VISITING)
    if jurisdiction.everything:
        return Round.objects.select_related("area").all()
    above = {a for p in jurisdiction.paths for a in [*AreaPath(p).ancestors(), p]}
    return Round.objects.select_related("area").filter(
        Q(area__path__in=above) | jurisdiction.q("area__path")).distinct()


def access_round(user: Any, pk: int | str) -> Round:
    try:
        return rounds_visible(user).get(pk=int(pk))
    except (Round.DoesNotExist, ValueError):
        raise Http404("no such round") from None


def rounds_open(user: Any, on: date | None = None) -> list[Round]:
    on = on or timezone.localdate()
    return list(rounds_visible(user).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=on), starts_on__lte=on, closed_at__isnull=True
    ).order_by("-starts_on", "-id"))


def _mine(user: Any, within: str) -> Q:
    """The user's jurisdiction as a filter on `path`, for rows already limited to the area at
    `within`: nothing more when it covers that area (a second, wider range on the same column
    makes SQLite walk the wider one: the city's 720,000 households for one district's 80,000)."""
    jurisdiction = jurisdiction_for(user, roles=VISITING)
    return Q() if jurisdiction.covers(within) else jurisdiction.q("path")


def _child_code(prefix: str) -> Any:
    """SQL: the code of the child of the area at `prefix` that a row's path lies under."""
    start = len(prefix) + 1
    return Substr("path", start, StrIndex(Substr("path", start), Value("/")) - 1)


#: what a GROUP BY over `RoundHousehold` counts
_COUNTS: dict[str, Any] = {
    "reached": Count("id", filter=Q(reached_on__isnull=False)),
    "nobody_home": Count("id", filter=Q(reached_on__isnull=True)),
    **{name: Coalesce(Sum(name), 0) for name in _FOUND},
}


_UNIT_COUNTS = ("reached", "nobody_home", *_FOUND)

#: per unit (by its path): its households, and the round's counts there (None: not seen yet)
Units = dict[str, tuple[int, dict[str, int] | None]]


def round_units(user: Any, round_: Round, area: Area) -> Units:
    """What the coverage of `area` is computed from (`coverage`, `coverage_by_warden`,
    `coverage_by_station` take it, so that a page showing all three reads it once)."""
    within = round_.area.path if round_.area.path.startswith(area.path) else area.path
    return _per_unit(user, round_, within)


def _per_unit(user: Any, round_: Round, within: str) -> Units:
    """Households and the round's counts per unit under `within`, by the unit's path, limited
    to what `user` sees: the units with their households counted in one query (a join on the
    parent index), the round's sums per unit (`RoundUnit`) in another."""
    jurisdiction = jurisdiction_for(user, roles=VISITING)
    if any(AreaPath(p).depth > Level.UNIT and AreaPath(within).contains(p) for p in jurisdiction.paths):
        return _per_unit_by_household(user, round_, within)  # grants of single households: rare
    mine = _mine(user, within)
    units = {pk: (path, n) for pk, path, n in Area.objects.filter(mine, level=Level.UNIT, path__subtree=within)
             .annotate(n=Count("children")).values_list("id", "path", "n")}
    seen = {row.pop("unit_id"): row for row in RoundUnit.objects.filter(
        mine, round=round_, path__subtree=within).values("unit_id", *_UNIT_COUNTS)}
    return {path: (n, seen.get(pk)) for pk, (path, n) in units.items() if n or pk in seen}


def _per_unit_by_household(user: Any, round_: Round, within: str) -> Units:
    """`_per_unit` counted household by household, for a jurisdiction that holds single
    households (a unit's sums would count its neighbours too)."""
    mine = _mine(user, within)
    paths = dict(Area.objects.filter(level=Level.UNIT, path__subtree=within).values_list("id", "path"))
    households = dict(Area.objects.filter(mine, level=Level.HOUSEHOLD, path__subtree=within)
                      .values_list("parent_id").annotate(n=Count("id")).values_list("parent_id", "n"))
    seen = {row.pop("unit_id"): row for row in
            RoundHousehold.objects.filter(mine, round=round_, path__subtree=within)
            .values("unit_id").annotate(**_COUNTS)}
    return {path: (households.get(pk, 0), seen.get(pk)) for pk, path in paths.items()
            if pk in households or pk in seen}


def coverage(user: Any, round_: Round, area: Area, units: Units | None = None) -> Coverage:
    """The round's coverage of `area`, with a row per child area (in sibling order): households,
    reached, nobody home, not visited, people found per category. Only what the user sees
    counts (a warden holding two buildings of a compound sees those two)."""
    if not (area.path.startswith(round_.area.path) or round_.area.path.startswith(area.path)):
        raise Http404("the round does not cover this area")
    jurisdiction = jurisdiction_for(user, roles=VISITING)
    within = round_.area.path if round_.area.path.startswith(area.path) else area.path
    if area.level < Level.UNIT:
        # counted per unit (an integer GROUP BY, index-only for the round's rows), then folded
        # into the child areas here: computing each row's child code in SQL cost more than all
        # the rest
        units = units if units is not None else _per_unit(user, round_, within)
        households: dict[str, int] = defaultdict(int)
        seen: dict[str, dict[str, int]] = {}
        for unit_path, (n, counted) in units.items():
            step = AreaPath(area.path).step_towards(unit_path)
            if step is None:
                continue
            code = step.code
            households[code] += n
            if counted:
                into = seen.setdefault(code, dict.fromkeys(("reached", "nobody_home", *_FOUND), 0))
                for name, value in counted.items():
                    into[name] += value
    else:
        mine = _mine(user, within)
        households = defaultdict(int, Area.objects.filter(mine, level=Level.HOUSEHOLD, path__subtree=within)
                                 .annotate(child=_child_code(area.path)).values("child")
                                 .annotate(n=Count("id")).values_list("child", "n"))
        seen = {row.pop("child"): row for row in
                RoundHousehold.objects.filter(mine, round=round_, path__subtree=within)
                .annotate(child=_child_code(area.path)).values("child").annotate(**_COUNTS)}
    total = Coverage(label=area.name, area=area)
    children = Area.objects.filter(parent=area).order_by("ordinal", "code")
    if not jurisdiction.covers(area.path):
        children = children.filter(path__in=jurisdiction.next_steps_below(area.path)) \
            if not jurisdiction.everything else children
    for child in children:
        row = Coverage(label=child.name, area=child, households=households.get(child.code, 0))
        counted = seen.get(child.code)
        if counted:
            row.reached, row.nobody_home = counted["reached"], counted["nobody_home"]
            for name in _FOUND:
                setattr(row, name, counted[name])
        if row.households or counted:
            total.children.append(row)
            total.add(row)
    return total


def coverage_by_warden(user: Any, round_: Round, area: Area, units: Units | None = None) -> list[Coverage]:
    """The round's coverage per warden of `area`'s buildings (a building held by two wardens
    counts for both; a building nobody holds is listed as such), fewest reached first."""
    within = round_.area.path if round_.area.path.startswith(area.path) else area.path
    per_building = _summed(units if units is not None else _per_unit(user, round_, within), Level.BUILDING)
    # the wardens holding those buildings, or the compounds above them
    compounds = {AreaPath(p).ancestor(Level.COMPOUND) for p in per_building}
    grants = (Grant.objects.in_force().filter(role=Role.WARDEN, user__is_active=True)
              .filter(Q(area__path__in=compounds) | Q(area__level=Level.BUILDING, area__path__subtree=within))
              .select_related("user").values_list("user_id", "user__display_name", "user__username", "area__path"))
    in_compound: dict[str, list[str]] = defaultdict(list)
    for path in per_building:
        in_compound[AreaPath(path).ancestor(Level.COMPOUND)].append(path)
    names: dict[int, str] = {}
    held_by: dict[int, set[str]] = defaultdict(set)  # a building once per warden
    for user_id, display, username, path in grants:
        names[user_id] = display or username
        held_by[user_id].update(in_compound.get(path) or ([path] if path in per_building else []))
    # wardens of buildings the user does not see hold nothing here
    return _ranked(per_building, [(names[u], paths) for u, paths in held_by.items() if paths])


def coverage_by_station(user: Any, round_: Round, area: Area, units: Units | None = None) -> list[Coverage]:
    """The round's coverage per police station (派出所) whose beat lies in `area`, by the
    communities of each beat; a community no station covers is listed as such. Nothing for an
    area inside one community (its station is the whole of it)."""
    if area.level >= Level.COMMUNITY:
        return []
    within = round_.area.path if round_.area.path.startswith(area.path) else area.path
    per_community = _summed(units if units is not None else _per_unit(user, round_, within), Level.COMMUNITY)
    beats: dict[int, tuple[str, set[str]]] = {}
    for pk, name, path in (PoliceUnit.objects.filter(kind=PoliceUnit.Kind.STATION,
                                                     communities__path__in=list(per_community))
                           .values_list("pk", "name", "communities__path")):
        beats.setdefault(pk, (name, set()))[1].add(path)
    return _ranked(per_community, list(beats.values()))


def _summed(units: Units, level: int) -> dict[str, Coverage]:
    """The units' counts added up per area at `level` (building, community …), by its path."""
    cells: dict[str, Coverage] = defaultdict(lambda: Coverage(label=""))
    for unit_path, (n, counted) in units.items():
        cell = cells[AreaPath(unit_path).ancestor(level)]
        cell.households += n
        for name, value in (counted or {}).items():
            setattr(cell, name, getattr(cell, name) + value)
    return cells


def _ranked(cells: dict[str, Coverage], holders: list[tuple[str, set[str]]]) -> list[Coverage]:
    """A row per holder (a warden, a station) of the sum of the cells it holds, fewest reached
    first, and a last row without a label for the cells nobody holds."""
    rows = []
    for label, paths in holders:
        row = Coverage(label=label)
        for path in paths:
            row.add(cells[path])
        rows.append(row)
    rows.sort(key=lambda r: (r.percent, r.label))
    orphan = Coverage(label="")
    for path in cells.keys() - set().union(*(paths for _label, paths in holders)):
        orphan.add(cells[path])
    if orphan.households:
        rows.append(orphan)
    return rows


def progress(user: Any, round_: Round, area: Area, days: int = 30) -> list[tuple[date, int, int]]:
    """Day by day: households first reached that day, and reached so far (cumulative)."""
    within = round_.area.path if round_.area.path.startswith(area.path) else area.path
    mine = _mine(user, within)
    per_day: dict[date, int] = {
        day: n for day, n in RoundHousehold.objects.filter(
            mine, round=round_, path__subtree=within, reached_on__isnull=False)
        .values_list("reached_on").annotate(n=Count("id")).values_list("reached_on", "n")
        if day is not None}
    if not per_day:
        return []
    first = min(per_day)
    last = max(max(per_day), min(timezone.localdate(), round_.ends_on or timezone.localdate()))
    first = max(first, last - timedelta(days=days - 1))
    so_far = sum(n for day, n in per_day.items() if day < first)
    out = []
    day = first
    while day <= last:
        so_far += per_day.get(day, 0)
        out.append((day, per_day.get(day, 0), so_far))
        day += timedelta(days=1)
    return out


@dataclass
class ToVisit:
    household: Area
    place: str
    #: why it comes first: a returnee reported by a checkpoint, people needing care, tried before
    reasons: list[str]
    nobody_home: int
    score: int


def still_to_visit(user: Any, round_: Round, limit: int = 200) -> list[ToVisit]:
    """The households of the user's buildings the round has not reached yet: those with a
    member a checkpoint saw arrive from a key region first, then those with people needing
    care, then the ones tried before, each group in stairwell order (building, unit, floor)."""
    mine = _mine(user, round_.area.path)
    reached = RoundHousehold.objects.filter(round=round_, household=OuterRef("pk"), reached_on__isnull=False)
    tried = RoundHousehold.objects.filter(round=round_, household=OuterRef("pk"), reached_on__isnull=True)
    since = timezone.now() - timedelta(days=21)
    returnee = Occupant.objects.filter(
        inspection__key_region__isnull=False, inspection__at__gte=since,
        id_number__in=Resident.objects.filter(household=OuterRef(OuterRef("pk"))).values("id_number"))
    care = Resident.objects.filter(household=OuterRef("pk")).exclude(care_tags="")
    households = (Area.objects.filter(mine, level=Level.HOUSEHOLD, path__subtree=round_.area.path)
                  .annotate(done=Exists(reached)).filter(done=False)
                  .annotate(returnee=Exists(returnee), care=Exists(care), tried=Exists(tried))
                  .select_related("parent__parent__parent")
                  .order_by("-returnee", "-care", "-tried", "parent__parent__ordinal",
                            "parent__parent__code", "parent__ordinal", "parent__code", "ordinal", "code"))
    out = []
    for household in households[:limit]:
        reasons = []
        if household.returnee:  # type: ignore[attr-defined]
            reasons.append("returnee")
        if household.care:  # type: ignore[attr-defined]
            reasons.append("care")
        if household.tried:  # type: ignore[attr-defined]
            reasons.append("nobody_home")
        unit = household.parent
        building = unit.parent if unit else None
        place = "".join(a.name for a in (building, unit, household) if a is not None)
        out.append(ToVisit(household, place, reasons, 0, len(reasons)))
    compounds = {t.household.parent.parent.parent for t in out  # type: ignore[union-attr]
                 if t.household.parent and t.household.parent.parent}
    if len(compounds) > 1:  # a warden of buildings in two compounds: say which
        for item in out:
            compound = item.household.parent.parent.parent  # type: ignore[union-attr]
            item.place = f"{compound.name if compound else ''} {item.place}".strip()
    return out


def next_in_stairwell(user: Any, household: Area, round_: Round | None) -> Area | None:
    """The next household of the same building in stairwell order that the round has not
    reached (any next household without a round)."""
    building = household.parent.parent if household.parent else None
    if building is None:
        return None
    mine = _mine(user, building.path)
    candidates = (Area.objects.filter(mine, level=Level.HOUSEHOLD, path__subtree=building.path)
                  .select_related("parent")
                  .order_by("parent__ordinal", "parent__code", "ordinal", "code"))
    if round_ is not None:
        candidates = candidates.exclude(pk__in=RoundHousehold.objects.filter(
            round=round_, reached_on__isnull=False).values("household_id"))
    open_ones = set(candidates.values_list("pk", flat=True))
    ids = list(Area.objects.filter(path__subtree=building.path, level=Level.HOUSEHOLD)
               .order_by("parent__ordinal", "parent__code", "ordinal", "code").values_list("pk", flat=True))
    if household.pk not in ids:
        return None
    after = [pk for pk in ids[ids.index(household.pk) + 1:] if pk in open_ones]
    return Area.objects.filter(pk=after[0]).select_related("parent__parent").first() if after else None


def access_visit(user: Any, pk: int | str) -> Visit:
    """A visit of the user's jurisdiction; "not found" for missing and forbidden alike."""
    try:
        return (scope(Visit.objects.all(), user, roles=VISITING)
                .select_related("household__parent__parent", "visited_by").get(pk=int(pk)))
    except (Visit.DoesNotExist, ValueError, OverflowError):
        raise Http404("no such visit") from None


def visits_by(user: Any, limit: int = 30) -> list[Visit]:
    """The user's own latest visits."""
    return list(scope(Visit.objects.filter(visited_by_id=user.pk), user, roles=VISITING)
                .select_related("household__parent__parent").order_by("-at", "-id")[:limit])


def household_visits(user: Any, household: Area, limit: int = 20) -> list[Visit]:
    """The household's latest visits with their findings and who made them."""
    return list(scope(Visit.objects.filter(household=household), user, roles=VISITING)
                .select_related("visited_by").prefetch_related("findings__resident")[:limit])


def findings_of(user: Any, visit: Visit) -> QuerySet[Finding]:
    return scope(Finding.objects.filter(visit=visit), user, roles=VISITING).select_related("resident")

