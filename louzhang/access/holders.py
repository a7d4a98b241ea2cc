"""Who holds a role over an area: the owner of a follow-up, the commanders it climbs to, the
people an alert is for.

The owner is the warden of the building (楼长), else the warden of the compound, else the
nearest commander — the station (派出所) whose beat holds the compound. An event of a whole
compound (a visitor's fever at its gate, a car bound for it) is owned by its lead warden, else
the warden holding most of its buildings (`compound_owner`), and told to all its wardens
(`holders_within`). Escalation climbs the commanders from the nearest tier up: station, then
branch (分局), then the city.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from louzhang.access.grants import Holding, holdings
from louzhang.accounts.models import Grant, LeadWarden, Role, User
from louzhang.areas.models import Area, Level
from louzhang.core.memo import by_path, memo
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
    """Holders at the `exact` paths and by an area grant below the `compounds`: active users'
    grants in force now (`holdings` applies each grant's window), so a reassigned officer
    is told of a follow-up only while the reassignment lasts."""
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


def health_owner(area: Area) -> Responsible:
    """The nearest health liaison (卫生专干) over `area`; without one, `owner_for(area)`."""
    liaisons = [h for h in holders_over(area, [Role.HEALTH])]
    nearest = min(liaisons, key=lambda h: (-h.level, h.holding.grant_id), default=None)
    if nearest is not None:
        return Responsible(nearest.user, Role.HEALTH)
    return owner_for(area)


def holders_within(area: Area, roles: Sequence[str]) -> list[Holder]:
    """Active users holding one of `roles` over `area` (as `holders_over`) or anywhere inside
    it, by an area grant: the wardens of a compound's buildings, units and households with
    those of the compound itself. `area` is a compound or lies below one. Inside
    `core.memo.remembered()` a batch reads a compound once, and what it reads answers
    `holders_over` for the compound as well."""
    return [holder for _path, holder in _within(area) if holder.role in roles]


def _within(area: Area) -> list[tuple[AreaPath, Holder]]:
    if area.level < Level.COMPOUND:
        raise ValueError(f"holders inside an area are read for a compound or below, not {area.code}")
    ancestry = _ancestry(area)
    found = by_path("holders_within", [area.path],
                    lambda _exact, _whole: ((area.path, (AreaPath(p), h))
                                            for p, h in _read_holders(ancestry, [area.path])))
    held = found[area.path]
    over = memo("holders")
    if over is not None:  # the same rows answer `holders_over(area)`: no second read
        for path in ancestry:
            over.setdefault(path, [h for p, h in held if p == path])
    return held


def compound_wardens(area: Area) -> list[Holder]:
    """The wardens of a compound (of `area`, a compound or below one): granted the compound
    itself or an area inside it — a building, a unit, a household."""
    compound = AreaPath(area.path).ancestor(Level.COMPOUND)
    return [holder for path, holder in _within(area) if holder.role == Role.WARDEN
            and holder.holding.by_area and compound.contains(path)]


def _read_leads(exact: list[str], _whole: list[str]) -> Iterator[tuple[str, int]]:
    yield from LeadWarden.objects.filter(compound__path__in=exact).values_list("compound__path", "user_id")


def lead_warden_id(area: Area) -> int | None:
    """The user named lead warden (牵头楼长) of the compound of `area`, whoever they are now."""
    compound = AreaPath(area.path).ancestor(Level.COMPOUND)
    named = by_path("lead_wardens", [compound], _read_leads)[compound]
    return named[0] if named else None


def compound_owner(area: Area) -> Responsible:
    """Who answers for an event of a whole compound (a visitor's fever at its gate, a car
    bound for it): its lead warden (牵头楼长), while they are active and still a warden of the
    compound; else the warden holding most of its buildings — a warden of the compound itself
    holds them all —, the earliest granted of equals; without any warden, the nearest commander
    (the station), as `owner_for`. For an area above a compound, `owner_for(area)`."""
    if area.level < Level.COMPOUND:
        return owner_for(area)
    compound = AreaPath(area.path).ancestor(Level.COMPOUND)
    wardens = compound_wardens(area)
    lead = lead_warden_id(area)
    for holder in wardens:
        if holder.user.pk == lead:
            return Responsible(holder.user, Role.WARDEN)
    buildings: dict[int, set[str]] = defaultdict(set)
    whole: set[int] = set()
    first_grant: dict[int, int] = {}
    users: dict[int, User] = {}
    for holder in wardens:
        user_id = holder.user.pk
        users[user_id] = holder.user
        first_grant[user_id] = min(first_grant.get(user_id, holder.holding.grant_id), holder.holding.grant_id)
        if holder.holding.path == compound:
            whole.add(user_id)
        else:
            buildings[user_id].add(holder.holding.path.ancestor(Level.BUILDING))
    if users:
        best = min(users, key=lambda u: (u not in whole, -len(buildings[u]), first_grant[u]))
        return Responsible(users[best], Role.WARDEN)
    return owner_for(area)


def commander_owner(area: Area) -> Responsible:
    """The nearest commander over `area` — for a station's community, the station commander
    (所长): who answers for the station's own people (an officer not back on post after a
    recall). Nobody when no commander holds the area."""
    tiers = commander_tiers(area)
    if tiers:
        return Responsible(tiers[0][0], Role.COMMANDER)
    return Responsible(None, "")


#: how a rule says who owns the follow-up it opens (`followups.rules.OpenFollowUp.owner_from`)
OWNERS = {"area": owner_for, "health": health_owner, "compound": compound_owner,
          "commander": commander_owner}


def owner_by(how: str, area: Area) -> Responsible:
    return OWNERS[how](area)


def escalation_targets(area: Area, owner: Responsible, level: int) -> list[User]:
    """Who is told at escalation `level` (1 = the nearest commanders above the owner)."""
    tiers = commander_tiers(area)
    if owner.role == Role.COMMANDER and owner.user is not None:
        tiers = [t for t in tiers if owner.user not in t] if tiers else tiers
    if 1 <= level <= len(tiers):
        return tiers[level - 1]
    return []
