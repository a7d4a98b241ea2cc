"""Home observation pages: the worklists of wardens and health liaisons, one observation and
what each officer may do on it, opening one from a household, and the resident's personal
check-in link (no log-in, nothing personal, rate-limited)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from louzhang.accounts.models import Role, User
from louzhang.areas.models import Area
from louzhang.core.public import Rate
from louzhang.followups.models import FollowUp, Priority
from louzhang.gates.models import HomeObservation
from louzhang.observation import views
from louzhang.observation.models import OPEN_STATUSES, CheckIn, Observation, Status
from louzhang.observation.services import check_in_record, observation_close, observation_open
from louzhang.registry.models import Resident
from tests.conftest import BAOLI_34, BAOLI_34_2_6W, FUGUI_1, web_client

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _free_residents(under: str, n: int) -> list[Resident]:
    """`n` people of the area at code `under` not under observation yet (the demo has one)."""
    area = Area.objects.get(code=under)
    found = list(Resident.objects.filter(household__path__startswith=area.path)
                 .exclude(observations__status__in=OPEN_STATUSES).order_by("household__path", "pk")[:n])
    assert len(found) == n
    return found


def _observe(actor: User, resident: Resident, *, exposure: date, at: datetime | None = None,
             propose: bool = False) -> Observation:
    with time_machine.travel(at or timezone.now(), tick=False):
        observation, created = observation_open(
            actor=actor, household=resident.household, resident=resident, reason="武汉返回",
            last_exposure=exposure, source="visit", exposure_region="武汉市", propose=propose)
    assert created
    return observation


def _sections(html: str) -> dict[str, set[int]]:
    """The observations listed under each worklist of the page, by the list's name."""
    return {name: {int(pk) for pk in re.findall(r'data-observation="(\d+)"', body)}
            for name, body in re.findall(r'data-list="(\w+)">(.*?)</section>', html, re.S)}


def _english(user: User) -> Client:
    """The pages in English (the msgids), for tests that match their wording."""
    client = web_client(user)
    client.cookies["django_language"] = "en"  # chosen with the language switch
    return client


def _list_order(html: str) -> list[str]:
    return re.findall(r'data-list="(\w+)"', html)


# --- the worklists -----------------------------------------------------------------------------

DAY = date(2020, 2, 3)
NOW = _at(DAY, 10)  # a Monday morning: the morning check-in is due by noon


@pytest.fixture
def four(warden: User) -> dict[str, Observation]:
    """One observation in each worklist at `NOW`, in 保利百合 building 34."""
    people = _free_residents(BAOLI_34, 4)
    missed = _observe(warden, people[0], exposure=date(2020, 1, 25), at=_at(date(2020, 2, 1), 9))
    due_now = _observe(warden, people[1], exposure=date(2020, 2, 2), at=_at(DAY, 8))
    release = _observe(warden, people[2], exposure=date(2020, 1, 20), at=_at(date(2020, 1, 21), 9))
    check_in_record(observation=release, at=_at(DAY, 9), temperature=Decimal("36.5"), actor=warden,
                    client_id="release-morning")
    proposed = _observe(warden, people[3], exposure=date(2020, 2, 1), at=_at(DAY, 9), propose=True)
    return {"missed": missed, "due_now": due_now, "release_due": release, "proposed": proposed}


def test_a_warden_sees_missed_check_ins_first_then_those_due_now(warden: User, four: dict[str, Observation]) -> None:
    with time_machine.travel(NOW, tick=False):
        page = web_client(warden).get("/observations/")
    assert page.status_code == 200
    html = page.content.decode()
    assert _list_order(html) == ["missed", "due_now", "release_due", "proposed"]
    sections = _sections(html)
    for name, observation in four.items():
        assert observation.pk in sections[name], name
        assert all(observation.pk not in pks for other, pks in sections.items() if other != name), name
    # the warden sees the names of their own building, and can call
    assert four["missed"].resident.name in html and f"tel:{four['missed'].resident.phone}" in html


def test_a_health_liaison_sees_what_to_confirm_and_release_first(health: User, four: dict[str, Observation]) -> None:
    with time_machine.travel(NOW, tick=False):
        html = web_client(health).get("/observations/").content.decode()
    assert _list_order(html) == ["proposed", "release_due", "missed", "due_now"]
    sections = _sections(html)
    assert four["proposed"].pk in sections["proposed"] and four["release_due"].pk in sections["release_due"]


