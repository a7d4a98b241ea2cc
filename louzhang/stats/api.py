"""`GET /api/v1/stats`: the day's figures of an area, the same numbers as the dashboard and 日报.

The documented answer (`../shared/API.md`) is `{"area", "date", "figures": {…}}` with the
figures of `figures.API_KEYS`. Extensions, none of which changes a documented key:

- `unit=<station code>` (or `area=station:<code>`): a police station (派出所), its beat's
  communities and its own officers;
- `name`, `kind` of the place, and `refreshed_at`: when the day's figures were last rolled up
  (null: never — the figures are then zeros because nothing was counted, not because nothing
  happened);
- `more`: the figures outside the documented object (people with symptoms found, observation
  breaches, fevers by where they were taken …), kept apart so that `figures` stays exactly the
  documented object for a client that checks it strictly;
- `days=N`: a `series` of the N days ending at `date`, oldest first.
"""

from __future__ import annotations

from datetime import date as Date  # noqa: N812
from datetime import datetime, timedelta

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError

from louzhang.stats import selectors
from louzhang.stats.figures import API_KEYS, KEYS
from louzhang.stats.selectors import MAX_DAYS, Figures, Place, place_for

router = Router(tags=["figures"])

#: the figures of the answer's `more` object (not part of the documented `figures`)
MORE_KEYS: tuple[str, ...] = tuple(k for k in KEYS if k not in API_KEYS)


class FiguresOut(Schema):
    """The documented figures of a day (`../shared/API.md`). States (officers, households,
    under observation, follow-ups open and overdue, units) as they stood at the end of the day,
    for today as they stand now; the others count the day's events (Asia/Shanghai day)."""

    officers: int = Field(description="officers of the police units answering for the place (people)")
    officers_on_post: int = Field(description="of them, on post (people)")
    households: int = Field(description="households registered (households)")
    households_visited: int = Field(description="households visited that day (households)")
    returnees_found: int = Field(description="people back from a key region found by visits (people)")
    under_observation: int = Field(description="people under home observation (people)")
    check_ins_missed: int = Field(description="check-ins of home observation missed (times)")
    released: int = Field(description="people released from home observation that day (people)")
    fevers: int = Field(description="readings at or above the fever threshold at gates, checkpoints (each occupant of each vehicle) and check-ins (once per person a day) (person-times)")
    gate_checks: int = Field(description="people checked at compound gates (person-times)")
    vehicles_checked: int = Field(description="vehicles checked at checkpoints (vehicles)")
    key_region_vehicles: int = Field(description="of them, from key regions (vehicles)")
    tips_received: int = Field(description="tips received (tips)")
    tips_closed: int = Field(description="tips closed (tips)")
    followups_open: int = Field(description="follow-ups open (items)")
    followups_overdue: int = Field(description="of them, overdue (items)")
    units: int = Field(description="units (stairwells, 单元) registered (units)")
    units_disinfected: int = Field(description="units disinfected that day (units)")


class MoreFiguresOut(Schema):
    """Figures beyond the documented ones (an extension)."""

    symptomatic_found: int = Field(description="people with symptoms found by visits (people)")
    contacts_found: int = Field(description="contacts of cases found by visits (people)")
    observations_started: int = Field(description="home observations started that day (people)")
    breaches: int = Field(description="people under observation going out through a gate (times)")
    gate_fevers: int = Field(description="readings at or above the fever threshold at gates (person-times)")
    checkpoint_fevers: int = Field(description="fevers among vehicles' occupants at checkpoints, each occupant of each vehicle (person-times)")
    check_in_fevers: int = Field(description="people with a fever at home-observation check-ins, once per person a day (person-times)")


class StatsDayOut(Schema):
    date: Date
    figures: FiguresOut
    more: MoreFiguresOut


class StatsOut(Schema):
    area: str = Field(description="the place as asked: an area code, or `station:<code>` for a police station")
    name: str = Field(description="the place's name")
    kind: str = Field(description="area, or station (a police station: its beat's communities and its officers)")
    date: Date = Field(description="the local day (Asia/Shanghai)")
    refreshed_at: datetime | None = Field(
        description="when the day's figures were last rolled up from the records; null: never "
                    "(the figures are then zeros because nothing was counted)")
    figures: FiguresOut
    more: MoreFiguresOut = Field(description="figures beyond the documented ones")
    series: list[StatsDayOut] | None = Field(
        None, description="with `days`: the figures of each of the `days` days ending at `date`, oldest first")


class StatsQuery(Schema):
    area: str | None = Field(None, max_length=80, description="an area code (city … compound), or `station:<code>`")
    unit: str | None = Field(None, max_length=64, description="instead of `area`: a police station's code")
    date: Date | None = Field(None, description="YYYY-MM-DD, a local day; default today")
    days: int | None = Field(None, ge=1, le=MAX_DAYS, description=f"1–{MAX_DAYS}: add the series of that many days")


def _invalid(field: str, msg: str) -> ValidationError:
    return ValidationError([{"loc": ["query", field], "msg": msg, "type": "value_error"}])


def _split(figures: Figures) -> dict[str, dict[str, int]]:
    return {"figures": {k: figures[k] for k in API_KEYS}, "more": {k: figures[k] for k in MORE_KEYS}}


@router.get("/stats", response=StatsOut)
def get_stats(request: HttpRequest, query: Query[StatsQuery]) -> dict[str, object]:
    """The figures of one day for a place the token's user commands: the same numbers as the
    dashboard and the daily report, read from the daily roll-ups. A place outside the user's
    commander jurisdiction (or a user who commands nowhere) is a 404, exactly as one that does
    not exist."""
    user = request.auth  # type: ignore[attr-defined]
    today = selectors.today()
    earliest = today - timedelta(days=MAX_DAYS - 1)
    if query.area and query.unit:
        raise _invalid("unit", "give either area or unit, not both")
    if not query.area and not query.unit:
        raise _invalid("area", "an area code (or unit: a police station's code) is required")
    day = query.date or today
    if day > today:
        raise _invalid("date", f"{day.isoformat()} is in the future; the latest day is today, {today.isoformat()}")
    if day < earliest:
        raise _invalid("date", f"{day.isoformat()} is more than {MAX_DAYS} days ago; the earliest day is "
                               f"{earliest.isoformat()}")
    place: Place = place_for(user, f"station:{query.unit}" if query.unit else str(query.area))
    answer: dict[str, object] = {
        "area": place.key, "name": place.name, "kind": place.kind, "date": day,
        "refreshed_at": selectors.refreshed_at(day),
    }
    if query.days:
        days = selectors.series(place, day - timedelta(days=query.days - 1), day)
        answer.update(_split(days[-1][1]))
        answer["series"] = [{"date": d, **_split(f)} for d, f in days]
    else:
        answer.update(_split(selectors.figures(place, day)))
    return answer
