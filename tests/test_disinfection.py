"""Unit representatives (单元代表) and disinfection (消杀), as in the seed: in 富贵佳园 the unit
representatives disinfect stairwells and lifts under the warden's lead.

吕建平 (`warden_jy`, 富贵佳园 buildings 1–6) registers a resident of 3号楼一单元 with their
consent, sets the plan, hands over the personal link as a QR code; the representative taps
已消杀 on their phone; the warden's coverage shows it. A unit not disinfected by noon reminds its
representative, then gives the warden a follow-up; a late round closes it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from louzhang.accounts.models import Role, User
from louzhang.accounts.services import user_create
from louzhang.areas.models import Area
from louzhang.core.public import Rate
from louzhang.disinfection import views
from louzhang.disinfection.models import (
    DeadlineLook,
    Disinfection,
    DisinfectionPlan,
    MissedRound,
    UnitRepresentative,
)
from louzhang.disinfection.services import (
    disinfection_record,
    disinfections_sweep,
    plans_set,
    representative_end,
    representative_register,
)
from louzhang.followups.models import ACTIVE_STATES, FollowUp, State
from louzhang.notifications.models import Notification
from louzhang.registry.models import Resident
from tests.conftest import BAOLI, FUGUI, web_client

SHANGHAI = ZoneInfo("Asia/Shanghai")
FUGUI_3 = f"{FUGUI}-3"
FUGUI_3_1 = f"{FUGUI}-3-1"  # 富贵佳园 3号楼一单元: 吕建平's
FUGUI_3_2 = f"{FUGUI}-3-2"
BAOLI_34_2 = f"{BAOLI}-34-2"  # 保利百合 34号楼二单元: the standing `unit_rep`'s
PLAN = ["stairwell", "lift", "handles"]


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of February 2020, Baotou time."""
    return datetime(2020, 2, day, hour, minute, tzinfo=SHANGHAI)


def _unit(code: str) -> Area:
    return Area.objects.select_related("parent__parent").get(code=code)


def _free_resident(code: str, skip: int = 0) -> Resident:
    """A grown-up of the unit who is no representative yet (the demo may have some)."""
    taken = UnitRepresentative.objects.filter(ended_at__isnull=True).values("resident_id")
    found = (Resident.objects.filter(household__parent__code=code, birth_date__year__lt=2000)
             .exclude(pk__in=taken).exclude(phone="").order_by("household__ordinal", "pk"))
    return found[skip]


def _rep(warden: User, code: str = FUGUI_3_1, user: User | None = None) -> UnitRepresentative:
    return representative_register(actor=warden, unit=_unit(code), resident=_free_resident(code),
                                   consent=True, user=user)


def _form(html: str) -> dict[str, Any]:
    """What the one-tap form sends: its hidden fields, the areas ticked, the agent typed."""
    values: dict[str, Any] = dict(re.findall(r'name="(csrfmiddlewaretoken|[\w-]*client_id)" value="([^"]+)"', html))
    ticked = re.findall(r'<input type="checkbox" name="([\w-]*areas)" value="(\w+)"[^>]*checked', html)
    for name, value in ticked:
        values.setdefault(name, []).append(value)
    agent = re.search(r'name="([\w-]*agent)"[^>]*value="([^"]*)"', html)
    if agent:
        values[agent.group(1)] = agent.group(2)
    return values


# --- registering, the link, the one tap, the coverage ------------------------------------------


