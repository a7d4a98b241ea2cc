"""Reads of unit representatives and disinfection, always through the user's jurisdiction.

Who may do what (the roles are `accounts.models.Role`):

- a warden or commander over a unit keeps it (`may_keep`): registers its representatives,
  sets its plan, sees its coverage, logs a round;
- a unit representative logs rounds of the units they represent: registered as its
  representative (and not ended) with a log-in that holds the `unit_rep` role over the unit
  (`represented_units`) — or through their personal link, which needs no log-in.

An area, unit or representative outside what the user keeps is "not found" (`Http404`),
exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, QuerySet
from django.http import Http404
from django.utils import timezone

from louzhang.access.holders import holders_over
from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.access.masking import Presented, present
from louzhang.accounts.models import Role, User
from louzhang.areas.models import Area, Level
from louzhang.core.paths import AreaPath
from louzhang.disinfection.models import (
    CommonArea,
    Disinfection,
    DisinfectionPlan,
    UnitRepresentative,
)
from louzhang.disinfection.schedule import day_bounds, deadline_of, deadlines, due_by
from louzhang.registry.models import Resident

#: keep the disinfection of their area: register representatives, set plans, see coverage
KEEPING = (Role.WARDEN, Role.COMMANDER)
#: what is ticked when a unit has no plan yet, and the agent when none was used before
DEFAULT_AREAS = [CommonArea.STAIRWELL.value, CommonArea.LIFT.value, CommonArea.HANDLES.value]
DEFAULT_AGENT = "84消毒液"


def keeps_anywhere(user: Any) -> bool:
    return not jurisdiction_for(user, roles=KEEPING).is_empty


def may_keep(user: Any, path: str) -> bool:
    """A warden or commander over the area at `path`."""
    return jurisdiction_for(user, roles=KEEPING).covers(path)


def may_reach(user: Any, path: str) -> bool:
    """The area at `path` is kept by the user, or leads to what they keep (a compound of which
    a warden holds some buildings)."""
    return jurisdiction_for(user, roles=KEEPING).navigable(path)


def represents_anywhere(user: Any) -> bool:
    """Holds the unit representative's role somewhere (the top bar's one-tap page)."""
    return not jurisdiction_for(user, roles=(Role.UNIT_REP,)).is_empty


# --- fetching and checking ---------------------------------------------------------------------

def access_disinfection_area(user: Any, code: str) -> Area:
    """A compound, building (or any area above) whose disinfection the user keeps in whole or
    in part; 404 otherwise."""
    area = Area.objects.filter(code=code).first()
    if area is None or area.level > Level.BUILDING or not may_reach(user, area.path):
        raise Http404("no such area")
    return area


def access_unit(user: Any, code: str) -> Area:
    """A unit the user keeps; 404 for a missing one and another's alike."""
    unit = Area.objects.filter(code=code, level=Level.UNIT).select_related("parent__parent").first()
    if unit is None or not may_keep(user, unit.path):
        raise Http404("no such unit")
    return unit


def access_representative(user: Any, pk: int | str) -> UnitRepresentative:
    found = (scope(UnitRepresentative.objects.filter(pk=pk), user, roles=KEEPING)
             .select_related("unit", "resident").first())
    if found is None:
        raise Http404("no such representative")
    return found


def representative_by_token(token: str) -> UnitRepresentative | None:
    """The representative whose personal link this is (ended or not), or None."""
    if not 16 <= len(token) <= 32:
        return None
    return UnitRepresentative.objects.filter(token=token).select_related("unit").first()


def represented_units(user: Any) -> list[UnitRepresentative]:
    """The user's own representations in force: registered, not ended, and the unit within
    their `unit_rep` grants."""
    allowed = jurisdiction_for(user, roles=(Role.UNIT_REP,))
    if allowed.is_empty:
        return []
    found = (UnitRepresentative.objects.filter(user=user, ended_at__isnull=True)
             .select_related("unit__parent__parent").order_by("unit__path"))
    return [r for r in found if allowed.covers(r.unit.path)]


