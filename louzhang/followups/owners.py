"""Who answers for an area: the owner of a follow-up and the commanders it climbs to.

The owner is the warden of the building (楼长), else the warden of the compound, else the
nearest commander — the station (派出所) whose beat holds the compound. Escalation climbs the
commanders from the nearest tier up: station, then branch (分局), then the city.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db.models import F, Q

from louzhang.accounts.models import Grant, Role, User
from louzhang.areas.fields import SEPARATOR
from louzhang.areas.models import Area, Level, PoliceUnit
from louzhang.core.memo import by_path


@dataclass(frozen=True)
class Responsible:
    user: User | None
    role: str


def _ancestry(area: Area) -> list[str]:
    return [*area.ancestor_paths(), area.path]


def _grants_at(paths: list[str]) -> dict[str, list[tuple[Grant, int]]]:
    """Active users' grants (every role) held at each of `paths`, with the level each is held
    at: an area grant at its area's level, a station's beat at community level (the path of
    the community), another police unit at its area's level. Kept for a batch inside
    `remembered()`."""
    return by_path("grants_at", paths, _read_grants)


def _read_grants(exact: list[str], compounds: list[str]) -> Iterator[tuple[str, tuple[Grant, int]]]:
    active = Grant.objects.filter(user__is_active=True).select_related("user")
    in_areas = Q(area__path__in=exact)
    for compound in compounds:
        in_areas |= Q(area__path__subtree=compound, area__level__gt=Level.COMPOUND)
    for grant in active.filter(in_areas).select_related("area"):
        assert grant.area is not None
        yield grant.area.path, (grant, grant.area.level)
    # police units answer for a community (a station's beat) or an area above it
    above = [p for p in exact if p.count(SEPARATOR) - 1 <= Level.COMMUNITY]
    if above:
        for grant in active.filter(police_unit__kind=PoliceUnit.Kind.STATION,
                                   police_unit__communities__path__in=above).annotate(
                                       beat=F("police_unit__communities__path")):
            yield grant.beat, (grant, Level.COMMUNITY)
        for grant in (active.filter(police_unit__area__path__in=above)
                      .exclude(police_unit__kind=PoliceUnit.Kind.STATION).select_related("police_unit__area")):
            assert grant.police_unit is not None
            yield grant.police_unit.area.path, (grant, grant.police_unit.area.level)


def warden_of(area: Area) -> User | None:
    """The warden granted the nearest building or compound at or above `area`."""
    wardens = [(level, grant.pk, grant.user) for grant, level in grants_covering(area, [Role.WARDEN])
               if grant.area_id is not None and level >= Level.COMPOUND]
    return min(wardens, key=lambda w: (-w[0], w[1]))[2] if wardens else None


def grants_covering(area: Area, roles: Sequence[str]) -> list[tuple[Grant, int]]:
    """Active users' grants of `roles` whose jurisdiction contains `area`, each with the level
    it is held at (see `_grants_at`)."""
    return [(grant, level) for held in _grants_at(_ancestry(area)).values()
            for grant, level in held if grant.role in roles]


def commander_tiers(area: Area) -> list[list[User]]:
    """Commanders answering for `area`, grouped by how near they are, nearest tier first."""
    by_depth: dict[int, dict[int, User]] = defaultdict(dict)
    for grant, level in grants_covering(area, [Role.COMMANDER]):
        by_depth[level][grant.user_id] = grant.user
    return [
        sorted(users.values(), key=lambda u: u.pk)
        for _, users in sorted(by_depth.items(), reverse=True)
    ]


def owner_for(area: Area) -> Responsible:
    warden = warden_of(area)
    if warden is not None:
        return Responsible(warden, Role.WARDEN)
    tiers = commander_tiers(area)
    if tiers:
        return Responsible(tiers[0][0], Role.COMMANDER)
    return Responsible(None, "")


def escalation_targets(area: Area, owner: Responsible, level: int) -> list[User]:
    """Who is told at escalation `level` (1 = the nearest commanders above the owner)."""
    tiers = commander_tiers(area)
    if owner.role == Role.COMMANDER and owner.user is not None:
        tiers = [t for t in tiers if owner.user not in t] if tiers else tiers
    if 1 <= level <= len(tiers):
        return tiers[level - 1]
    return []