def test_the_all_view_lists_every_open_observation(warden: User, four: dict[str, Observation]) -> None:
    with time_machine.travel(NOW, tick=False):
        html = web_client(warden).get("/observations/?view=all").content.decode()
    shown = {int(pk) for pk in re.findall(r'data-observation="(\d+)"', html)}
    assert {o.pk for o in four.values()} <= shown


def test_officers_of_another_district_and_gate_staff_see_none_of_them(
    warden_jy: User, gate: User, four: dict[str, Observation],
) -> None:
    with time_machine.travel(NOW, tick=False):
        html = web_client(warden_jy).get("/observations/").content.decode()
        assert not any(_sections(html).values())
        assert web_client(gate).get("/observations/").status_code == 404


def test_the_list_reads_the_same_number_of_queries_with_more_observations(
    warden: User, four: dict[str, Observation], django_assert_max_num_queries: Any,
) -> None:
    with time_machine.travel(NOW, tick=False):
        client = web_client(warden)
        client.get("/observations/")
        # session, user, grants, the counts, each of the four lists, one audit event for the
        # names shown in full, unread inbox
        with django_assert_max_num_queries(10) as small:
            client.get("/observations/")
        queries = len(small)
    for n, person in enumerate(_free_residents(BAOLI_34, 12)):
        observation = _observe(warden, person, exposure=date(2020, 1, 20 + n % 10), at=_at(date(2020, 2, 1), 9))
        if n % 3 == 0:
            check_in_record(observation=observation, at=_at(DAY, 9), temperature=Decimal("36.6"),
                            actor=warden, client_id=f"more-{n}")
    with time_machine.travel(NOW, tick=False):
        with django_assert_max_num_queries(queries) as large:
            html = client.get("/observations/").content.decode()
        assert len(large) == queries == 10
    assert sum(len(pks) for pks in _sections(html).values()) >= 13  # three checked in, not due


def test_the_home_page_tile_counts_the_worklists(warden: User, gate: User, four: dict[str, Observation]) -> None:
    """`{% observation_summary %}`, for the home page: one query, nothing for gate staff."""
    from django.template import Context, Template
    from django.test import RequestFactory

    from louzhang.observation.selectors import observation_counts

    counts = observation_counts(warden, NOW)
    assert counts is not None
    assert counts["missed"] >= 1 and counts["due_now"] >= 1 and counts["release_due"] >= 1
    assert counts["proposed"] >= 1 and counts["open"] >= 4
    assert observation_counts(gate, NOW) is None

    def tile(user: User) -> str:
        request = RequestFactory().get("/")
        request.user = user
        return Template("{% load observation_tags %}{% observation_summary %}").render(Context({"request": request}))

    with time_machine.travel(NOW, tick=False):
        assert 'href="/observations/"' in tile(warden)
        assert tile(gate).strip() == ""


# --- opening one from a household --------------------------------------------------------------


def test_a_warden_opens_an_observation_from_the_household_page(warden: User) -> None:
    [person] = _free_residents(BAOLI_34_2_6W, 1)
    client = _english(warden)
    page = client.get(f"/areas/{BAOLI_34_2_6W}/").content.decode()
    assert f'action="/areas/{BAOLI_34_2_6W}/observe"' in page and person.name in page
    today = timezone.localdate()
    response = client.post(f"/areas/{BAOLI_34_2_6W}/observe", {
        "resident": person.pk, "source": "visit", "reason": "back from Wuhan",
        "last_exposure": (today - timedelta(days=3)).isoformat(), "exposure_region": "武汉市"})
    observation = Observation.objects.get(resident=person, status=Status.ACTIVE)
    assert response.status_code == 302 and response["Location"] == f"/observations/{observation.pk}/"
    assert observation.ends_on == today + timedelta(days=11)
    mark = HomeObservation.objects.get(pk=observation.gate_mark_id)
    assert mark.household_id == person.household_id and mark.ended_at is None
    # the household page now shows who is under observation
    page = client.get(f"/areas/{BAOLI_34_2_6W}/").content.decode()
    assert f'data-observation="{observation.pk}"' in page


