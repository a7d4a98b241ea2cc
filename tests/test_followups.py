"""Follow-ups: who owns one, deduplication, the escalation clock, and who may see and act."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from louzhang.access.holders import owner_for
from louzhang.accounts.models import Grant, Role, User
from louzhang.areas.models import Area, Level
from louzhang.areas.services import area_create
from louzhang.followups.models import ACTIVE_STATES, FollowUp, FollowUpEvent, State
from louzhang.followups.rules import OpenFollowUp, rule, rules_fire
from louzhang.followups.services import (
    followup_acknowledge,
    followup_close,
    followup_open,
    followups_escalate,
)
from louzhang.notifications.models import Notification
from tests.conftest import BAOLI, BAOLI_34, BAOLI_34_2_6W, FUGUI_1, web_client


def _open(area_code: str, subject: str = "h1", due: timedelta = timedelta(hours=1), rule_name: str = "test_rule") -> tuple[FollowUp, bool]:
    return followup_open(
        rule=rule_name, kind="task", subject_type="household", subject_id=subject,
        area=Area.objects.get(code=area_code), summary="34号楼 居民 邹* 发热 38.4 °C",
        action="请核实", due_in=due,
    )


# --- owners ----------------------------------------------------------------------------------


def test_the_building_warden_owns_a_household_follow_up(warden: User) -> None:
    owner = owner_for(Area.objects.get(code=BAOLI_34_2_6W))
    assert owner.user == warden and owner.role == Role.WARDEN


def test_without_a_building_warden_the_compound_warden_then_the_station_commander_owns_it(
    station_xnb: User, warden_jy: User,
) -> None:
    building = area_create(code=f"{BAOLI}-99", name="99号楼", level=Level.BUILDING, parent=Area.objects.get(code=BAOLI))
    assert owner_for(building).user == station_xnb  # nobody on the building or the compound
    assert owner_for(building).role == Role.COMMANDER

    compound_warden = User.objects.create(username="baoli_compound_warden")
    Grant.objects.create(user=compound_warden, role=Role.WARDEN, area=Area.objects.get(code=BAOLI))
    assert owner_for(building).user == compound_warden


def test_a_follow_up_nobody_owns_tells_every_commander_above(station_xnb: User, branch_dh: User, commander: User) -> None:
    building = area_create(code=f"{BAOLI}-98", name="98号楼", level=Level.BUILDING, parent=Area.objects.get(code=BAOLI))
    Grant.objects.filter(role=Role.COMMANDER, police_unit__code="BT-DH-XNB").delete()
    followup, _ = followup_open(rule="r", kind="task", subject_type="area", subject_id="98",
                                area=building, summary="s", action="a", due_in=timedelta(hours=1))
    assert followup.owner == branch_dh  # the nearest commander left is the branch
    Grant.objects.filter(role=Role.COMMANDER).exclude(user=commander).delete()
    orphan, _ = followup_open(rule="r", kind="task", subject_type="area", subject_id="98b",
                              area=building, summary="s", action="a", due_in=timedelta(hours=1))
    assert orphan.owner == commander


# --- deduplication ---------------------------------------------------------------------------


def test_the_same_rule_and_subject_open_one_follow_up_while_it_is_open(warden: User) -> None:
    first, created = _open(BAOLI_34_2_6W)
    second, created_again = _open(BAOLI_34_2_6W)
    assert created and not created_again
    assert first.pk == second.pk
    assert FollowUp.objects.filter(rule="test_rule", subject_id="h1").count() == 1
    first.refresh_from_db()
    assert first.repeats == 1
    assert list(first.events.values_list("kind", flat=True)) == ["opened", "repeated"]
    # one inbox line for the warden, not two
    assert Notification.objects.filter(user=warden, about=first.about).count() == 1

    assert followup_close(followup=first, actor=warden, done=True, finding="已核实，体温复测正常")
    third, created_third = _open(BAOLI_34_2_6W)
    assert created_third and third.pk != first.pk


def test_another_subject_or_rule_opens_its_own(warden: User) -> None:
    a, _ = _open(BAOLI_34_2_6W, subject="h1")
    b, _ = _open(BAOLI_34_2_6W, subject="h2")
    c, _ = _open(BAOLI_34_2_6W, subject="h1", rule_name="other_rule")
    assert len({a.pk, b.pk, c.pk}) == 3


def test_rules_are_plain_functions_of_an_event_and_fire_through_the_engine(warden: User) -> None:
    seen = []

    @rule("test_visitor_fever", on="test.gate_check")
    def visitor_fever(event: dict[str, Any]) -> Any:
        seen.append(event)
        if event["temperature"] >= 37.3:
            yield OpenFollowUp(kind="task", subject_type="household", subject_id=event["household"],
                               area=Area.objects.get(code=event["household"]),
                               summary=f"{event['temperature']} °C", action="请核实",
                               due_in=timedelta(minutes=30))

    fired = rules_fire("test.gate_check", {"temperature": 36.5, "household": BAOLI_34_2_6W})
    assert fired == []
    fired = rules_fire("test.gate_check", {"temperature": 38.4, "household": BAOLI_34_2_6W})
    again = rules_fire("test.gate_check", {"temperature": 38.6, "household": BAOLI_34_2_6W})
    assert [f.created for f in fired + again] == [True, False]
    assert fired[0].followup is not None and fired[0].followup.owner == warden
    assert len(seen) == 3


# --- transitions -----------------------------------------------------------------------------


def test_two_officers_closing_at_once_only_one_wins(warden: User, commander: User) -> None:
    followup, _ = _open(BAOLI_34_2_6W)
    assert followup_acknowledge(followup=followup, actor=warden)
    assert not followup_acknowledge(followup=followup, actor=warden)
    assert followup_close(followup=followup, actor=warden, done=True, finding="已处理")
    assert not followup_close(followup=followup, actor=commander, done=False, finding="重复")
    followup.refresh_from_db()
    assert followup.state == State.DONE and followup.closed_by == warden
    assert followup.finding == "已处理"


def test_closing_needs_a_finding(warden: User) -> None:
    from louzhang.followups.services import FollowUpError

    followup, _ = _open(BAOLI_34_2_6W)
    with pytest.raises(FollowUpError):
        followup_close(followup=followup, actor=warden, done=True, finding="  ")


# --- the escalation clock --------------------------------------------------------------------


def test_overdue_reminds_then_escalates_to_station_then_branch_and_stops_when_done(
    warden: User, station_xnb: User, branch_dh: User, settings: Any,
) -> None:
    settings.LOUZHANG_FOLLOWUP_REMIND_AFTER_MINUTES = 0
    settings.LOUZHANG_ESCALATE_AFTER_MINUTES = [60, 240]
    # the demo city's own open follow-ups (a household nobody answered …) would be counted too
    FollowUp.objects.filter(state__in=ACTIVE_STATES).update(state=State.CANCELLED, closed_at=timezone.now())
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        followup, _ = _open(BAOLI_34_2_6W, due=timedelta(hours=1))
        assert followups_escalate() == {"reminded": 0, "escalated": 0}

        clock.shift(timedelta(minutes=61))  # past due: the owner is reminded, once
        assert followups_escalate() == {"reminded": 1, "escalated": 0}
        assert followups_escalate() == {"reminded": 0, "escalated": 0}
        reminder = Notification.objects.filter(user=warden, about=followup.about).latest("id")
        assert reminder.title.startswith("[已超期]")

        clock.shift(timedelta(minutes=60))  # an hour past due: the station commander is told
        assert followups_escalate()["escalated"] == 1
        followup.refresh_from_db()
        assert followup.escalation_level == 1
        assert Notification.objects.filter(user=station_xnb, about=followup.about).count() == 1
        assert not Notification.objects.filter(user=branch_dh, about=followup.about).exists()

        clock.shift(timedelta(hours=3))  # four hours past due: the branch
        assert followups_escalate()["escalated"] == 1
        assert Notification.objects.filter(user=branch_dh, about=followup.about).count() == 1
        followup.refresh_from_db()
        assert followup.escalation_level == 2

        assert followup_close(followup=followup, actor=warden, done=True, finding="已上门核实")
        clock.shift(timedelta(days=1))
        assert followups_escalate() == {"reminded": 0, "escalated": 0}
    kinds = list(followup.events.values_list("kind", flat=True))
    assert kinds == ["opened", "reminded", "escalated", "escalated", "done"]
    escalations = followup.events.filter(kind=FollowUpEvent.Kind.ESCALATED)
    assert [e.detail["to"] for e in escalations] == [["station_xnb"], ["branch_dh"]]


def test_a_follow_up_done_in_time_is_never_escalated(warden: User, station_xnb: User) -> None:
    # the demo city's own open follow-ups (a tip waiting for the warden …) would be counted too
    FollowUp.objects.filter(state__in=ACTIVE_STATES).update(state=State.CANCELLED, closed_at=timezone.now())
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        followup, _ = _open(BAOLI_34_2_6W, due=timedelta(hours=1))
        clock.shift(timedelta(minutes=30))
        followup_close(followup=followup, actor=warden, done=True, finding="已处理")
        clock.shift(timedelta(hours=10))
        assert followups_escalate() == {"reminded": 0, "escalated": 0}
    assert not Notification.objects.filter(user=station_xnb).exists()


# --- pages and jurisdiction ------------------------------------------------------------------


def test_a_warden_sees_their_follow_ups_most_urgent_first(warden: User) -> None:
    late, _ = _open(BAOLI_34_2_6W, subject="late", due=timedelta(hours=5))
    soon, _ = _open(BAOLI_34_2_6W, subject="soon", due=timedelta(minutes=10))
    page = web_client(warden).get("/followups/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(f'data-followup="{soon.pk}"') < html.index(f'data-followup="{late.pk}"')


def test_a_warden_of_another_district_cannot_see_or_act_on_it(warden: User, warden_jy: User, gate: User) -> None:
    followup, _ = _open(BAOLI_34_2_6W)
    for outsider in (warden_jy, gate):
        client = web_client(outsider)
        assert client.get(f"/followups/{followup.pk}/").status_code == 404
        assert client.post(f"/followups/{followup.pk}/close", {"finding": "x"}).status_code == 404
        assert f'data-followup="{followup.pk}"' not in client.get("/followups/?view=active").content.decode()
    followup.refresh_from_db()
    assert followup.state == State.OPEN


def test_the_commander_sees_all_in_jurisdiction_with_overdue_marked(warden: User, commander: User, warden_jy: User) -> None:
    ours, _ = _open(BAOLI_34_2_6W, subject="a", due=timedelta(hours=2))
    theirs, _ = followup_open(rule="test_rule", kind="task", subject_type="building", subject_id="b",
                              area=Area.objects.get(code=FUGUI_1), summary="富贵佳园 1号楼", action="走访",
                              due_in=timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(minutes=90)):
        html = web_client(commander).get("/followups/?view=active").content.decode()
    assert f'data-followup="{ours.pk}"' in html and f'data-followup="{theirs.pk}"' in html
    overdue_item = html[html.index(f'data-followup="{theirs.pk}"') - 60:html.index(f'data-followup="{theirs.pk}"')]
    assert "overdue" in overdue_item
    ours_item = html[html.index(f'data-followup="{ours.pk}"') - 60:html.index(f'data-followup="{ours.pk}"')]
    assert "overdue" not in ours_item


def test_the_owner_acknowledges_and_closes_from_the_phone_page(warden: User) -> None:
    followup, _ = _open(BAOLI_34_2_6W)
    client = web_client(warden)
    assert client.post(f"/followups/{followup.pk}/acknowledge").status_code == 302
    page = client.post(f"/followups/{followup.pk}/close", {"outcome": "done", "finding": "复测36.8，正常"}, follow=True)
    assert "复测36.8，正常" in page.content.decode()
    followup.refresh_from_db()
    assert followup.state == State.DONE


def test_a_commander_assigns_a_task_to_the_warden_of_a_building(commander: User, warden: User) -> None:
    client = web_client(commander)
    response = client.post(f"/areas/{BAOLI_34}/assign/", {"summary": "34号楼 有湖北牌照车辆停放",
                                                            "action": "核查车辆与车主", "hours": "4"})
    assert response.status_code == 302
    followup = FollowUp.objects.get(rule="manual", area__code=BAOLI_34)
    assert followup.owner == warden and followup.kind == "task"
    assert Notification.objects.filter(user=warden, about=followup.about).exists()
    # a warden cannot assign
    assert web_client(warden).get(f"/areas/{BAOLI_34}/assign/").status_code == 404


def test_reassigning_to_a_malformed_user_id_is_refused_plainly(commander: User, warden: User) -> None:
    followup, _ = _open(BAOLI_34_2_6W)
    response = web_client(commander).post(f"/followups/{followup.pk}/reassign", {"owner": "abc"}, follow=True)
    assert response.status_code == 200 and "请选择楼长" in response.content.decode()
    followup.refresh_from_db()
    assert followup.owner == warden
