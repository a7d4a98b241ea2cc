"""Reaching areas of the tree through the user's jurisdiction: the `access_*` fetch-and-check
and the navigation down to what a user holds."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.areas.models import Area


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
    return areas_ancestors([area])[area.path]


def areas_ancestors(areas: list[Area]) -> dict[str, list[Area]]:
    """The breadcrumbs of several areas, by path, in one query."""
    wanted = {p for area in areas for p in area.ancestor_paths()}
    by_path = {a.path: a for a in Area.objects.filter(path__in=wanted)} if wanted else {}
    return {area.path: [by_path[p] for p in area.ancestor_paths() if p in by_path] for area in areas}