def test_an_observation_refused_comes_back_with_what_was_typed(warden: User) -> None:
    [person] = _free_residents(BAOLI_34_2_6W, 1)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = _english(warden).post(f"/areas/{BAOLI_34_2_6W}/observe", {
        "resident": person.pk, "source": "visit", "reason": "back from Wuhan", "last_exposure": tomorrow})
    assert response.status_code == 422
    html = response.content.decode()
    assert "is in the future" in html and 'value="back from Wuhan"' in html and f'value="{tomorrow}"' in html
    assert not Observation.objects.filter(resident=person).exists()


def test_a_household_of_another_district_cannot_be_observed(warden_jy: User) -> None:
    [person] = _free_residents(BAOLI_34_2_6W, 1)
    response = web_client(warden_jy).post(f"/areas/{BAOLI_34_2_6W}/observe", {
        "resident": person.pk, "source": "visit", "reason": "x",
        "last_exposure": timezone.localdate().isoformat()})
    assert response.status_code == 404
    assert not Observation.objects.filter(resident=person).exists()


# --- one observation ---------------------------------------------------------------------------


@pytest.fixture
def observation(warden: User) -> Observation:
    [person] = _free_residents(BAOLI_34_2_6W, 1)
    return _observe(warden, person, exposure=timezone.localdate() - timedelta(days=2))


def _check_in(client: Client, observation: Observation, temperature: str, **extra: Any) -> Any:
    return client.post(f"/observations/{observation.pk}/check-in",
                        {"temperature": temperature, "client_id": extra.pop("client_id", "page-1"), **extra})


def test_a_warden_records_a_check_in_once(warden: User, observation: Observation) -> None:
    client = _english(warden)
    page = client.get(f"/observations/{observation.pk}/").content.decode()
    assert observation.resident.name in page and observation.resident.id_number in page
    assert f'action="/observations/{observation.pk}/check-in"' in page
    assert _check_in(client, observation, "36,6", symptoms=["cough"], note="电话询问").status_code == 302
    assert _check_in(client, observation, "36,6", symptoms=["cough"]).status_code == 302  # a double tap
    [check_in] = CheckIn.objects.filter(observation=observation)
    assert check_in.temperature == Decimal("36.6") and check_in.recorded_by == warden
    assert check_in.via == CheckIn.Via.OFFICER and check_in.symptoms == "cough"
    page = client.get(f"/observations/{observation.pk}/").content.decode()
    assert f'data-check-in="{check_in.pk}"' in page and "cough" in page


def test_the_observation_page_reads_the_same_number_of_queries_with_more_check_ins(
    warden: User, observation: Observation, django_assert_max_num_queries: Any,
) -> None:
    client = web_client(warden)
    _check_in(client, observation, "36.5")
    client.get(f"/observations/{observation.pk}/")
    # session, user, grants, the observation, the audit event for the person shown in full,
    # check-ins, open follow-ups, history, unread inbox
    with django_assert_max_num_queries(9) as small:
        client.get(f"/observations/{observation.pk}/")
    queries = len(small)  # now: the next request empties the connection's log it reads
    for n in range(6):
        _check_in(client, observation, f"36.{n}", client_id=f"more-{n}", symptoms=["cough"])
    with django_assert_max_num_queries(queries) as large:
        page = client.get(f"/observations/{observation.pk}/").content.decode()
    assert len(large) == queries
    assert page.count("data-check-in=") == 7


def test_a_fever_check_in_opens_an_urgent_follow_up_for_the_health_liaison(
    warden: User, health: User, observation: Observation,
) -> None:
    client = _english(warden)
    response = _check_in(client, observation, "38.5")
    followup = FollowUp.objects.get(rule="check_in_fever", subject_type="observation",
                                    subject_id=str(observation.pk))
    assert followup.priority == Priority.URGENT and followup.owner == health
    assert followup.owner_role == Role.HEALTH
    page = client.get(response["Location"]).content.decode()
    # said as every page says what rules did (`fired_in_words`): who owns it, who else was told
    assert f"health liaison {health} was told and answers for it" in page
    assert "Wardens also told: 1" in page
    assert f'data-followup="{followup.pk}"' in page  # the observation lists its open follow-ups


