"""Reads of people on post (在岗), always from the user's jurisdiction as a commander.

Officers are not on the area tree themselves: they belong to a police unit, and a unit sits on
the tree where it answers — a station (派出所) at the communities of its beat, any other unit
(a branch, the bureau, a traffic brigade) and a station without a beat yet at its area. A user
commands a unit's officers when their commander grants cover every place of the unit
(`units_commanded`): the station's commander their station, a branch its stations, the city's
command centre every unit of the city. The same test decides who may set an officer's duty
status, import officers of a unit and read its on-post rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import COMMANDING, commands_anywhere
from louzhang.areas.models import Area, Level, PoliceUnit
from louzhang.core.paths import AreaPath
from louzhang.duty.models import DutyStatus, Officer, Recall, ResponseLevel, StatusChange

#: officers on one page of the list
OFFICERS_PER_PAGE = 100


@dataclass(frozen=True)
class UnitPlace:
    """A police unit and where it sits on the tree."""

    pk: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    area_id: int
    area_path: str
    #: (area id, path) of the communities of a station's beat, by path
    communities: tuple[tuple[int, str], ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        """Where the unit answers: a station's communities, else its area."""
        return tuple(path for _pk, path in self.communities) or (self.area_path,)

    @property
    def place_id(self) -> int:
        """The one area that stands for the unit (its follow-ups, announcements and audit
        events are filed there): a station's first community, else its area."""
        return self.communities[0][0] if self.communities else self.area_id

    @property
    def place_path(self) -> str:
        return self.communities[0][1] if self.communities else self.area_path

    def answers_for(self, path: str) -> bool:
        """The unit answers for the area at `path` or for a place inside it (`PoliceUnit.area`,
        `PoliceUnit.communities`)."""
        within = AreaPath(path).contains
        return within(self.area_path) or any(within(p) for _pk, p in self.communities)


def police_units() -> dict[int, UnitPlace]:
    """Every police unit with its places, by id: two queries (units are a few hundred)."""
    beats: dict[int, list[tuple[int, str]]] = {}
    through = PoliceUnit.communities.through
    for unit_id, area_id, path in through.objects.values_list("policeunit_id", "area_id", "area__path"):
        beats.setdefault(unit_id, []).append((area_id, path))
    return {
        pk: UnitPlace(pk, code, name, kind, parent_id, area_id, area_path,
                      tuple(sorted(beats.get(pk, []), key=lambda c: c[1])))
        for pk, code, name, kind, parent_id, area_id, area_path in PoliceUnit.objects.values_list(
            "pk", "code", "name", "kind", "parent_id", "area_id", "area__path")
    }


def units_commanded(user: Any) -> dict[int, UnitPlace]:
    """The police units whose officers `user` commands: every place of the unit lies inside
    their commander grants (a superuser: every unit). Kept on the user for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    cached: dict[int, UnitPlace] | None = user.__dict__.get("_lz_units_commanded")
    if cached is not None:
        return cached
    jurisdiction = jurisdiction_for(user, roles=COMMANDING)
    if jurisdiction.is_empty:
        units: dict[int, UnitPlace] = {}
    else:
        units = {pk: unit for pk, unit in police_units().items()
                 if all(jurisdiction.covers(path) for path in unit.paths)}
    user.__dict__["_lz_units_commanded"] = units
    return units


def may_command_unit(user: Any, unit_id: int) -> bool:
    """Set the duty status of the unit's officers, import them (a commander of the unit)."""
    return unit_id in units_commanded(user)


def commands_officers(user: Any) -> bool:
    """A commander somewhere: the officers' and on-post pages are theirs (read from the grants
    the page has read already, no query of its own)."""
    return commands_anywhere(user)


# --- officers ------------------------------------------------------------------------------


def officers_visible(user: Any) -> QuerySet[Officer]:
    return Officer.objects.filter(unit_id__in=list(units_commanded(user))).select_related("unit")


def officers_list(user: Any, *, unit: int | None = None, status: str | None = None) -> QuerySet[Officer]:
    """The officers of the units the user commands, by unit and badge number; `unit` and
    `status` narrow it (a unit outside the user's command gives nothing)."""
    officers = officers_visible(user)
    if unit is not None:
        officers = officers.filter(unit_id=unit)
    if status:
        officers = officers.filter(status=status)
    return officers.order_by("unit__code", "badge_number")


def access_officer(user: Any, pk: int | str) -> Officer:
    """The officer, if the user commands their unit; "not found" for missing and forbidden alike."""
    try:
        return officers_visible(user).select_related("user").get(pk=int(pk))
    except (Officer.DoesNotExist, ValueError, OverflowError):
        raise Http404("no such officer") from None


def officer_history(officer: Officer) -> list[StatusChange]:
    """The officer's duty status over time, newest first."""
    return list(officer.status_changes.select_related("by").order_by("-at", "-pk")[:200])


def officer_recalls(officer: Officer) -> list[Recall]:
    return list(officer.recalls.select_related("response__area").order_by("-sent_at", "-pk")[:20])


def open_recall_of(officer: Officer) -> Recall | None:
    """The officer's recall still waiting for them (not on post, not ended)."""
    return (officer.recalls.filter(on_post_at__isnull=True, ended_at__isnull=True)
            .select_related("response__area").order_by("-sent_at").first())