def test_a_warden_registers_a_representative_who_logs_a_round_with_one_tap(warden_jy: User) -> None:
    client = web_client(warden_jy)
    person = _free_resident(FUGUI_3_1)
    with time_machine.travel(_at(3, 9), tick=False):
        page = client.get(f"/disinfection/units/{FUGUI_3_1}/")
        assert page.status_code == 200 and person.name in page.content.decode()  # the warden's own resident
        refused = client.post(f"/disinfection/units/{FUGUI_3_1}/", {"resident": person.pk})
        assert refused.status_code == 422 and 'id="consent"' in refused.content.decode()
        assert not UnitRepresentative.objects.filter(resident=person).exists()  # no consent, no representative

        done = client.post(f"/disinfection/units/{FUGUI_3_1}/", {"resident": person.pk, "consent": "on"})
        assert done.status_code == 302
        rep = UnitRepresentative.objects.get(resident=person, ended_at__isnull=True)
        assert rep.unit.code == FUGUI_3_1 and rep.registered_by == warden_jy
        assert rep.consent_noted_at == _at(3, 9) and rep.user is None
        html = client.get(f"/disinfection/units/{FUGUI_3_1}/").content.decode()
        assert f"/d/{rep.token}/" in html and "<svg" in html  # the link and its QR code, to hand over

        # the plan of both units of building 3 at once: stairwell, lift, door handles, twice a day
        planned = client.post(f"/disinfection/areas/{FUGUI_3}/plan",
                              {"plan-areas": PLAN, "plan-times_per_day": "2"})
        assert planned.status_code == 302
        plans = DisinfectionPlan.objects.filter(unit__code__in=[FUGUI_3_1, FUGUI_3_2])
        assert sorted((p.unit.code, p.areas, p.times_per_day) for p in plans) == [
            (FUGUI_3_1, PLAN, 2), (FUGUI_3_2, PLAN, 2)]

    with time_machine.travel(_at(3, 8, 40), tick=False):
        phone = Client(enforce_csrf_checks=True)
        link = f"/d/{rep.token}/"
        page = phone.get(link)
        html = page.content.decode()
        assert page.status_code == 200 and page["Content-Language"] == "zh-Hans"
        values = _form(html)
        assert values[f"r{rep.pk}-areas"] == PLAN  # the plan's areas ticked already
        assert values[f"r{rep.pk}-agent"] == "84消毒液"  # the agent by default
        response = phone.post(link, values)
        assert response.status_code == 302 and response["Location"] == link
    [record] = Disinfection.objects.filter(unit__code=FUGUI_3_1, at__gte=_at(3, 0), at__lt=_at(4, 0))
    assert record.representative == rep and record.recorded_by is None
    assert record.areas == PLAN and record.agent == "84消毒液" and record.at == _at(3, 8, 40)

    with time_machine.travel(_at(3, 9), tick=False):
        coverage = client.get(f"/disinfection/?area={FUGUI}")
        html = coverage.content.decode()
    assert coverage.status_code == 200
    row = html[html.index(f'data-unit="{FUGUI_3_1}"'):]
    row = row[:row.index("</li>")]
    assert 'data-done="1"' in row and "1/2" in row and "02-03 08:40" in row
    assert person.name in row  # the representative, as the warden sees them
    other = html[html.index(f'data-unit="{FUGUI_3_2}"'):]
    assert 'data-done="0"' in other[:other.index("</li>")]


def test_a_double_tap_or_a_resend_stores_one_round(warden_jy: User) -> None:
    rep = _rep(warden_jy)
    phone = Client()
    link = f"/d/{rep.token}/"
    values = _form(phone.get(link).content.decode())
    assert phone.post(link, values).status_code == 302
    assert phone.post(link, values).status_code == 302  # the same page sent again
    assert Disinfection.objects.filter(representative=rep).count() == 1
    # a fresh page is a new round
    assert phone.post(link, _form(phone.get(link).content.decode())).status_code == 302
    assert Disinfection.objects.filter(representative=rep).count() == 2


def test_the_agent_used_last_is_remembered(warden_jy: User) -> None:
    rep = _rep(warden_jy)
    disinfection_record(unit=rep.unit, areas=["stairwell"], agent="75%酒精", client_id="a1", representative=rep)
    values = _form(Client().get(f"/d/{rep.token}/").content.decode())
    assert values[f"r{rep.pk}-agent"] == "75%酒精"


def test_the_personal_link_shows_nothing_personal(warden_jy: User) -> None:
    rep = _rep(warden_jy)
    person = rep.resident
    html = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/d/{rep.token}/").content.decode()
    for personal in (person.name, person.phone, person.id_number, person.household.name,
                     "富贵佳园", "3号楼", "一单元", "吕建平"):
        assert personal not in html
    assert 'lang="zh-hans"' in html and "<script" not in html  # always Chinese; no script