def disinfection_roots(user: Any) -> list[Area]:
    """Where the coverage starts for the user: the compounds they keep in whole or in part (an
    area above a compound, for a commander of one)."""
    kept = jurisdiction_for(user, roles=KEEPING)
    if kept.everything:
        return list(Area.objects.filter(parent__isnull=True).order_by("code"))
    paths = {AreaPath(p).ancestor(Level.COMPOUND) for p in kept.paths}
    return list(Area.objects.filter(path__in=paths).order_by("path"))


# --- a unit -------------------------------------------------------------------------------------

def unit_residents(user: Any, unit: Area) -> QuerySet[Resident]:
    """The residents of the unit's households the user may see, by household."""
    return (scope(Resident.objects.filter(household__parent=unit), user)
            .select_related("household").order_by("household__ordinal", "-is_head", "birth_date"))


def unit_representatives(unit: Area) -> list[UnitRepresentative]:
    """The unit's representatives in force, the earliest registered first."""
    return list(UnitRepresentative.objects.filter(unit=unit, ended_at__isnull=True)
                .select_related("resident__household", "user").order_by("registered_at", "pk"))


def present_representatives(user: Any, unit: Area,
                            representatives: Sequence[UnitRepresentative]) -> list[Presented]:
    """The representatives' residents as this user may see them (`present`: masked by role)."""
    return present(user, [r.resident for r in representatives], path_of=lambda r: r.household.path,
                   audit_under=unit.path)


def unit_rep_users(unit: Area) -> list[User]:
    """Log-ins holding the unit representative's role over the unit: who may be linked to a
    representative of it."""
    users = {h.user.pk: h.user for h in holders_over(unit, [Role.UNIT_REP])}
    return sorted(users.values(), key=lambda u: (str(u), u.pk))


def plan_of(unit: Area) -> DisinfectionPlan | None:
    return DisinfectionPlan.objects.filter(unit=unit).first()


def last_agent(unit: Area) -> str:
    """The agent used last in the unit (remembered for the next round), or 84消毒液."""
    agent = (Disinfection.objects.filter(unit=unit).exclude(agent="")
             .order_by("-at", "-pk").values_list("agent", flat=True).first())
    return agent or DEFAULT_AGENT


def unit_recent(unit: Area, limit: int = 10) -> list[Disinfection]:
    return list(Disinfection.objects.filter(unit=unit).select_related("representative__resident", "recorded_by")
                .order_by("-at", "-pk")[:limit])


@dataclass
class Today:
    """A unit's day so far: rounds planned, due by now, done, and the last one."""

    planned: int
    due_now: int
    done: int
    last_at: datetime | None
    #: the deadline of each planned round, as HH:MM, and whether it was met
    rounds: list[tuple[int, str, bool]] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return self.done < self.due_now

    @property
    def state(self) -> str:
        """overdue, done (every round of the day), due (more to come), none (no plan)."""
        if not self.planned:
            return "none"
        if self.overdue:
            return "overdue"
        return "done" if self.done >= self.planned else "due"


def _today(plan: DisinfectionPlan | None, done: int, last_at: datetime | None, now: datetime) -> Today:
    if plan is None:
        return Today(0, 0, done, last_at)
    # by the clock: a plan set at 14:00 expects the 12:00 round too (the sweep, which reminds
    # and opens follow-ups, only looks at deadlines after the plan was set)
    times = deadlines()
    rounds = [(k, deadline_of(k, times).strftime("%H:%M"), done >= k) for k in range(1, plan.times_per_day + 1)]
    due_now = due_by(timezone.localtime(now).time(), plan.times_per_day, times)
    return Today(plan.times_per_day, due_now, done, last_at, rounds)


