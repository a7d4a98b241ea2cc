"""The one grant expansion: where each grant is held, read in both directions.

A grant names an area, or a police unit. A unit's grant is held over the areas the unit answers
for: a station (派出所) over exactly the communities of its beat (none assigned yet: nothing),
any other unit (bureau, branch, brigade) over its area. Both questions the product asks of
grants go through `holdings`:

- what may this user see — the holdings of one user's grants (`access.jurisdiction`);
- who holds a role over this area — the holdings at the area's ancestry (`access.holders`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, IntegerField, Q, QuerySet, Value

from louzhang.accounts.models import Grant
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


def holdings(grants: QuerySet[Grant], *, at: Iterable[str] | None = None,
             below: Iterable[str] = ()) -> list[Holding]:
    """Where each of `grants` is held, in one query.

    Without `at`: every area they are held over. With `at`: only holdings of exactly those
    paths, and (for `below`, paths of compounds) area grants anywhere beneath them — a batch
    asks once for a compound what each of its households would ask.
    """
    by_area = grants.filter(area__isnull=False).annotate(
        held=F("area__path"), held_level=F("area__level"), direct=Value(1, IntegerField()))
    by_station = grants.filter(police_unit__kind=PoliceUnit.Kind.STATION).annotate(
        held=F("police_unit__communities__path"), held_level=Value(Level.COMMUNITY, IntegerField()),
        direct=Value(0, IntegerField()))
    by_unit = grants.filter(police_unit__isnull=False).exclude(
        police_unit__kind=PoliceUnit.Kind.STATION).annotate(
        held=F("police_unit__area__path"), held_level=F("police_unit__area__level"),
        direct=Value(0, IntegerField()))
    branches = [by_area, by_station, by_unit]
    if at is not None:
        exact = list(at)
        where = Q(held__in=exact)
        for compound in below:
            where |= Q(held__subtree=compound, held_level__gt=Level.COMPOUND)
        branches = [by_area.filter(where), by_station.filter(held__in=exact), by_unit.filter(held__in=exact)]
        if not exact:
            branches = [by_area.filter(where)]
    columns = ("pk", "user_id", "role", "held", "held_level", "direct")
    first, *rest = [branch.values_list(*columns) for branch in branches]
    rows = first.union(*rest, all=True) if rest else first
    return [Holding(grant_id, user_id, role, AreaPath(path), level, bool(direct))
            for grant_id, user_id, role, path, level, direct in rows if path is not None]