def test_a_check_in_refused_keeps_what_was_typed(warden: User, observation: Observation) -> None:
    response = _check_in(_english(warden), observation, "3.65", note="量了两次")
    assert response.status_code == 422
    html = response.content.decode()
    assert "A temperature is 34.0 to 43.0" in html and 'value="3.65"' in html and "量了两次" in html
    assert not CheckIn.objects.filter(observation=observation).exists()


def test_the_health_liaison_releases_on_the_last_day_and_not_before(
    warden: User, health: User, observation: Observation,
) -> None:
    client = _english(health)
    page = client.get(f"/observations/{observation.pk}/").content.decode()
    assert 'name="status" value="released"' not in page and "Release is due on the last day" in page
    response = client.post(f"/observations/{observation.pk}/close", {"status": "released"})
    assert response.status_code == 422 and "release is due on the last day" in response.content.decode()
    observation.refresh_from_db()
    assert observation.status == Status.ACTIVE
    # the warden may not release at all
    assert _english(warden).post(f"/observations/{observation.pk}/close",
                                   {"status": "released"}).status_code == 422
    with time_machine.travel(_at(observation.ends_on, 9), tick=False):
        client = _english(health)
        page = client.get(f"/observations/{observation.pk}/").content.decode()
        assert 'name="status" value="released"' in page
        response = client.post(f"/observations/{observation.pk}/close", {"status": "released"})
    assert response.status_code == 302
    observation.refresh_from_db()
    assert observation.status == Status.RELEASED and observation.closed_by == health
    assert HomeObservation.objects.get(pk=observation.gate_mark_id).ended_at is not None


def test_a_warden_records_a_transfer_to_hospital_with_a_note(warden: User, observation: Observation) -> None:
    client = _english(warden)
    response = client.post(f"/observations/{observation.pk}/close", {"status": "hospital"})
    assert response.status_code == 422 and "Write a note" in response.content.decode()
    response = client.post(f"/observations/{observation.pk}/close", {"status": "hospital", "note": "市四医院发热门诊"})
    assert response.status_code == 302
    observation.refresh_from_db()
    assert observation.status == Status.HOSPITAL and observation.close_note == "市四医院发热门诊"


def test_the_health_liaison_confirms_a_proposal_and_extends_it(warden: User, health: User) -> None:
    [person] = _free_residents(BAOLI_34_2_6W, 1)
    proposed = _observe(warden, person, exposure=timezone.localdate() - timedelta(days=1), propose=True)
    assert proposed.gate_mark_id is None
    page = web_client(warden).get(f"/observations/{proposed.pk}/").content.decode()
    assert f'action="/observations/{proposed.pk}/confirm"' not in page  # not the warden's to confirm
    client = web_client(health)
    assert f'action="/observations/{proposed.pk}/confirm"' in client.get(f"/observations/{proposed.pk}/").content.decode()
    assert client.post(f"/observations/{proposed.pk}/confirm").status_code == 302
    proposed.refresh_from_db()
    assert proposed.status == Status.ACTIVE and proposed.gate_mark_id is not None
    ends_on = proposed.ends_on
    assert client.post(f"/observations/{proposed.pk}/extend", {"days": "7", "note": "同住人发热"}).status_code == 302
    proposed.refresh_from_db()
    assert proposed.ends_on == ends_on + timedelta(days=7)
    assert HomeObservation.objects.get(pk=proposed.gate_mark_id).ends_on == proposed.ends_on
    # the warden may not extend
    assert web_client(warden).post(f"/observations/{proposed.pk}/extend",
                                   {"days": "7", "note": "x"}).status_code == 404


def test_a_commander_sees_the_name_but_not_the_id_number(commander: User, observation: Observation) -> None:
    page = web_client(commander).get(f"/observations/{observation.pk}/").content.decode()
    assert observation.resident.name in page and observation.resident.id_number not in page


def test_an_observation_of_another_jurisdiction_is_not_found(
    warden: User, warden_jy: User, health: User, gate: User, observation: Observation,
) -> None:
    for user in (warden_jy, gate):
        client = web_client(user)
        assert client.get(f"/observations/{observation.pk}/").status_code == 404
        assert _check_in(client, observation, "36.5").status_code == 404
        assert client.post(f"/observations/{observation.pk}/close",
                           {"status": "moved", "note": "x"}).status_code == 404
    assert web_client(warden).get("/observations/999999/").status_code == 404
    assert not CheckIn.objects.filter(observation=observation).exists()
    # a 九原区 observation is not the 东河区 health liaison's
    [person] = _free_residents(FUGUI_1, 1)
    theirs = _observe(User.objects.get(username="warden_jy"), person, exposure=timezone.localdate())
    assert web_client(health).get(f"/observations/{theirs.pk}/").status_code == 404
    assert web_client(warden).get(f"/observations/{theirs.pk}/").status_code == 404