def test_the_personal_link_is_rate_limited_per_link_and_per_address(warden_jy: User, monkeypatch: Any) -> None:
    rep = _rep(warden_jy)
    monkeypatch.setattr(views, "LINK_RATE_PER_LINK", Rate(3, 600))
    client = Client()
    for _ in range(3):
        assert client.get(f"/d/{rep.token}/").status_code == 200
    limited = client.get(f"/d/{rep.token}/")
    assert limited.status_code == 429 and 0 < int(limited["Retry-After"]) <= 2 * 600 + 1
    assert "请求过于频繁" in limited.content.decode()  # in Chinese, whatever the phone says
    assert client.post(f"/d/{rep.token}/", {"r-areas": PLAN, "r-client_id": "x"}).status_code == 429
    assert not Disinfection.objects.filter(representative=rep).exists()

    monkeypatch.setattr(views, "LINK_RATE_PER_ADDRESS", Rate(5, 60))
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(5):
        assert guesser.get(f"/d/{'B' * 21}{n}/").status_code == 404
    other = _rep(warden_jy, FUGUI_3_2)
    assert guesser.get(f"/d/{other.token}/").status_code == 429
    assert Client(REMOTE_ADDR="203.0.113.10").get(f"/d/{other.token}/").status_code == 200


def test_a_renewed_link_replaces_the_old_one_and_an_ended_representative_logs_nothing(warden_jy: User) -> None:
    rep = _rep(warden_jy)
    old = rep.token
    client = web_client(warden_jy)
    assert client.post(f"/disinfection/representatives/{rep.pk}/renew-link").status_code == 302
    rep.refresh_from_db()
    assert rep.token != old
    assert Client().get(f"/d/{old}/").status_code == 404
    phone = Client()
    values = _form(phone.get(f"/d/{rep.token}/").content.decode())
    assert client.post(f"/disinfection/representatives/{rep.pk}/end").status_code == 302
    response = phone.post(f"/d/{rep.token}/", values)
    assert response.status_code == 410 and "<form" not in response.content.decode()
    assert not Disinfection.objects.filter(representative=rep).exists()


def test_a_representative_with_a_log_in_taps_on_their_own_page(unit_rep: User, warden: User) -> None:
    rep = (UnitRepresentative.objects.filter(user=unit_rep, ended_at__isnull=True).first()
           or _rep(warden, BAOLI_34_2, user=unit_rep))
    client = web_client(unit_rep)
    home = client.get("/").content.decode()
    assert 'href="/disinfection/mine/"' in home  # in the top bar
    assert 'href="/disinfection/mine/"' not in web_client(warden).get("/").content.decode()
    page = client.get("/disinfection/mine/")
    html = page.content.decode()
    assert page.status_code == 200 and f'data-my-unit="{BAOLI_34_2}"' in html
    values = {**_form(html), "rep": str(rep.pk)}
    assert client.post("/disinfection/mine/", values).status_code == 302
    assert client.post("/disinfection/mine/", values).status_code == 302  # a double tap
    [record] = Disinfection.objects.filter(representative=rep)
    assert record.recorded_by == unit_rep and record.unit.code == BAOLI_34_2
    # ended: the page no longer offers the unit, and a post for it is refused
    representative_end(actor=warden, representative=rep)
    assert f'data-my-unit="{BAOLI_34_2}"' not in client.get("/disinfection/mine/").content.decode()
    assert client.post("/disinfection/mine/", {**values, f"r{rep.pk}-client_id": "new"}).status_code == 404


def test_a_log_in_without_the_role_over_the_unit_cannot_be_linked(warden_jy: User, unit_rep: User) -> None:
    client = web_client(warden_jy)
    person = _free_resident(FUGUI_3_1)
    response = client.post(f"/disinfection/units/{FUGUI_3_1}/",
                           {"resident": person.pk, "consent": "on", "user": unit_rep.pk})
    assert response.status_code == 422  # unit_rep represents 保利百合, not 富贵佳园
    assert not UnitRepresentative.objects.filter(resident=person).exists()


# --- jurisdiction ---------------------------------------------------------------------------------


def test_the_baoli_warden_cannot_register_plan_or_see_coverage_in_fugui(warden: User, warden_jy: User, gate: User) -> None:
    rep = _rep(warden_jy)
    person = _free_resident(FUGUI_3_1)
    client = web_client(warden)
    assert client.get(f"/disinfection/?area={FUGUI}").status_code == 404
    assert client.get(f"/disinfection/?area={FUGUI_3}").status_code == 404
    assert client.get(f"/disinfection/units/{FUGUI_3_1}/").status_code == 404
    assert client.post(f"/disinfection/units/{FUGUI_3_1}/", {"resident": person.pk, "consent": "on"}).status_code == 404
    assert client.post(f"/disinfection/areas/{FUGUI_3}/plan", {"plan-areas": PLAN, "plan-times_per_day": "1"}).status_code == 404
    assert client.post(f"/disinfection/units/{FUGUI_3_1}/record",
                       {"areas": PLAN, "client_id": "x"}).status_code == 404
    for action in ("renew-link", "end"):
        assert client.post(f"/disinfection/representatives/{rep.pk}/{action}").status_code == 404
    rep.refresh_from_db()
    assert rep.ended_at is None and not UnitRepresentative.objects.filter(resident=person).exists()
    # the same pages of his own compound answer; gate staff see none of it
    assert client.get(f"/disinfection/?area={BAOLI}").status_code == 200
    assert web_client(gate).get(f"/disinfection/?area={BAOLI}").status_code == 404


