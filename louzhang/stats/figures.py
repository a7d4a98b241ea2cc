"""The figures of a day (每日数据): one list, read by the dashboard, the daily report (日报) and
`GET /api/v1/stats`, so that the three never disagree.

Two kinds of figure:
- *events* of the day (Asia/Shanghai), counted by the local date of their time: gate checks,
  fevers, visits, tips received …;
- *states* at the end of the day (for today: now): officers on post, people under observation,
  follow-ups open and overdue, households registered.

Where a record counts: at the compound of its household, building, unit or gate; a checkpoint's
or a follow-up's at the area it is filed at (a district, a community …), so a district counts
its own checkpoints and tasks; an area's figures are its own and everything below it. A police
station's figures are those of the communities of its beat and its own officers; an area's
officers are those of the police units that answer only for places inside it (a district: its
branch and its stations; the city: all).

What each figure means (the commander's definitions, as `stats.rollup` counts them):
- officers, officers on post: officers of the unit(s) at the end of the day, by the last
  duty-status change before it (an officer never changed since created: the status they were
  created with).
- households, units: as registered now (the register keeps no history).
- households visited: distinct households somebody was reached at that day (in person, by
  phone or WeChat); a door where nobody answered is no visit, a household visited twice is one.
- returnees / people with symptoms / contacts found: distinct people found at that day's visits
  (back from a key region; with a symptom; in contact with a case).
- under home observation: people whose observation had begun (its first day; a proposed one:
  the day the health liaison confirmed it) and was not closed at the end of the day; proposals
  never confirmed and cancelled observations never count.
- observations started: observations that began that day (as above).
- check-ins missed: check-in slots the observation sweep found missed that day.
- released: observations released that day.
- observation breaches at gates: each time the gate rule found a member of a household under
  home observation going out (the records its follow-ups name, the first and every repeat),
  on the gate record's day.
- fevers: gate checks, checkpoint occupants and people checking in (one per person a day) at
  or above `LOUZHANG_FEVER_THRESHOLD`; the sum of the three figures below it.
- gate checks, vehicles checked, vehicles from key regions: records of the day.
- tips received / closed: tips received that day / closed that day (whenever received).
- follow-ups open / overdue: open at the end of the day / of those, past their due time.
- units disinfected: distinct units (单元) with a round logged that day.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Figure:
    key: str
    label: str | Promise
    #: the counting word of the report's headers (人, 户, 辆, 起 …)
    unit: str | Promise
    #: part of the API's documented `figures` object (`../shared/API.md`); the others are extras
    api: bool = True
    #: the group it is shown in
    group: str = ""
    #: a figure whose rise puts an area at risk on the dashboard
    risk: bool = False




PEOPLE = "people"
SCREENING = "screening"
OBSERVATION = "observation"
POSTS = "posts"
RESIDENTS = "residents"
LOOP = "loop"

GROUPS: dict[str, str | Promise] = {
    PEOPLE: _("Officers"),
    SCREENING: _("Door-to-door screening"),
    OBSERVATION: _("Home observation"),
    POSTS: _("Gates and checkpoints"),
    RESIDENTS: _("Tips and disinfection"),
    LOOP: _("Follow-ups"),
}

FIGURES: tuple[Figure, ...] = (
    Figure("officers", _("officers"), pgettext_lazy("counting word", "people"), group=PEOPLE),
    Figure("officers_on_post", _("officers on post"), pgettext_lazy("counting word", "people"), group=PEOPLE),
    Figure("households", _("households"), pgettext_lazy("counting word", "households"), group=SCREENING),
    Figure("households_visited", _("households visited"), pgettext_lazy("counting word", "households"), group=SCREENING),
    Figure("returnees_found", _("returnees found"), pgettext_lazy("counting word", "people"), group=SCREENING),
    Figure("symptomatic_found", _("people with symptoms found"), pgettext_lazy("counting word", "people"), api=False,
           group=SCREENING, risk=True),
    Figure("contacts_found", _("contacts of cases found"), pgettext_lazy("counting word", "people"), api=False, group=SCREENING,
           risk=True),
    Figure("under_observation", _("under home observation"), pgettext_lazy("counting word", "people"), group=OBSERVATION),
    Figure("observations_started", _("observations started"), pgettext_lazy("counting word", "people"), api=False,
           group=OBSERVATION),
    Figure("check_ins_missed", _("check-ins missed"), pgettext_lazy("counting word", "times"), group=OBSERVATION, risk=True),
    Figure("released", _("released from observation"), pgettext_lazy("counting word", "people"), group=OBSERVATION),
    Figure("breaches", _("observation breaches at gates"), pgettext_lazy("counting word", "times"), api=False,
           group=OBSERVATION, risk=True),
    Figure("fevers", _("fevers"), pgettext_lazy("counting word", "person-times"), group=POSTS, risk=True),
    Figure("gate_checks", _("gate checks"), pgettext_lazy("counting word", "person-times"), group=POSTS),
    Figure("gate_fevers", _("fevers at gates"), pgettext_lazy("counting word", "person-times"), api=False, group=POSTS),
    Figure("vehicles_checked", _("vehicles checked"), pgettext_lazy("counting word", "vehicles"), group=POSTS),
    Figure("key_region_vehicles", _("vehicles from key regions"), pgettext_lazy("counting word", "vehicles"), group=POSTS,
           risk=True),
    Figure("checkpoint_fevers", _("fevers at checkpoints"), pgettext_lazy("counting word", "person-times"), api=False, group=POSTS),
    Figure("check_in_fevers", _("fevers at check-ins"), pgettext_lazy("counting word", "person-times"), api=False, group=OBSERVATION),
    Figure("tips_received", _("tips received"), pgettext_lazy("counting word", "tips"), group=RESIDENTS),
    Figure("tips_closed", _("tips closed"), pgettext_lazy("counting word", "tips"), group=RESIDENTS),
    Figure("followups_open", _("follow-ups open"), pgettext_lazy("counting word", "items"), group=LOOP),
    Figure("followups_overdue", _("follow-ups overdue"), pgettext_lazy("counting word", "items"), group=LOOP, risk=True),
    Figure("units", _("units (stairwells)"), pgettext_lazy("counting word", "units"), group=RESIDENTS),
    Figure("units_disinfected", _("units disinfected"), pgettext_lazy("counting word", "units"), group=RESIDENTS),
)

KEYS: tuple[str, ...] = tuple(f.key for f in FIGURES)
API_KEYS: tuple[str, ...] = tuple(f.key for f in FIGURES if f.api)
RISK_KEYS: tuple[str, ...] = tuple(f.key for f in FIGURES if f.risk)
BY_KEY: dict[str, Figure] = {f.key: f for f in FIGURES}
#: figures that are states at the end of the day: a series shows them as they stood, and the
#: sum over several days means nothing
STATES: frozenset[str] = frozenset({
    "officers", "officers_on_post", "households", "under_observation", "followups_open",
    "followups_overdue", "units",
})
#: figures kept per police unit rather than per area
UNIT_KEYS: tuple[str, ...] = ("officers", "officers_on_post")
#: figures kept per area
AREA_KEYS: tuple[str, ...] = tuple(k for k in KEYS if k not in UNIT_KEYS)
