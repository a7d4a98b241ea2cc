"""The one grant expansion: where each grant is held, read in both directions.

A grant names an area, or a police unit. A unit's grant is held over the areas the unit answers
for: a station (派出所) over exactly the communities of its beat (none assigned yet: nothing),
any other unit (bureau, branch, brigade) over its area. Both questions the product asks of
grants go through `holdings`:

- what may this user see — the holdings of one user's grants (`access.jurisdiction`);
- who holds a role over this area — the holdings at the area's ancestry (`access.holders`).

Only grants in force count: a grant may hold for a time only (`Grant.starts_at`/`ends_at`, an
officer reassigned to a station for seven days), and outside its window it gives nothing — no
page, no API call, no follow-up. `holdings` applies the window itself, at the current time, so
no reader of grants can forget it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, IntegerField, Q, QuerySet, Value

from louzhang.accounts.models import Grant, in_force
from louzhang.areas.models import Level, PoliceUnit
from louzhang.core.paths import AreaPath


@dataclass(frozen=True)
class Holding:
    """A grant as held over one area."""

    grant_id: int
    user_id: int
    role: str
    #: the area held
    path: AreaPath
    #: its level (a station's beat is held at community level)
    level: int
    #: held through a grant of the area itself, not through a police unit
    by_area: bool


_COLUMNS = ("pk", "user_id", "role", "held", "held_level", "direct")


def holdings(grants: QuerySet[Grant], *, at: Iterable[str] | None = None,
             below: Iterable[str] = (), when: datetime | None = None) -> list[Holding]:
    """Where each of `grants` in force `when` (now) is held.

    Without `at`: every area they are held over — one query (a second only when some of the
    grants are a police unit's). With `at`: only holdings of exactly those paths, and (for
    `below`, paths of compounds) area grants anywhere beneath them — a batch asks once for a
    compound what each of its households would ask; one query.
    """
    grants = grants.filter(in_force(when))
    if at is None:
        rows = list(grants.values_list("pk", "user_id", "role", "area__path", "area__level", "police_unit_id"))
        found = [Holding(pk, user_id, role, AreaPath(path), level, True)
                 for pk, user_id, role, path, level, unit in rows if unit is None]
        by_unit = [row[0] for row in rows if row[5] is not None]
        if by_unit:
            found += _rows(_through_units(Grant.objects.filter(pk__in=by_unit)))
        return found
    exact = list(at)
    where = Q(held__in=exact)
    for compound in below:
        where |= Q(held__subtree=compound, held_level__gt=Level.COMPOUND)
    by_area = grants.filter(area__isnull=False).annotate(
        held=F("area__path"), held_level=F("area__level"), direct=Value(1, IntegerField()))
    return _rows([by_area.filter(where), *_through_units(grants, at=exact)])


def _through_units(grants: QuerySet[Grant], at: list[str] | None = None) -> list[QuerySet[Grant]]:
    """The grants of police units, each annotated with the area it is held over: a station's
    with each community of its beat, any other unit's with its area (only those at `at`)."""
    by_station = grants.filter(police_unit__kind=PoliceUnit.Kind.STATION).annotate(
        held=F("police_unit__communities__path"), held_level=Value(Level.COMMUNITY, IntegerField()),
        direct=Value(0, IntegerField()))
    by_unit = grants.filter(police_unit__isnull=False).exclude(
        police_unit__kind=PoliceUnit.Kind.STATION).annotate(
        held=F("police_unit__area__path"), held_level=F("police_unit__area__level"),
        direct=Value(0, IntegerField()))
    if at is not None:
        return [by_station.filter(held__in=at), by_unit.filter(held__in=at)]
    return [by_station, by_unit]


def _rows(branches: list[QuerySet[Grant]]) -> list[Holding]:
    """The holdings of annotated branches (`held`, `held_level`, `direct`), in one UNION query."""
    first, *rest = [branch.values_list(*_COLUMNS) for branch in branches]
    rows = first.union(*rest, all=True) if rest else first
    return [Holding(grant_id, user_id, role, AreaPath(path), level, bool(direct))
            for grant_id, user_id, role, path, level, direct in rows if path is not None]