# --- the resident's personal link ---------------------------------------------------------------


def _form_values(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(csrfmiddlewaretoken|client_id)" value="([^"]+)"', html))


def test_the_residents_link_records_a_check_in_without_logging_in(warden: User, observation: Observation) -> None:
    link = f"/o/{observation.token}/"
    staff_page = web_client(warden).get(f"/observations/{observation.pk}/").content.decode()
    assert link in staff_page and "<svg" in staff_page  # the link and its QR code, for the warden
    client = Client(enforce_csrf_checks=True)
    page = client.get(link)
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    day, days = observation.day_number(timezone.localdate()), observation.day_number(observation.ends_on)
    assert "居家医学观察" in html and f"第{day}天/共{days}天" in html
    person = observation.resident
    for personal in (person.name, person.phone, person.id_number, "6楼西户", "保利百合", "34号楼", "武汉"):
        assert personal not in html
    values = _form_values(html)
    post = {"temperature": "36.4", "symptoms": ["fatigue"], **values}
    response = client.post(link, post)
    assert response.status_code == 302 and response["Location"] == link
    assert client.post(link, post).status_code == 302  # sent twice: stored once
    [check_in] = CheckIn.objects.filter(observation=observation)
    assert check_in.via == CheckIn.Via.RESIDENT and check_in.recorded_by is None
    assert check_in.temperature == Decimal("36.4") and check_in.symptoms == "fatigue"
    html = client.get(link).content.decode()
    assert "已记录" in html and 'data-state="done"' in html


def test_a_post_without_the_csrf_token_is_refused(observation: Observation) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(f"/o/{observation.token}/")
    assert client.post(f"/o/{observation.token}/", {"temperature": "36.5", "client_id": "x"}).status_code == 403
    assert not CheckIn.objects.filter(observation=observation).exists()


def test_a_wrong_token_is_not_found(observation: Observation) -> None:
    client = Client()
    assert client.get(f"/o/{observation.token[:-1]}x/").status_code == 404
    assert client.get("/o/short/").status_code == 404
    assert client.post(f"/o/{'A' * 22}/", {"temperature": "36.5", "client_id": "x"}).status_code == 404


def test_too_many_requests_to_one_link_are_answered_429(observation: Observation, monkeypatch: Any) -> None:
    monkeypatch.setattr(views, "LINK_RATE_PER_LINK", Rate(3, 600))
    client = Client()
    for _ in range(3):
        assert client.get(f"/o/{observation.token}/").status_code == 200
    response = client.get(f"/o/{observation.token}/")
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 2 * 600 + 1
    response = client.post(f"/o/{observation.token}/", {"temperature": "36.5", "client_id": "x"})
    assert response.status_code == 429
    assert not CheckIn.objects.filter(observation=observation).exists()


def test_guessing_links_from_one_address_is_answered_429(observation: Observation, monkeypatch: Any) -> None:
    monkeypatch.setattr(views, "LINK_RATE_PER_ADDRESS", Rate(5, 60))
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(5):
        assert client.get(f"/o/{'B' * 21}{n}/").status_code == 404
    assert client.get(f"/o/{observation.token}/").status_code == 429
    assert Client(REMOTE_ADDR="203.0.113.10").get(f"/o/{observation.token}/").status_code == 200


def test_a_closed_observations_link_says_it_ended_and_accepts_nothing(warden: User, observation: Observation) -> None:
    observation_close(actor=warden, observation=observation, status=Status.MOVED, note="搬到呼和浩特")
    client = Client()
    html = client.get(f"/o/{observation.token}/").content.decode()
    assert "已结束" in html and "<form" not in html
    response = client.post(f"/o/{observation.token}/", {"temperature": "36.5", "client_id": "late"})
    assert response.status_code == 410
    assert not CheckIn.objects.filter(observation=observation).exists()