def my_recalls(user: Any) -> tuple[Officer | None, list[Recall]]:
    """The officer linked to the user's log-in and their recalls: still open first, then the
    latest closed ones."""
    user_id: int | None = getattr(user, "pk", None)
    officer = Officer.objects.filter(user_id=user_id).select_related("unit").first() if user_id else None
    if officer is None:
        return None, []
    recalls = list(officer.recalls.select_related("response__area")
                   .order_by("-sent_at", "-pk")[:10])
    recalls.sort(key=lambda r: (r.on_post_at is not None or r.ended_at is not None, -r.sent_at.timestamp()))
    return officer, recalls


def access_my_recall(user: Any, pk: int | str) -> Recall:
    """One of the user's own recalls (as the officer linked to their log-in)."""
    user_id: int | None = getattr(user, "pk", None)
    try:
        if user_id is None:
            raise Recall.DoesNotExist
        return (Recall.objects.select_related("officer__unit", "response__area")
                .get(pk=int(pk), officer__user_id=user_id))
    except (Recall.DoesNotExist, ValueError, OverflowError):
        raise Http404("no such recall") from None


# --- response levels -----------------------------------------------------------------------


def access_command_area(user: Any, code: str) -> Area:
    """An area a commander may look at the officers of: inside their commander grants, or on
    the way down to them (the counts then hold only the units they command). "Not found" for
    missing and forbidden alike, and for a user who commands nowhere."""
    area = Area.objects.filter(code=code, level__lte=Level.COMMUNITY).first()
    if area is None or not jurisdiction_for(user, roles=COMMANDING).navigable(area.path):
        raise Http404("no such area")
    return area


def command_roots(user: Any) -> list[Area]:
    """Where a commander's on-post view starts: the areas of their commander grants (a station
    commander: the communities of the beat; the city: the city)."""
    jurisdiction = jurisdiction_for(user, roles=COMMANDING)
    if jurisdiction.everything:
        return list(Area.objects.filter(parent__isnull=True).order_by("code"))
    return list(Area.objects.filter(path__in=jurisdiction.paths, level__lte=Level.COMMUNITY)
                .order_by("level", "code"))


def response_levels_over(area: Area) -> list[ResponseLevel]:
    """The response levels in force at `area` and above it (the city's, the district's …),
    highest area first."""
    paths = [*area.ancestor_paths(), area.path]
    found = ResponseLevel.objects.filter(area__path__in=paths, ended_at__isnull=True).select_related("area")
    return sorted(found, key=lambda r: len(r.area.path))


def response_current(area: Area) -> ResponseLevel | None:
    return ResponseLevel.objects.filter(area=area, ended_at__isnull=True).first()


# --- the on-post rate (在岗率) -------------------------------------------------------------


@dataclass
class Tally:
    officers: int = 0
    on_post: int = 0
    #: recalls still waiting (not on post, not ended), and those past their due time
    recalled: int = 0
    overdue: int = 0

    @property
    def rate(self) -> float:
        return round(self.on_post / self.officers, 4) if self.officers else 0.0

    def add(self, other: Tally) -> None:
        self.officers += other.officers
        self.on_post += other.on_post
        self.recalled += other.recalled
        self.overdue += other.overdue


@dataclass
class OnPostItem:
    """One line of the rate: a child area (for a city: its districts) or a police unit."""

    code: str
    name: str
    #: "area", or the unit's kind ("station", "branch", "bureau", "brigade")
    kind: str
    count: Tally = field(default_factory=Tally)


@dataclass
class OnPost:
    area: Area
    count: Tally
    items: list[OnPostItem]
    at: datetime


def on_post_rate(user: Any, area: Area, now: datetime | None = None) -> OnPost:
    """Officers and officers on post of the units the user commands that answer for `area`,
    with one item per child area when `area` is a city (its districts, and the city's own
    units such as the bureau), else one per police unit (the stations, and the branch's own
    staff). Three queries."""
    now = now or timezone.now()
    units = {pk: u for pk, u in units_commanded(user).items() if u.answers_for(area.path)}
    per_unit: dict[int, Tally] = {pk: Tally() for pk in units}
    for unit_id, officers, on_post in (
            Officer.objects.filter(unit_id__in=list(units)).values("unit_id")
            .annotate(n=Count("pk"), on=Count("pk", filter=Q(status=DutyStatus.ON_POST)))
            .values_list("unit_id", "n", "on")):
        per_unit[unit_id].officers, per_unit[unit_id].on_post = officers, on_post
    for unit_id, waiting, overdue in (
            Recall.objects.filter(officer__unit_id__in=list(units), on_post_at__isnull=True,
                                  ended_at__isnull=True).values("officer__unit_id")
            .annotate(n=Count("pk"), late=Count("pk", filter=Q(due_at__lte=now)))
            .values_list("officer__unit_id", "n", "late")):
        per_unit[unit_id].recalled, per_unit[unit_id].overdue = waiting, overdue
    total = Tally()
    for count in per_unit.values():
        total.add(count)
    ordered = sorted(units.values(), key=lambda u: (u.kind == PoliceUnit.Kind.STATION, u.code))
    items: list[OnPostItem] = []
    if area.level <= Level.CITY:
        placed: set[int] = set()
        for child in Area.objects.filter(parent=area).order_by("ordinal", "code"):
            inside = [u for u in ordered if u.answers_for(child.path)]
            if not inside:
                continue
            item = OnPostItem(child.code, child.name, "area")
            for unit in inside:
                item.count.add(per_unit[unit.pk])
                placed.add(unit.pk)
            items.append(item)
        own = [OnPostItem(u.code, u.name, u.kind, per_unit[u.pk]) for u in ordered if u.pk not in placed]
        items = own + items
    else:
        items = [OnPostItem(u.code, u.name, u.kind, per_unit[u.pk]) for u in ordered]
    return OnPost(area=area, count=total, items=items, at=now)
