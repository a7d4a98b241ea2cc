"""What the commanders' dashboard (指挥看板) shows of a place on a day, put together from the
selectors: the day against the day before, the trend over the last weeks, the breakdown by child
area and the compounds at risk. The page, its refresh and its JSON all read one `Dashboard`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from louzhang.access.areas import area_ancestors
from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import COMMANDING
from louzhang.areas.models import Area
from louzhang.duty.selectors import police_units
from louzhang.stats import selectors
from louzhang.stats.figures import BY_KEY, FIGURES, GROUPS, RISK_KEYS, STATES, Figure
from louzhang.stats.selectors import MAX_DAYS, Figures, Place

#: the lengths of the trend a commander may choose, in days
TREND_DAYS = (14, 30)
#: the figures of the breakdown's columns and of the home page's tiles
KEY_FIGURES: tuple[str, ...] = ("officers_on_post", "households_visited", "under_observation", "fevers",
                                "key_region_vehicles", "followups_overdue")
#: the trend's lines drawn at first; the others are a tap on the legend away
TREND_SHOWN: tuple[str, ...] = ("households_visited", "under_observation", "fevers", "followups_overdue")


#: `date` under another name, for the form whose field is called `date`
Day = date


def earliest(today: date) -> date:
    """The first day a page may look at: figures are read `MAX_DAYS` back at most."""
    return today - timedelta(days=MAX_DAYS - 1)


class DayForm(forms.Form):
    """`?date=YYYY-MM-DD&days=14`: the day looked at (today when left out) and the trend's length."""

    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label=_("Day"),
                           error_messages={"invalid": _("Not a date: write the day as YYYY-MM-DD.")})
    days = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Trend"),
                                  choices=[(n, n) for n in TREND_DAYS],
                                  error_messages={"invalid_choice": _("Choose a trend of 14 or 30 days.")})

    def __init__(self, data: Any, *, today: Day) -> None:
        if not data.get("date"):  # the picker shows the day shown
            data = data.copy()
            data["date"] = today.isoformat()
        super().__init__(data)
        self.today = today
        self.fields["date"].widget = forms.DateInput(attrs={
            "type": "date", "min": earliest(today).isoformat(), "max": today.isoformat()})

    def clean_date(self) -> Day:
        day: Day | None = self.cleaned_data.get("date")
        if day is None:
            return self.today
        if day > self.today:
            raise forms.ValidationError(
                _("%(day)s is still to come: figures go up to today, %(today)s."),
                params={"day": day.isoformat(), "today": self.today.isoformat()})
        if day < earliest(self.today):
            raise forms.ValidationError(
                _("Figures go back %(n)d days: choose a day from %(first)s to %(today)s."),
                params={"n": MAX_DAYS, "first": earliest(self.today).isoformat(),
                        "today": self.today.isoformat()})
        return day

    @property
    def day(self) -> Day:
        """The day asked for; today if it was not a day the page can show."""
        day: Day | None = self.cleaned_data.get("date") if hasattr(self, "cleaned_data") else None
        return day or self.today

    @property
    def trend_days(self) -> int:
        days: int | None = self.cleaned_data.get("days") if hasattr(self, "cleaned_data") else None
        return days or TREND_DAYS[0]


@dataclass(frozen=True)
class Tile:
    """One figure of the day beside the day before."""

    figure: Figure
    value: int
    previous: int

    @property
    def change(self) -> int:
        return self.value - self.previous

    @property
    def size(self) -> int:
        return abs(self.change)

    @property
    def direction(self) -> str:
        return "up" if self.change > 0 else "down" if self.change < 0 else "same"

    @property
    def tone(self) -> str:
        """A figure of risk rising is worse, falling better; the others are just counts."""
        if not self.figure.risk or not self.change:
            return ""
        return "worse" if self.change > 0 else "better"

    @property
    def is_state(self) -> bool:
        """How things stood (at the end of the day; today: now), not what happened that day."""
        return self.figure.key in STATES


def tiles(figures: Figures, previous: Figures, keys: tuple[str, ...]) -> list[Tile]:
    return [Tile(BY_KEY[k], figures[k], previous[k]) for k in keys]


@dataclass(frozen=True)
class Row:
    """A place of the breakdown or of the list at risk, with its figures of the day."""

    place: Place
    figures: Figures

    @property
    def risk(self) -> int:
        return selectors.risk_score(self.figures)

    @property
    def risks(self) -> list[tuple[Figure, int]]:
        """What puts it at risk: the figures of risk above zero."""
        return [(BY_KEY[k], self.figures[k]) for k in RISK_KEYS if self.figures[k]]

    def cells(self, keys: tuple[str, ...] = KEY_FIGURES) -> list[tuple[str, int]]:
        return [(k, self.figures[k]) for k in keys]


