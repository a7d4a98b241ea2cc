"""Who answers for an area: the owner of a follow-up and the commanders it climbs to.

The owner is the warden of the building (楼长), else the warden of the compound, else the
nearest commander — the station (派出所) whose beat holds the compound. Escalation climbs the
commanders from the nearest tier up: station, then branch (分局), then the city.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from louzhang.accounts.models import Grant, Role, User
from louzhang.areas.models import Area, Level, PoliceUnit


@dataclass(frozen=True)
class Responsible:
    user: User | None
    role: str


def _ancestry(area: Area) -> list[str]:
    return [*area.ancestor_paths(), area.path]


def warden_of(area: Area) -> User | None:
    """The warden granted the nearest building or compound at or above `area`."""
    paths = _ancestry(area)
    grants = (
        Grant.objects.filter(role=Role.WARDEN, area__path__in=paths, area__level__gte=Level.COMPOUND,
                             user__is_active=True)
        .select_related("user", "area")
        .order_by("-area__level", "id")
    )
    first = grants.first()
    return first.user if first else None


def grants_covering(area: Area, roles: Sequence[str]) -> list[tuple[Grant, int]]:
    """Active users' grants of `roles` whose jurisdiction contains `area`, each with the level
    it is held at: an area grant at its area's level, a station's beat at community level,
    another police unit at its area's level."""
    paths = _ancestry(area)
    grants = Grant.objects.filter(role__in=roles, user__is_active=True).select_related("user")
    found = [(g, g.area.level) for g in grants.filter(area__path__in=paths).select_related("area")
             if g.area is not None]
    found += [(g, Level.COMMUNITY) for g in grants.filter(
        police_unit__kind=PoliceUnit.Kind.STATION, police_unit__communities__path__in=paths)]
    found += [(g, g.police_unit.area.level) for g in grants.filter(police_unit__area__path__in=paths)
              .exclude(police_unit__kind=PoliceUnit.Kind.STATION).select_related("police_unit__area")
              if g.police_unit is not None]
    return found


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
