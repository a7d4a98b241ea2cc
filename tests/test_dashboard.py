"""The commanders' dashboard (指挥看板) over HTTP: only a commander of the place opens it (404 for
everyone else, as for a place that does not exist), its numbers are the roll-ups' numbers of the
day asked for, a bad day is said to be bad, and its refresh and JSON read the same figures."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.gates.models import HouseholdPass
from louzhang.stats import selectors
from louzhang.stats.figures import KEYS
from louzhang.stats.models import AreaDay
from louzhang.stats.rollup import rollup_day
from tests.conftest import (
    BAOLI,
    BAOLI_34,
    BAOLI_34_2_6W,
    BAOTOU,
    DONGHE,
    JIUYUAN,
    api_for,
    web_client,
)

pytestmark = pytest.mark.django_db

XNB = "station:BT-DH-XNB"  # 西脑包派出所, whose beat is 百合社区 (保利百合)
SHAHE = "station:BT-JY-SH"  # 沙河派出所, 九原区
KDE = "station:HLBE-YKS-KDE"  # 库都尔派出所, 牙克石市
EAST = f"{BAOLI}-E"
TILE = re.compile(r'data-figure="(\w+)" data-value="(\d+)" data-previous="(\d+)"')


def _tiles(html: str) -> dict[str, tuple[int, int]]:
    return {k: (int(v), int(p)) for k, v, p in TILE.findall(html)}


def _gate_checks(gate: User, day_offset: int, temperatures: list[float], first: int = 0) -> None:
    """People through 保利百合 东门 with a pass, `day_offset` days ago, in the day's first minutes
    (today's are then already past)."""
    day = timezone.localtime() - timedelta(days=day_offset)
    at = day.replace(hour=0, minute=0, second=first + 1, microsecond=0)
    code = HouseholdPass.objects.get(household__code=BAOLI_34_2_6W).code
    records = [{"client_id": f"dash-{day_offset}-{first + n}", "gate": EAST, "direction": "in",
                "at": (at + timedelta(seconds=n)).isoformat(), "temperature": t, "pass_code": code}
               for n, t in enumerate(temperatures)]
    response = api_for(gate).post("/gate-checks", {"records": records})
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["created"] * len(records)


class Built:
    """The day built: the demo city's records, and today three people through 保利百合 东门, one
    with a fever; yesterday one more, well. `demo` holds each place's figures without them."""

    PLACES = (BAOTOU, DONGHE, XNB, BAOLI)

    def __init__(self, gate: User, commander: User) -> None:
        self.day = selectors.today()
        self.yesterday = self.day - timedelta(days=1)
        places = [selectors.place_for(commander, key) for key in self.PLACES]
        rollup_day(self.day)
        rollup_day(self.yesterday)
        self.demo = {p.key: (selectors.figures(p, self.day), selectors.figures(p, self.yesterday)) for p in places}
        _gate_checks(gate, 0, [36.5, 38.4, 36.7])
        _gate_checks(gate, 1, [36.6])
        rollup_day(self.day)
        rollup_day(self.yesterday)

    def by_hand(self, place: str, figure: str, today: int, yesterday: int) -> tuple[int, int]:
        """A place's figure counted by hand: the demo's, and the records of the test."""
        demo_today, demo_yesterday = self.demo[place]
        return demo_today[figure] + today, demo_yesterday[figure] + yesterday


@pytest.fixture
def built_day(gate: User, commander: User) -> Built:
    return Built(gate, commander)


# --- who may open which dashboard ----------------------------------------------------------


def test_a_station_commander_opens_their_station_but_not_another_nor_the_city(station_xnb: User) -> None:
    client = web_client(station_xnb)
    assert client.get(f"/dashboard/{XNB}/").status_code == 200
    assert client.get(f"/dashboard/{BAOLI}/").status_code == 200
    for key in (SHAHE, KDE, BAOTOU, DONGHE, JIUYUAN, "station:NO-SUCH", "999999"):
        for suffix in ("", "live", "data.json"):
            assert client.get(f"/dashboard/{key}/{suffix}").status_code == 404, (key, suffix)


def test_a_branch_commander_opens_their_district_and_its_stations_only(branch_dh: User) -> None:
    client = web_client(branch_dh)
    page = client.get(f"/dashboard/{DONGHE}/")
    assert page.status_code == 200
    # the district's police station is part of its breakdown, and opens
    assert f'href="/dashboard/{XNB}/"' in page.content.decode()
    assert client.get(f"/dashboard/{XNB}/").status_code == 200
    for key in (BAOTOU, JIUYUAN, SHAHE, KDE):
        assert client.get(f"/dashboard/{key}/").status_code == 404, key
    assert client.get("/dashboard/").url == f"/dashboard/{DONGHE}/"


def test_a_warden_finds_no_dashboard_at_all(warden: User) -> None:
    client = web_client(warden)
    for path in ("/dashboard/", "/dashboard/today/", f"/dashboard/{BAOLI}/", f"/dashboard/{BAOLI}/live",
                 f"/dashboard/{BAOLI}/data.json", f"/dashboard/{XNB}/"):
        assert client.get(path).status_code == 404, path
    home = client.get("/").content.decode()
    assert 'href="/dashboard/"' not in home and "/dashboard/today/" not in home


def test_a_building_or_household_has_no_dashboard(commander: User) -> None:
    client = web_client(commander)
    for code in (BAOLI_34, BAOLI_34_2_6W):
        assert client.get(f"/dashboard/{code}/").status_code == 404


def test_the_commander_reaches_the_dashboard_from_the_top_bar_and_home(commander: User) -> None:
    client = web_client(commander)
    home = client.get("/").content.decode()
    assert 'href="/dashboard/"' in home  # the top bar
    assert 'hx-get="/dashboard/today/"' in home  # today's tiles, loaded after the page
    assert client.get("/dashboard/").url == f"/dashboard/{BAOTOU}/"


def test_an_operator_chooses_among_the_cities(commander: User) -> None:
    admin = User.objects.create_superuser("dash-admin", password="x" * 20)
    page = web_client(admin).get("/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    for city in ("包头市", "呼伦贝尔市", "鄂尔多斯市"):
        assert city in html
    assert f'href="/dashboard/{BAOTOU}/"' in html


# --- the numbers ---------------------------------------------------------------------------


def test_the_tiles_are_the_days_figures_against_the_day_before(commander: User, built_day: Built) -> None:
    today = built_day.day
    for key in (BAOTOU, DONGHE, BAOLI):
        place = selectors.place_for(commander, key)
        now, before = selectors.figures(place, today), selectors.figures(place, today - timedelta(days=1))
        tiles = _tiles(web_client(commander).get(f"/dashboard/{key}/").content.decode())
        assert set(tiles) == set(KEYS)
        assert tiles == {k: (now[k], before[k]) for k in KEYS}, key
        # counted by hand: three through the gate today, one of them with a fever; one yesterday
        assert tiles["gate_checks"] == built_day.by_hand(key, "gate_checks", 3, 1), key
        assert tiles["gate_fevers"] == built_day.by_hand(key, "gate_fevers", 1, 0), key


def test_a_station_shows_its_beat_and_its_officers(station_xnb: User, built_day: Built) -> None:
    place = selectors.place_for(station_xnb, XNB)
    html = web_client(station_xnb).get(f"/dashboard/{XNB}/").content.decode()
    tiles = _tiles(html)
    figures = selectors.figures(place, built_day.day)
    assert {k: v for k, (v, _p) in tiles.items()} == figures
    assert tiles["gate_checks"] == built_day.by_hand(XNB, "gate_checks", 3, 1)
    # broken down into the communities of its beat
    assert 'data-child="150202001001"' in html


def test_the_breakdown_and_the_areas_at_risk(commander: User, built_day: Built) -> None:
    html = web_client(commander).get(f"/dashboard/{BAOTOU}/").content.decode()
    rows = dict(re.findall(r'<tr data-child="([^"]+)">(.*?)</tr>', html, re.S))
    assert set(rows) >= {DONGHE, JIUYUAN}
    cells = dict(re.findall(r'data-figure="(\w+)">(\d+)</td>', rows[DONGHE]))
    donghe = selectors.figures(selectors.place_for(commander, DONGHE), built_day.day)
    assert {k: int(v) for k, v in cells.items()} == {k: donghe[k] for k in cells}
    assert int(cells["fevers"]) >= 1
    # the compound of the fever leads the list at risk, linked to its page and its dashboard
    risk = re.search(r'<li data-risk="([^"]+)">(.*?)</li>', html, re.S)
    assert risk and risk.group(1) == BAOLI
    assert f'href="/areas/{BAOLI}/"' in risk.group(2) and f'href="/dashboard/{BAOLI}/"' in risk.group(2)
    assert 'data-figure="fevers"' in risk.group(2)


def test_a_past_day_is_shown_when_asked(commander: User, built_day: Built) -> None:
    yesterday = built_day.yesterday
    place = selectors.place_for(commander, BAOLI)
    page = web_client(commander).get(f"/dashboard/{BAOLI}/?date={yesterday.isoformat()}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-day="{yesterday.isoformat()}"' in html
    before = selectors.figures(place, yesterday - timedelta(days=1))
    assert _tiles(html) == {k: (v, before[k]) for k, v in selectors.figures(place, yesterday).items()}
    assert _tiles(html)["gate_checks"][0] == built_day.by_hand(BAOLI, "gate_checks", 3, 1)[1]
    # the refresh asks for the same day
    assert f'hx-get="/dashboard/{BAOLI}/live?date={yesterday.isoformat()}"' in html


@pytest.mark.parametrize(("date", "message"), [
    ("2020-13-45", "Not a date: write the day as YYYY-MM-DD."),
    ("yesterday", "Not a date: write the day as YYYY-MM-DD."),
    ("{future}", "is still to come"),
    ("2019-01-01", "Figures go back 120 days"),
])
def test_a_day_it_cannot_show_is_said_plainly(commander: User, date: str, message: str) -> None:
    date = date.format(future=(selectors.today() + timedelta(days=1)).isoformat())
    client = web_client(commander)
    client.cookies["django_language"] = "en"
    page = client.get(f"/dashboard/{BAOTOU}/", {"date": date})
    assert page.status_code == 400
    html = page.content.decode()
    assert message in html and date in html
    assert f"Showing the figures of {selectors.today().isoformat()} instead." in html
    assert f'data-day="{selectors.today().isoformat()}"' in html
    data = client.get(f"/dashboard/{BAOTOU}/data.json", {"date": date})
    assert data.status_code == 400 and message in data.json()["errors"]["date"][0]


def test_a_trend_of_another_length_is_refused(commander: User) -> None:
    client = web_client(commander)
    assert client.get(f"/dashboard/{BAOTOU}/", {"days": "7"}).status_code == 400
    assert client.get(f"/dashboard/{BAOTOU}/data.json", {"days": "7"}).status_code == 400
    assert len(client.get(f"/dashboard/{BAOTOU}/data.json", {"days": "30"}).json()["trend"]) == 30


def test_figures_never_rolled_up_are_said_to_be_so(commander: User) -> None:
    AreaDay.objects.filter(day=selectors.today()).delete()  # as on the first minute of a new install
    client = web_client(commander)
    client.cookies["django_language"] = "en"
    html = client.get(f"/dashboard/{BAOTOU}/").content.decode()
    assert "figures not yet computed — the worker rolls them up every 60 seconds" in html
    rollup_day(selectors.today())
    html = client.get(f"/dashboard/{BAOTOU}/").content.decode()
    refreshed = timezone.localtime(selectors.refreshed_at(selectors.today()))
    assert f"figures rolled up at {refreshed:%H:%M:%S}" in html and "not yet computed" not in html
    # a past day nobody rolled up: the worker will not do it by itself
    long_ago = (selectors.today() - timedelta(days=100)).isoformat()
    html = client.get(f"/dashboard/{BAOTOU}/", {"date": long_ago}).content.decode()
    assert "the figures of this day were never computed" in html and "louzhang stats rebuild" in html


def test_the_json_is_the_same_figures(commander: User, built_day: Built) -> None:
    place = selectors.place_for(commander, DONGHE)
    data = web_client(commander).get(f"/dashboard/{DONGHE}/data.json").json()
    assert data["place"] == {"key": DONGHE, "name": "东河区", "kind": "area"}
    assert data["day"] == built_day.day.isoformat()
    assert data["figures"] == selectors.figures(place, built_day.day)
    assert data["previous"] == selectors.figures(place, built_day.yesterday)
    series = selectors.series(place, built_day.day - timedelta(days=13), built_day.day)
    assert data["trend"] == [{"day": d.isoformat(), "figures": f} for d, f in series]
    assert [c["key"] for c in data["children"]] == [p.key for p in selectors.children(place)]
    assert [s["key"] for s in data["stations"]] == [XNB]
    assert data["at_risk"][0]["key"] == BAOLI and data["at_risk"][0]["figures"]["fevers"] >= 1
    assert data["refreshed_at"] is not None


def test_the_refresh_brings_the_new_figures(commander: User, gate: User, built_day: Built) -> None:
    client = web_client(commander)
    page = client.get(f"/dashboard/{BAOLI}/").content.decode()
    assert 'hx-trigger="every 60s"' in page and f'hx-get="/dashboard/{BAOLI}/live"' in page
    assert _tiles(page)["gate_checks"] == built_day.by_hand(BAOLI, "gate_checks", 3, 1)
    _gate_checks(gate, 0, [36.4, 36.5], first=3)
    rollup_day(built_day.day)
    live = client.get(f"/dashboard/{BAOLI}/live")
    assert live.status_code == 200
    html = live.content.decode()
    assert "<html" not in html and 'id="dashboard-data"' in html
    assert _tiles(html)["gate_checks"] == built_day.by_hand(BAOLI, "gate_checks", 5, 1)


def test_home_tiles_are_todays_key_figures(commander: User, built_day: Built) -> None:
    html = web_client(commander).get("/dashboard/today/").content.decode()
    assert 'data-place="150200"' in html and f'href="/dashboard/{BAOTOU}/"' in html
    place = selectors.place_for(commander, BAOTOU)
    now = selectors.figures(place, built_day.day)
    before = selectors.figures(place, built_day.yesterday)
    tiles = _tiles(html)
    assert tiles and tiles == {k: (now[k], before[k]) for k in tiles}
    assert "fevers" in tiles


def test_the_dashboard_reads_a_handful_of_queries_however_many_areas_below(
        commander: User, built_day: Built, django_assert_max_num_queries: Any) -> None:
    from tests.test_query_counts import _districts_open

    client = web_client(commander)
    client.get(f"/dashboard/{BAOTOU}/")
    # session, user, grants, the city, police units (2) for the place and again (2) for its
    # breakdown, its districts, their figures (2), the series (2), at risk (2: rows, their
    # compounds), when rolled up, unread inbox
    with django_assert_max_num_queries(17) as small:
        assert client.get(f"/dashboard/{BAOTOU}/").status_code == 200
    _districts_open(["新城区", "高新区", "滨河新区", "北梁新区"])
    rollup_day(built_day.day)
    with django_assert_max_num_queries(17) as large:
        html = client.get(f"/dashboard/{BAOTOU}/").content.decode()
    assert 'data-child="150293"' in html and len(large) == len(small)