def unit_today(unit: Area, now: datetime | None = None) -> Today:
    now = now or timezone.now()
    start, end = day_bounds(timezone.localtime(now).date())
    counted = Disinfection.objects.filter(unit=unit, at__gte=start, at__lt=end).aggregate(
        n=Count("id"), last=Max("at"))
    last = counted["last"] or Disinfection.objects.filter(unit=unit, at__lt=end).aggregate(last=Max("at"))["last"]
    return _today(plan_of(unit), counted["n"], last, now)


# --- coverage -------------------------------------------------------------------------------------

@dataclass
class UnitRow:
    unit: Area
    building: Area | None
    plan: DisinfectionPlan | None
    today: Today
    representatives: list[str]


@dataclass
class CompoundTotals:
    compound: Area
    units: int = 0
    planned: int = 0
    disinfected: int = 0
    overdue: int = 0


@dataclass
class Coverage:
    area: Area
    totals: list[CompoundTotals]
    #: per unit, overdue first (empty above a compound: the totals say it)
    rows: list[UnitRow]


def disinfection_coverage(user: Any, area: Area, now: datetime | None = None) -> Coverage:
    """Today's disinfection of the units under `area` that the user keeps: per unit the
    rounds done against the plan, the last done, its representatives (masked as on pages);
    overdue units first; totals per compound."""
    now = now or timezone.now()
    kept = scope(Area.objects.filter(path__subtree=area.path, level=Level.UNIT), user, roles=KEEPING)
    units = list(kept.select_related("parent").order_by("path"))
    # the units as a subquery, not a list of ids: a district has tens of thousands
    ids = kept.values("pk")
    plans = {p.unit_id: p for p in DisinfectionPlan.objects.filter(unit_id__in=ids)}
    start, end = day_bounds(timezone.localtime(now).date())
    today = dict(Disinfection.objects.filter(unit_id__in=ids, at__gte=start, at__lt=end)
                 .values("unit_id").annotate(n=Count("id")).values_list("unit_id", "n"))
    last = dict(Disinfection.objects.filter(unit_id__in=ids, at__lt=end).values("unit_id")
                .annotate(last=Max("at")).values_list("unit_id", "last"))
    compounds = {a.path: a for a in Area.objects.filter(
        path__in={AreaPath(u.path).ancestor(Level.COMPOUND) for u in units})}
    totals: dict[str, CompoundTotals] = {}
    rows: list[UnitRow] = []
    states: list[Today] = []
    for unit in units:
        state = _today(plans.get(unit.pk), today.get(unit.pk, 0), last.get(unit.pk), now)
        states.append(state)
        compound = AreaPath(unit.path).ancestor(Level.COMPOUND)
        total = totals.setdefault(compound, CompoundTotals(compounds[compound]))
        total.units += 1
        total.planned += int(state.planned > 0)
        total.disinfected += int(state.done > 0)
        total.overdue += int(state.overdue)
    if area.level >= Level.COMPOUND:
        names = _representative_names(user, area, [u.pk for u in units])
        rows = [UnitRow(unit, unit.parent, plans.get(unit.pk), state, names.get(unit.pk, []))
                for unit, state in zip(units, states, strict=True)]
        order = {"overdue": 0, "due": 1, "none": 2, "done": 3}
        rows.sort(key=lambda r: order[r.today.state])  # stable: by place within each state
    return Coverage(area, sorted(totals.values(), key=lambda t: t.compound.path), rows)


def _representative_names(user: Any, area: Area, unit_ids: list[int]) -> dict[int, list[str]]:
    """The names of the units' representatives as the user may see them, by unit."""
    reps = list(UnitRepresentative.objects.filter(unit_id__in=unit_ids, ended_at__isnull=True)
                .select_related("resident__household").order_by("registered_at", "pk"))
    if not reps:
        return {}
    shown = present(user, [r.resident for r in reps], path_of=lambda r: r.household.path,
                    audit_under=area.path)
    names: dict[int, list[str]] = {}
    for rep, person in zip(reps, shown, strict=True):
        names.setdefault(rep.unit_id, []).append(person["name"])
    return names