@dataclass(frozen=True)
class Dashboard:
    place: Place
    day: date
    today: date
    #: the place's figures of each day of the trend, the day looked at last
    trend: list[tuple[date, Figures]]
    children: list[Row]
    #: a district's police stations (their beats overlap the child areas: shown apart)
    stations: list[Row]
    at_risk: list[Row]
    #: when the worker last rolled the day up (None: not yet)
    refreshed_at: datetime | None

    @property
    def is_today(self) -> bool:
        return self.day == self.today

    @property
    def figures(self) -> Figures:
        return self.trend[-1][1]

    @property
    def previous(self) -> Figures:
        return self.trend[-2][1]

    @property
    def groups(self) -> list[tuple[str | Promise, list[Tile]]]:
        """The tiles of the day, in the groups and order of `figures.FIGURES`."""
        return [(label, tiles(self.figures, self.previous,
                              tuple(f.key for f in FIGURES if f.group == group)))
                for group, label in GROUPS.items()]

    def charts(self) -> dict[str, Any]:
        """What dashboard.js draws: the trend's lines and the children's treemap."""
        return {
            "days": [d.isoformat() for d, _f in self.trend],
            "figures": [
                {"key": f.key, "label": str(f.label), "unit": str(f.unit), "shown": f.key in TREND_SHOWN,
                 "values": [figures[f.key] for _d, figures in self.trend]}
                for f in FIGURES
            ],
            "children": [
                {"key": row.place.key, "name": row.place.name, "households": row.figures["households"],
                 "risk": row.risk, "url": reverse("dashboard", args=[row.place.key])}
                for row in self.children
            ],
            "labels": {"households": str(_("households")), "risk": str(_("signals of risk"))},
        }

    def as_json(self) -> dict[str, Any]:
        """`/dashboard/<key>/data.json`: the same figures for a script or another screen."""

        def row(r: Row) -> dict[str, Any]:
            return {"key": r.place.key, "name": r.place.name, "kind": r.place.kind, "figures": r.figures}

        return {
            "place": {"key": self.place.key, "name": self.place.name, "kind": self.place.kind},
            "day": self.day.isoformat(),
            "refreshed_at": self.refreshed_at.isoformat() if self.refreshed_at else None,
            "figures": self.figures,
            "previous": self.previous,
            "trend": [{"day": d.isoformat(), "figures": f} for d, f in self.trend],
            "children": [row(r) for r in self.children],
            "stations": [row(r) for r in self.stations],
            "at_risk": [row(r) for r in self.at_risk],
        }


def dashboard_of(place: Place, day: date, days: int = TREND_DAYS[0]) -> Dashboard:
    """The dashboard of a place the user commands (`selectors.place_for`) on a day: some ten
    queries, however many children it has."""
    units = police_units()
    children = selectors.children(place, units)
    stations = selectors.stations_in(place, units)
    of_day = selectors.figures_of_many([*children, *stations], day) if children or stations else []
    rows = [Row(p, f) for p, f in zip([*children, *stations], of_day, strict=True)]
    return Dashboard(
        place=place,
        day=day,
        today=selectors.today(),
        trend=selectors.series(place, day - timedelta(days=max(days, 2) - 1), day),
        children=rows[:len(children)],
        stations=rows[len(children):],
        at_risk=[Row(p, f) for p, f in selectors.at_risk(place, day)],
        refreshed_at=selectors.refreshed_at(day),
    )


def crumbs(user: Any, place: Place) -> list[Area]:
    """The areas above an area place whose dashboards the user may open, the city first."""
    if place.area is None:
        return []
    commands = jurisdiction_for(user, roles=COMMANDING)
    return [a for a in area_ancestors(place.area) if commands.covers(a.path)]


@dataclass(frozen=True)
class Summary:
    """A place's key figures of today against yesterday: the tiles of the home page."""

    place: Place
    tiles: list[Tile]


def summaries(places: list[Place], day: date) -> list[Summary]:
    """The key figures of several places, in four queries."""
    now = selectors.figures_of_many(places, day)
    before = selectors.figures_of_many(places, day - timedelta(days=1))
    return [Summary(p, tiles(f, b, KEY_FIGURES)) for p, f, b in zip(places, now, before, strict=True)]
