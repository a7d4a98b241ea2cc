"""Reading the tree, always through the user's jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from louzhang.areas.jurisdiction import jurisdiction_for, scope
from louzhang.areas.models import Area, Level
from louzhang.registry.models import Resident


def access_area(user: Any, code: str) -> Area:
    """The area with this code if the user may navigate to it; 404 for missing and forbidden alike.

    Inside the jurisdiction everything is visible; an ancestor of a granted area is navigable
    (its name is context on the way down) but shows only the branches that lead to the grants.
    """
    area = Area.objects.filter(code=code).first()
    if area is None or not jurisdiction_for(user).navigable(area.path):
        raise Http404("no such area")
    return area


def area_children(user: Any, area: Area) -> QuerySet[Area]:
    """Children of a navigable area that the user may see or that lead to what they may see."""
    jurisdiction = jurisdiction_for(user)
    children = Area.objects.filter(parent=area).order_by("ordinal", "code")
    if jurisdiction.covers(area.path):
        return children
    return children.filter(path__in=jurisdiction.next_steps_below(area.path))


def area_roots(user: Any) -> QuerySet[Area]:
    """Where a user's navigation starts: the cities for everyone-seeing users, else their grants."""
    jurisdiction = jurisdiction_for(user)
    if jurisdiction.everything:
        return Area.objects.filter(parent__isnull=True).order_by("code")
    return Area.objects.filter(path__in=jurisdiction.paths).order_by(
        "level", "parent_id", "ordinal", "code"
    )


def area_ancestors(area: Area) -> list[Area]:
    """Root first; names only, shown as breadcrumbs."""
    by_path = {a.path: a for a in Area.objects.filter(path__in=area.ancestor_paths())}
    return [by_path[p] for p in area.ancestor_paths() if p in by_path]


@dataclass
class AreaSummary:
    area: Area
    households: int
    residents: int | None


def area_summaries(user: Any, areas: list[Area]) -> list[AreaSummary]:
    """Household (and, from compounds down, resident) counts within the user's jurisdiction.

    Two queries whatever the number of areas: one conditional count per area in each.
    """
    if not areas:
        return []
    jurisdiction = jurisdiction_for(user)
    within = Q()
    for area in areas:
        within |= Q(path__subtree=area.path)
    households = Area.objects.filter(within, level=Level.HOUSEHOLD).filter(jurisdiction.q())
    household_counts = households.aggregate(
        **{f"a{i}": Count("pk", filter=Q(path__subtree=a.path)) for i, a in enumerate(areas)}
    )
    small = [(i, a) for i, a in enumerate(areas) if a.level >= Level.COMPOUND]
    resident_counts: dict[str, int] = {}
    if small:
        residents = Resident.objects.filter(household__in=households)
        resident_counts = residents.aggregate(
            **{f"a{i}": Count("pk", filter=Q(household__path__subtree=a.path)) for i, a in small}
        )
    return [
        AreaSummary(
            area=area,
            households=household_counts[f"a{i}"],
            residents=resident_counts.get(f"a{i}") if area.level >= Level.COMPOUND else None,
        )
        for i, area in enumerate(areas)
    ]


def household_members(user: Any, household: Area) -> QuerySet[Resident]:
    return scope(Resident.objects.filter(household=household), user).order_by("-is_head", "birth_date")


@dataclass
class HomeSection:
    """One block of a user's home page: a place, and what under it is theirs."""

    heading: Area
    crumbs: list[Area]
    items: list[AreaSummary]


def home_sections(user: Any) -> list[HomeSection]:
    """A warden's compounds with their buildings; a commander's area with its parts.

    Grants on buildings, units or households are grouped under their compound; grants on
    larger areas are shown with their children.
    """
    roots = list(area_roots(user))
    compound_paths = {
        area.ancestor_paths()[Level.COMPOUND - 1]
        for area in roots if area.level > Level.COMPOUND
    }
    compounds = {a.path: a for a in Area.objects.filter(path__in=compound_paths)}
    grouped: dict[str, tuple[Area, list[Area]]] = {}
    for area in roots:
        if area.level > Level.COMPOUND:
            heading = compounds[area.ancestor_paths()[Level.COMPOUND - 1]]
            grouped.setdefault(heading.path, (heading, []))[1].append(area)
        else:
            children = list(area_children(user, area)) if area.level < Level.HOUSEHOLD else []
            grouped.setdefault(area.path, (area, []))[1].extend(children)
    sections = []
    for heading, items in grouped.values():
        items.sort(key=lambda a: (a.path.count("/"), a.ordinal, a.code))
        sections.append(
            HomeSection(heading=heading, crumbs=area_ancestors(heading),
                        items=area_summaries(user, items))
        )
    return sections
