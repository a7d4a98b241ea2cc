"""Who holds a role over an area: the owner of a follow-up, the commanders it climbs to, the
people an alert is for.

The owner is the warden of the building (楼长), else the warden of the compound, else the
nearest commander — the station (派出所) whose beat holds the compound. Escalation climbs the
commanders from the nearest tier up: station, then branch (分局), then the city.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from louzhang.access.grants import Holding, holdings
from louzhang.accounts.models import Grant, Role, User
from louzhang.areas.models import Area, Level
from louzhang.core.memo import by_path
from louzhang.core.paths import AreaPath


@dataclass(frozen=True)
class Responsible:
    user: User | None
    role: str


@dataclass(frozen=True)
class Holder:
    """An active user holding a role over an area, and where (see `access.grants.Holding`)."""

    user: User
    holding: Holding

    @property
    def role(self) -> str:
        return self.holding.role

    @property
    def level(self) -> int:
        return self.holding.level


def _ancestry(area: Area) -> list[str]:
    return [*AreaPath(area.path).ancestors(), area.path]


def _read_holders(exact: list[str], compounds: list[str]) -> Iterator[tuple[str, Holder]]:
    found = holdings(Grant.objects.filter(user__is_active=True), at=exact, below=compounds)
    users = User.objects.in_bulk({h.user_id for h in found})
    for holding in found:
        yield holding.path, Holder(users[holding.user_id], holding)


def holders_over(area: Area, roles: Sequence[str]) -> list[Holder]:
    """Active users holding one of `roles` over `area`: by a grant of the area or an area above
    it, or by a police unit answering for it. Inside `core.memo.remembered()` a batch reads a
    compound's holders once."""
    held = by_path("holders", _ancestry(area), _read_holders, subtrees_at=Level.COMPOUND)
    return [holder for holders in held.values() for holder in holders if holder.role in roles]


def warden_of(area: Area) -> User | None:
    """The warden granted the nearest building or compound at or above `area`."""
    wardens = [h for h in holders_over(area, [Role.WARDEN])
               if h.holding.by_area and h.level >= Level.COMPOUND]
    nearest = min(wardens, key=lambda h: (-h.level, h.holding.grant_id), default=None)
    return nearest.user if nearest else None


def wardens_over(area: Area) -> list[User]:
    """Every warden whose grant covers `area`, by name (the people a follow-up may go to)."""
    users = {h.user.pk: h.user for h in holders_over(area, [Role.WARDEN])}
    return sorted(users.values(), key=lambda u: (u.display_name, u.pk))


def commander_tiers(area: Area) -> list[list[User]]:
    """Commanders answering for `area`, grouped by how near they are, nearest tier first."""
    by_depth: dict[int, dict[int, User]] = defaultdict(dict)
    for holder in holders_over(area, [Role.COMMANDER]):
        by_depth[holder.level][holder.user.pk] = holder.user
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