def test_a_warden_of_some_buildings_sees_only_their_units(warden_jy: User) -> None:
    html = web_client(warden_jy).get(f"/disinfection/?area={FUGUI}").content.decode()
    assert f'data-unit="{FUGUI}-1-1"' in html and f'data-unit="{FUGUI}-6-2"' in html
    assert f'data-unit="{FUGUI}-7-1"' not in html  # building 7 is another warden's
    assert web_client(warden_jy).get(f"/disinfection/units/{FUGUI}-7-1/").status_code == 404


def test_compound_building_and_unit_pages_link_to_disinfection(warden_jy: User, warden: User, gate: User) -> None:
    client = web_client(warden_jy)
    assert f"/disinfection/?area={FUGUI}" in client.get(f"/areas/{FUGUI}/").content.decode()
    assert f"/disinfection/?area={FUGUI_3}" in client.get(f"/areas/{FUGUI_3}/").content.decode()
    assert f"/disinfection/units/{FUGUI_3_1}/" in client.get(f"/areas/{FUGUI_3_1}/").content.decode()
    assert "/disinfection/" not in web_client(gate).get(f"/areas/{BAOLI}/").content.decode()


# --- overdue: the representative reminded, then the warden -------------------------------------------


@pytest.fixture
def rep_with_log_in(warden_jy: User) -> UnitRepresentative:
    """A representative of 3号楼一单元 who has a log-in, and the unit's plan: once a day (by
    noon), set on the morning of 3 February."""
    user = user_create(username="rep_fg31", role=Role.UNIT_REP, area_codes=[FUGUI_3_1])
    with time_machine.travel(_at(3, 8), tick=False):
        rep = _rep(warden_jy, user=user)
        plans_set(actor=warden_jy, area=rep.unit, areas=PLAN, times_per_day=1)
    return rep


def _overdue(code: str = FUGUI_3_1) -> list[FollowUp]:
    return list(FollowUp.objects.filter(rule="disinfection_overdue", subject_type="unit", subject_id=code))


def test_a_unit_not_disinfected_by_noon_reminds_its_representative_then_the_warden(
    warden_jy: User, rep_with_log_in: UnitRepresentative, worker: Any,
) -> None:
    rep = rep_with_log_in
    reminders = Notification.objects.filter(user=rep.user, about=f"disinfection:{FUGUI_3_1}")
    with time_machine.travel(_at(3, 11, 55), tick=False) as clock:
        worker.run()
        assert not MissedRound.objects.filter(unit=rep.unit).exists()  # not noon yet

        clock.move_to(_at(3, 12, 5))
        worker.run()
        [missed] = MissedRound.objects.filter(unit=rep.unit)
        assert (missed.round, missed.done, missed.reminded) == (1, 0, 1)
        [reminder] = reminders
        assert "富贵佳园 3号楼一单元" in reminder.title and reminder.link == "/disinfection/mine/"
        assert _overdue() == []  # the representative first

        clock.move_to(_at(3, 12, 40))
        worker.run()
        assert reminders.count() == 1 and _overdue() == []  # each deadline looked at once

        clock.move_to(_at(3, 13, 10))  # an hour after the reminder, still nothing logged
        worker.run()
        [followup] = _overdue()
        assert followup.owner == warden_jy and followup.owner_role == Role.WARDEN
        assert followup.state in ACTIVE_STATES and "3号楼一单元" in followup.summary
        missed.refresh_from_db()
        assert missed.warden_told_at == _at(3, 13, 10) and missed.followup == followup

        clock.move_to(_at(3, 13, 30))  # done at last, on the representative's link
        phone = Client()
        assert phone.post(f"/d/{rep.token}/", _form(phone.get(f"/d/{rep.token}/").content.decode())).status_code == 302
    followup.refresh_from_db()
    missed.refresh_from_db()
    assert followup.state == State.DONE and missed.settled_at == _at(3, 13, 30)
    assert Notification.objects.filter(user=warden_jy, about=f"followup:{followup.pk}").exists()


