"""The on-post rate (在岗率): officers and officers on post of the police units answering for an
area, one item per child station (or, for a city, per district), as far as the reader commands
them — on the commander's page and through `GET /api/v1/on-post`."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from louzhang.accounts.models import Grant, Role, User
from louzhang.areas.models import PoliceUnit
from louzhang.demo.duty import demo_duty
from louzhang.duty.models import DutyStatus, Officer
from tests.conftest import ApiClient, api_for, web_client

pytestmark = pytest.mark.django_db

YAKESHI, KUDUER = "150782", "150782101001"


@pytest.fixture(autouse=True)
def officers() -> None:
    """The demo's officers: 库都尔派出所 three of five on post (one on leave, one sick), 西脑包派出所
    four of four."""
    demo_duty()


def _commander_of(unit: str, username: str) -> User:
    user = User.objects.create(username=username, display_name=username)
    Grant.objects.create(user=user, role=Role.COMMANDER, police_unit=PoliceUnit.objects.get(code=unit))
    return user


@pytest.fixture
def yks_commander() -> User:
    return _commander_of("HLBE-YKS", "branch_yks")


@pytest.fixture
def jy_commander() -> User:
    return _commander_of("BT-JY", "branch_jy")


def _item(code: str, name: str, kind: str, officers: int, on_post: int, recalled: int = 0) -> dict[str, Any]:
    return {"area": code, "name": name, "kind": kind, "officers": officers, "on_post": on_post,
            "rate": round(on_post / officers, 4) if officers else 0.0, "recalled": recalled, "overdue": 0}


def test_a_district_has_one_item_per_station(yks_commander: User) -> None:
    answer = api_for(yks_commander).get("/on-post", area=YAKESHI)
    assert answer.status_code == 200
    found = answer.json()
    # the branch's own staff first, then its stations
    assert [(i["area"], i["name"], i["kind"]) for i in found["items"]] == [
        ("HLBE-YKS", "牙克石市公安局", "branch"), ("HLBE-YKS-KDE", "库都尔派出所", "station"),
        ("HLBE-YKS-SL", "胜利派出所", "station")]
    assert found["items"][1] == _item("HLBE-YKS-KDE", "库都尔派出所", "station", 5, 3)
    officers, on_post = (sum(i[k] for i in found["items"]) for k in ("officers", "on_post"))
    assert (found["area"], found["officers"], found["on_post"]) == (YAKESHI, officers, on_post)
    assert found["rate"] == round(on_post / officers, 4) and officers >= 5


def test_a_city_has_one_item_per_district(commander: User) -> None:
    answer = api_for(commander).get("/on-post", area="150200").json()
    # the bureau's own staff, then the districts with a unit answering for them
    assert [(i["area"], i["kind"]) for i in answer["items"]] == [
        ("BT-PSB", "bureau"), ("150202", "area"), ("150207", "area")]
    donghe = answer["items"][1]
    assert (donghe["name"], donghe["officers"], donghe["on_post"]) == ("东河区", 4, 4)  # 西脑包派出所
    assert answer["officers"] == sum(i["officers"] for i in answer["items"])


def test_a_station_commander_counts_their_own_station_only(station_kde: User) -> None:
    Officer.objects.create(badge_number="SL-1", name="胜利所民警", category=Officer.Category.POLICE,
                           unit=PoliceUnit.objects.get(code="HLBE-YKS-SL"), status=DutyStatus.ON_POST)
    for area in (YAKESHI, KUDUER):  # the way down to the beat, and the beat
        answer = api_for(station_kde).get("/on-post", area=area).json()
        assert (answer["officers"], answer["on_post"]) == (5, 3)
        assert [i["area"] for i in answer["items"]] == ["HLBE-YKS-KDE"]


def test_counts_follow_the_duty_status(station_kde: User) -> None:
    Officer.objects.filter(badge_number="150782102").update(status=DutyStatus.ON_POST)
    answer = api_for(station_kde).get("/on-post", area=YAKESHI).json()
    assert (answer["officers"], answer["on_post"], answer["rate"]) == (5, 4, 0.8)


def test_outside_the_command_is_not_found(jy_commander: User, station_xnb: User, branch_dh: User,
                                          warden_jy: User, yks_commander: User) -> None:
    for outsider in (jy_commander, station_xnb, branch_dh, warden_jy):
        answer = api_for(outsider).get("/on-post", area=YAKESHI)
        assert answer.status_code == 404
        assert answer["Content-Type"] == "application/problem+json"
        assert web_client(outsider).get("/on-post/", {"area": YAKESHI}).status_code == 404
    assert api_for(yks_commander).get("/on-post", area="000000").status_code == 404  # missing alike
    assert ApiClient(None).get("/on-post", area=YAKESHI).status_code == 401
    assert api_for(yks_commander).get("/on-post").status_code == 422


def test_the_page_is_a_table_per_station(yks_commander: User) -> None:
    client = web_client(yks_commander)
    with translation.override("zh-hans"):
        page = client.get("/on-post/", {"area": YAKESHI})
        default = client.get("/on-post/")  # starts where the command starts
    html = page.content.decode()
    assert page.status_code == 200
    rate = page.context["rate"]
    assert f"data-on-post>{rate.count.on_post}<" in html and f"data-officers>{rate.count.officers}<" in html
    assert 'data-item="HLBE-YKS-KDE"' in html and "60%" in html  # 库都尔派出所: 3 of 5
    assert 'data-item="HLBE-YKS-KDE"' in html and "库都尔派出所" in html
    assert default.status_code == 200 and default.context["area"].code == YAKESHI
    assert 'href="/on-post/"' in html  # the top bar's link for commanders


def test_the_top_bar_shows_on_post_to_commanders_only(warden: User, station_xnb: User) -> None:
    assert 'href="/on-post/"' not in web_client(warden).get("/").content.decode()
    assert 'href="/on-post/"' in web_client(station_xnb).get("/").content.decode()


def test_reading_the_rate_does_not_grow_with_the_officers(yks_commander: User) -> None:
    client = api_for(yks_commander)
    client.get("/on-post", area=YAKESHI)  # token and grants warm
    with CaptureQueriesContext(connection) as few:
        before = client.get("/on-post", area=YAKESHI).json()
    unit = PoliceUnit.objects.get(code="HLBE-YKS-SL")
    Officer.objects.bulk_create([Officer(badge_number=f"SL-{i}", name=f"民警{i}", unit=unit,
                                         category=Officer.Category.POLICE) for i in range(60)])
    with CaptureQueriesContext(connection) as many:
        answer = client.get("/on-post", area=YAKESHI).json()
    assert answer["officers"] == before["officers"] + 60
    assert len(many.captured_queries) == len(few.captured_queries)
