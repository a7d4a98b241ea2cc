"""Template pieces of home observation that other pages include: the household page's block
(who of the household is under observation, and the form to open one), the home page's tile
with the worklist counts, and the words for a place and a day."""

from __future__ import annotations

from typing import Any

from django import template

from louzhang.access.masking import Presented
from louzhang.access.roles import may_observe
from louzhang.areas.models import Area, Level
from louzhang.followups.models import FollowUp
from louzhang.observation.forms import open_form
from louzhang.observation.models import Observation, Symptom
from louzhang.observation.selectors import (
    day_of,
    household_observations,
    inspection_of,
    observation_counts,
    observes_anywhere,
)

register = template.Library()


@register.filter
def place(household: Area) -> str:
    """34号楼二单元6楼西户: the household within its compound (the rows select its unit and
    building with it)."""
    unit = household.parent
    building = unit.parent if unit is not None else None
    parts = [a.name for a in (building, unit) if a is not None and a.level >= Level.BUILDING]
    return "".join([*parts, household.name])


@register.filter
def compound_of(household: Area) -> str:
    area: Area | None = household
    while area is not None and area.level > Level.COMPOUND:
        area = area.parent
    return area.name if area is not None else ""


@register.filter
def symptom_labels(codes: str) -> str:
    """"cough,fatigue" as 咳嗽、乏力."""
    labels = [str(Symptom(c).label) if c in Symptom.values else c for c in codes.split(",") if c]
    return "、".join(labels)


@register.simple_tag
def observation_day(observation: Observation) -> dict[str, int]:
    """{"n": day N, "m": of M days}."""
    n, m = day_of(observation)
    return {"n": n, "m": m}


@register.inclusion_tag("observation/_household.html", takes_context=True)
def observation_household(context: template.Context, household: Area,
                          members: list[Presented]) -> dict[str, Any]:
    """On a household's page: its members under home observation (names as the page shows
    them) and, for its officers, the form to put one under observation."""
    user = context["request"].user
    names = {m.obj.pk: m.values["name"] for m in members}
    observations = household_observations(user, household.pk)
    observed = {o.resident_id for o in observations}
    free = [m for m in members if m.obj.pk not in observed]
    can_open = bool(free) and may_observe(user, household.path)
    return {
        "household": household,
        "rows": [(o, names.get(o.resident_id, "")) for o in observations],
        "form": open_form(user, household.path, free) if can_open else None,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("observation/_summary.html", takes_context=True)
def observation_summary(context: template.Context) -> dict[str, Any]:
    """On the home page: the worklist counts (one query), for those who observe."""
    return {"counts": observation_counts(context["request"].user)}


register.filter("observes_anywhere", observes_anywhere)


@register.simple_tag
def travellers_of(followup: FollowUp) -> int | None:
    """On a key-region car's follow-up: the inspection whose travellers to observe."""
    return inspection_of(followup)