def test_a_round_logged_after_the_reminder_spares_the_warden(
    warden_jy: User, rep_with_log_in: UnitRepresentative,
) -> None:
    rep = rep_with_log_in
    with time_machine.travel(_at(3, 12, 5), tick=False) as clock:
        assert disinfections_sweep()["reminded"] == 1
        clock.move_to(_at(3, 12, 30))
        disinfection_record(unit=rep.unit, areas=PLAN, agent="84消毒液", client_id="late", representative=rep)
        clock.move_to(_at(3, 13, 10))
        found = disinfections_sweep()
    assert found["wardens"] == 0 and _overdue() == []
    assert MissedRound.objects.get(unit=rep.unit).settled_at == _at(3, 12, 30)


def test_a_unit_disinfected_in_time_is_left_alone_until_its_second_round_is_late(
    warden_jy: User, rep_with_log_in: UnitRepresentative,
) -> None:
    rep = rep_with_log_in
    with time_machine.travel(_at(3, 8, 30), tick=False):
        plans_set(actor=warden_jy, area=rep.unit, areas=PLAN, times_per_day=2)
        disinfection_record(unit=rep.unit, areas=PLAN, agent="84消毒液", client_id="am", representative=rep)
    with time_machine.travel(_at(3, 12, 5), tick=False):
        assert disinfections_sweep()["missed"] == 0
    with time_machine.travel(_at(3, 20, 5), tick=False):
        assert disinfections_sweep()["missed"] == 1
    [missed] = MissedRound.objects.filter(unit=rep.unit)
    assert (missed.round, missed.done, missed.deadline) == (2, 1, _at(3, 20))


def test_nobody_with_a_log_in_means_nobody_was_reminded_and_the_warden_is_told_at_once(warden_jy: User) -> None:
    with time_machine.travel(_at(3, 8), tick=False):
        rep = _rep(warden_jy)  # the personal link only
        plans_set(actor=warden_jy, area=rep.unit, areas=PLAN, times_per_day=1)
    before = Notification.objects.count()
    with time_machine.travel(_at(3, 12, 5), tick=False):
        found = disinfections_sweep()
        again = disinfections_sweep()
    assert found["not_reminded"] == 1 and found["reminded"] == 0 and found["wardens"] == 1
    assert again["deadlines"] == 0 and again["missed"] == 0 and again["wardens"] == 0
    [missed] = MissedRound.objects.filter(unit=rep.unit)
    assert missed.reminded == 0 and "无法在线提醒" in missed.reminder_note  # stored in the site's language
    assert not Notification.objects.filter(about=f"disinfection:{FUGUI_3_1}").exists()
    [followup] = _overdue()
    assert followup.owner == warden_jy and "无法在线提醒" in followup.summary
    assert Notification.objects.count() == before + 1  # the warden's, and nobody else's
    assert DeadlineLook.objects.filter(deadline=_at(3, 12)).exists()


def test_a_plan_set_after_the_deadline_is_not_late_for_it(warden_jy: User) -> None:
    with time_machine.travel(_at(3, 14), tick=False):
        rep = _rep(warden_jy)
        plans_set(actor=warden_jy, area=rep.unit, areas=PLAN, times_per_day=1)
    with time_machine.travel(_at(3, 14, 5), tick=False):
        assert disinfections_sweep()["missed"] == 0
    with time_machine.travel(_at(4, 12, 5), tick=False):
        assert disinfections_sweep()["missed"] == 1


def test_the_deadlines_are_a_setting(warden_jy: User, settings: Any) -> None:
    settings.LOUZHANG_DISINFECTION_DEADLINES = "10:00,18:00"
    with time_machine.travel(_at(3, 8), tick=False):
        rep = _rep(warden_jy)
        plans_set(actor=warden_jy, area=rep.unit, areas=PLAN, times_per_day=1)
    with time_machine.travel(_at(3, 10, 5), tick=False):
        assert disinfections_sweep()["missed"] == 1
    assert MissedRound.objects.get(unit=rep.unit).deadline == _at(3, 10)


# --- coverage -------------------------------------------------------------------------------------


def test_the_coverage_puts_overdue_units_first_with_totals_per_compound(warden_jy: User) -> None:
    with time_machine.travel(_at(3, 8), tick=False):
        plans_set(actor=warden_jy, area=Area.objects.get(code=FUGUI), areas=PLAN, times_per_day=1)
        rep = _rep(warden_jy, FUGUI_3_2)
        disinfection_record(unit=rep.unit, areas=PLAN, agent="84消毒液", client_id="x", representative=rep)
    with time_machine.travel(_at(3, 12, 30), tick=False):
        html = web_client(warden_jy).get(f"/disinfection/?area={FUGUI}").content.decode()
    states = re.findall(r'data-unit="([\w-]+)" data-state="(\w+)"', html)
    assert len(states) == 12  # buildings 1–6, two units each
    assert states[-1] == (FUGUI_3_2, "done") and all(s == "overdue" for _c, s in states[:-1])
    totals = html[html.index(f'data-compound="{FUGUI}"'):]
    assert re.search(r'data-total="units">[^<]*<br><strong>12<', totals)
    assert re.search(r'data-total="disinfected">[^<]*<br><strong>1<', totals)
    assert re.search(r'data-total="overdue" class="overdue">[^<]*<br><strong>11<', totals)


def test_a_commander_sees_totals_per_compound_and_a_warden_starts_at_their_compound(
    commander: User, warden_jy: User,
) -> None:
    with time_machine.travel(_at(3, 12, 30), tick=False):
        assert plans_set(actor=commander, area=Area.objects.get(code=FUGUI), areas=PLAN, times_per_day=1) == 24
        html = web_client(commander).get("/disinfection/?area=150207").content.decode()  # 九原区
    assert f'data-compound="{FUGUI}"' in html and "data-unit=" not in html  # totals, no unit rows
    totals = html[html.index(f'data-compound="{FUGUI}"'):]
    assert re.search(r'data-total="units">[^<]*<br><strong>24<', totals)  # all 12 buildings
    assert re.search(r'data-total="overdue" class="overdue">[^<]*<br><strong>24<', totals)
    start = web_client(warden_jy).get("/disinfection/")
    assert start.status_code == 302 and start["Location"] == f"/disinfection/?area={FUGUI}"


def test_the_coverage_page_reads_the_same_number_of_queries_with_more_rounds(
    warden_jy: User, django_assert_max_num_queries: Any,
) -> None:
    client = web_client(warden_jy)
    with time_machine.travel(_at(3, 8), tick=False):
        plans_set(actor=warden_jy, area=Area.objects.get(code=FUGUI), areas=PLAN, times_per_day=2)
        _rep(warden_jy)
        client.get(f"/disinfection/?area={FUGUI}")  # the session and the grants, read once
        with CaptureQueriesContext(connection) as few:
            assert client.get(f"/disinfection/?area={FUGUI}").status_code == 200
        for n in range(1, 7):
            disinfection_record(unit=_unit(f"{FUGUI}-{n}-1"), areas=PLAN, agent="84消毒液",
                                client_id=f"q{n}", actor=warden_jy)
        _rep(warden_jy, FUGUI_3_2)
        _rep(warden_jy, f"{FUGUI}-5-1")
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(f"/disinfection/?area={FUGUI}").status_code == 200


# --- the demo -------------------------------------------------------------------------------------


def test_the_demo_has_28_representatives_in_fugui_and_the_unit_rep_of_baoli_34_2(unit_rep: User) -> None:
    from louzhang.demo.disinfection import OVERDUE, demo_disinfection

    demo_disinfection()
    assert demo_disinfection() == 0  # idempotent
    fugui = UnitRepresentative.objects.filter(unit__path__startswith=Area.objects.get(code=FUGUI).path,
                                              ended_at__isnull=True)
    assert fugui.count() == 28 and fugui.values("unit").distinct().count() == 24
    assert UnitRepresentative.objects.filter(user=unit_rep, unit__code=BAOLI_34_2, ended_at__isnull=True).exists()
    plans = DisinfectionPlan.objects.filter(unit__in=fugui.values("unit"))
    assert plans.count() == 24 and {(tuple(p.areas), p.times_per_day) for p in plans} == {(tuple(PLAN), 2)}
    start = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
    logged = set(Disinfection.objects.filter(at__gte=start, unit__in=fugui.values("unit"))
                 .values_list("unit__code", flat=True))
    assert not logged & OVERDUE
    if timezone.localtime() - start > timedelta(minutes=10):  # the demo logs nothing in the future
        assert len(logged) == 22
