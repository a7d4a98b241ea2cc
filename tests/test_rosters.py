"""Rosters (排班) of the 达拉特旗 24-hour checkpoint: a day as three 8-hour shifts covers it;
a gap, a 14-hour shift, an officer on leave or on two posts at once are flagged before they
happen; the checkpoint's page says who is on shift; the sweep gives the brigade's commander a
follow-up for a gap and settles it once the gap is filled."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import include, path

import louzhang.urls
from louzhang.accounts.models import Role, User
from louzhang.accounts.services import user_create
from louzhang.areas.models import Area, PoliceUnit
from louzhang.checkpoints.models import Checkpoint
from louzhang.demo.rosters import demo_rosters
from louzhang.duty import roster_rules
from louzhang.duty.models import DutyStatus, Officer, Reassignment, Shift
from louzhang.duty.rosters import (
    DOUBLE_BOOKED,
    GAP,
    TOO_LONG,
    UNAVAILABLE_OFFICER,
    Post,
    RosterError,
    day_plan,
    post_find,
    roster_problems,
    rosters_sweep,
    shift_plan,
)
from louzhang.followups.models import ACTIVE_STATES, FollowUp, State
from louzhang.followups.rules import RULES
from louzhang.worker.schedule import PERIODIC
from tests.conftest import web_client

urlpatterns = [*louzhang.urls.urlpatterns, path("", include("louzhang.duty.rosters_urls"))]
pytestmark = pytest.mark.urls(__name__)

LOCAL = ZoneInfo("Asia/Shanghai")
DAY = date(2020, 1, 28)
EARLY = datetime(2020, 1, 28, 7, 0, tzinfo=LOCAL)  # before the day's first shift
CHECKPOINT = "DLT-CP1"


def at(day: int, hour: int) -> datetime:
    """`hour` o'clock on DAY + `day`, local time."""
    return datetime(2020, 1, 28, tzinfo=LOCAL) + timedelta(days=day, hours=hour)


@pytest.fixture
def brigade(db: Any) -> User:
    """The duty commander of the 达拉特旗 traffic-police brigade, which runs the checkpoint (the
    demo city's, where it is loaded)."""
    demo = User.objects.filter(username="dlt_commander").first()
    if demo is not None:
        return demo
    return user_create(username="dlt_cmd", role=Role.COMMANDER, area_codes=["ORD-TP-DLT"],
                       display_name="达拉特旗大队值班长", police_unit=PoliceUnit.objects.get(code="ORD-TP-DLT"))


@pytest.fixture
def officers(db: Any) -> list[Officer]:
    unit = PoliceUnit.objects.get(code="ORD-TP-DLT")
    return [Officer.objects.create(badge_number=f"15062190{i}", name=name, unit=unit,
                                   category=Officer.Category.POLICE, status=DutyStatus.ON_POST)
            for i, name in enumerate(["白永刚", "乌云其其格", "张海军", "李德胜"])]


@pytest.fixture
def post(db: Any) -> Post:
    found = post_find("checkpoint", CHECKPOINT)
    assert found is not None and found.round_the_clock
    return found


@pytest.fixture(autouse=True)
def _early(db: Any) -> Any:
    # the demo city's own roster (today's shifts at this checkpoint, a reassignment) set aside:
    # each story here starts from an empty roster on 2020-01-28
    Shift.objects.all().delete()
    Reassignment.objects.all().delete()
    with time_machine.travel(EARLY, tick=False) as traveller:
        yield traveller


def kinds(problems: list[Any]) -> list[tuple[str, datetime, datetime]]:
    return [(p.kind, p.starts_at, p.ends_at) for p in problems]


def test_three_eight_hour_shifts_cover_a_day(brigade: User, officers: list[Officer], post: Post) -> None:
    shifts = day_plan(actor=brigade, post=post, day=DAY, start_hour=8, officers=officers[:3])
    assert [(s.officer, s.starts_at, s.ends_at) for s in shifts] == [
        (officers[0], at(0, 8), at(0, 16)), (officers[1], at(0, 16), at(1, 0)), (officers[2], at(1, 0), at(1, 8))]
    assert roster_problems([post], start=at(0, 8), within=timedelta(hours=24)) == []
    # before the first shift, and after the last: not covered
    assert kinds(roster_problems([post])) == [(GAP, EARLY, at(0, 8)), (GAP, at(1, 8), EARLY + timedelta(hours=48))]
    with pytest.raises(RosterError):
        day_plan(actor=brigade, post=post, day=DAY, start_hour=8, officers=officers[:2])


def test_a_gap_is_flagged(brigade: User, officers: list[Officer], post: Post) -> None:
    shift_plan(actor=brigade, post=post, officer=officers[0], starts_at=at(0, 8), ends_at=at(0, 16))
    shift_plan(actor=brigade, post=post, officer=officers[1], starts_at=at(0, 16), ends_at=at(1, 0))
    assert kinds(roster_problems([post], start=at(0, 8), within=timedelta(hours=24))) == [
        (GAP, at(1, 0), at(1, 8))]


def test_a_fourteen_hour_shift_is_flagged(brigade: User, officers: list[Officer], post: Post,
                                          settings: Any) -> None:
    long = shift_plan(actor=brigade, post=post, officer=officers[0], starts_at=at(0, 8), ends_at=at(0, 22))
    shift_plan(actor=brigade, post=post, officer=officers[1], starts_at=at(0, 22), ends_at=at(1, 10))  # 12 h: fine
    flagged = [p for p in roster_problems([post]) if p.kind == TOO_LONG]
    assert [p.shift for p in flagged] == [long]
    settings.LOUZHANG_MAX_SHIFT_HOURS = 14
    assert [p for p in roster_problems([post]) if p.kind == TOO_LONG] == []


def test_an_officer_on_leave_put_on_a_shift_is_flagged(brigade: User, officers: list[Officer], post: Post) -> None:
    on_leave = officers[2]
    on_leave.status = DutyStatus.ON_LEAVE
    on_leave.save(update_fields=["status"])
    shift_plan(actor=brigade, post=post, officer=officers[0], starts_at=at(0, 8), ends_at=at(0, 16))
    taken = shift_plan(actor=brigade, post=post, officer=on_leave, starts_at=at(0, 16), ends_at=at(1, 0))
    assert [p.shift for p in roster_problems([post]) if p.kind == UNAVAILABLE_OFFICER] == [taken]


def test_an_officer_on_two_posts_at_once_is_flagged(brigade: User, officers: list[Officer], post: Post) -> None:
    second = Checkpoint.objects.create(code="DLT-CP2", name="达拉特旗出城检查站", area=Area.objects.get(code="150621"))
    other = post_find("checkpoint", second.code)
    assert other is not None
    here = shift_plan(actor=brigade, post=post, officer=officers[0], starts_at=at(0, 8), ends_at=at(0, 16))
    shift_plan(actor=brigade, post=other, officer=officers[0], starts_at=at(0, 14), ends_at=at(0, 22))
    shift_plan(actor=brigade, post=other, officer=officers[1], starts_at=at(0, 16), ends_at=at(1, 0))  # after: fine
    double = [p for p in roster_problems([post]) if p.kind == DOUBLE_BOOKED]
    assert [(p.shift, p.starts_at, p.ends_at, p.other_post) for p in double] == [
        (here, at(0, 14), at(0, 16), "达拉特旗出城检查站")]


def test_the_checkpoint_page_shows_who_is_on_shift_now_and_next(brigade: User, officers: list[Officer],
                                                                 post: Post, checkpoint_officer: User,
                                                                 _early: Any) -> None:
    client = web_client(checkpoint_officer)
    assert "data-on-shift-none" in client.get(f"/checkpoints/{CHECKPOINT}/").content.decode()
    day_plan(actor=brigade, post=post, day=DAY, start_hour=8, officers=officers[:3])
    _early.move_to(at(0, 9))
    page = client.get(f"/checkpoints/{CHECKPOINT}/").content.decode()
    now_part = page.split("data-on-shift>")[1].split("</p>")[0]
    assert officers[0].name in now_part and officers[1].name not in now_part
    assert officers[1].name in page.split("data-next-shift>")[1].split("</p>")[0]
    assert f'href="/rosters/checkpoint/{CHECKPOINT}/"' in page
    _early.move_to(at(0, 17))
    page = client.get(f"/checkpoints/{CHECKPOINT}/").content.decode()
    assert officers[1].name in page.split("data-on-shift>")[1].split("</p>")[0]


def test_commanders_of_the_post_plan_and_its_officers_see(brigade: User, officers: list[Officer],
                                                         checkpoint_officer: User, commander: User,
                                                         warden: User) -> None:
    roster = f"/rosters/checkpoint/{CHECKPOINT}/"
    planned = web_client(brigade).post(roster, {"plan": "shift", "officer": officers[0].pk,
                                                "starts_at": "2020-01-28T08:00", "ends_at": "2020-01-28T22:00"})
    assert planned.status_code == 302
    shift = Shift.objects.get()
    assert (shift.officer, shift.starts_at, shift.ends_at, shift.created_by) == (
        officers[0], at(0, 8), at(0, 22), brigade)
    day = web_client(brigade).post(roster, {"plan": "day", "day": "2020-01-29", "start_hour": 8,
                                            "first": officers[1].pk, "second": officers[2].pk,
                                            "third": officers[3].pk})
    assert day.status_code == 302 and Shift.objects.count() == 4
    seen = web_client(checkpoint_officer).get(roster)
    assert seen.status_code == 200 and f'data-shift="{shift.pk}"' in seen.content.decode()
    assert 'data-problem="too_long"' in seen.content.decode()
    assert "/rosters/checkpoint/DLT-CP1/" in web_client(checkpoint_officer).get("/rosters/").content.decode()
    # the checkpoint's officers see, they do not plan; 包头's commander and warden see nothing here
    assert web_client(checkpoint_officer).post(roster, {"plan": "shift", "officer": officers[0].pk,
                                                        "starts_at": "2020-01-29T08:00",
                                                        "ends_at": "2020-01-29T16:00"}).status_code == 404
    assert web_client(checkpoint_officer).post(f"/rosters/shifts/{shift.pk}/remove").status_code == 404
    for outsider in (commander, warden):
        assert web_client(outsider).get(roster).status_code == 404
    with pytest.raises(PermissionDenied):
        shift_plan(actor=checkpoint_officer, post=post_find("checkpoint", CHECKPOINT),  # type: ignore[arg-type]
                   officer=officers[0], starts_at=at(1, 8), ends_at=at(1, 16))
    assert web_client(brigade).post(f"/rosters/shifts/{shift.pk}/remove").status_code == 302
    assert Shift.objects.count() == 3


def test_only_officers_at_the_commanders_disposal_are_put_on_shift(brigade: User, post: Post) -> None:
    elsewhere = Officer.objects.create(badge_number="150782999", name="外单位民警",
                                       unit=PoliceUnit.objects.get(code="HLBE-YKS"), category=Officer.Category.POLICE)
    with pytest.raises(RosterError):
        shift_plan(actor=brigade, post=post, officer=elsewhere, starts_at=at(0, 8), ends_at=at(0, 16))


def test_the_sweep_opens_one_follow_up_for_a_gap_and_settles_it_when_filled(
        brigade: User, officers: list[Officer], post: Post, _early: Any) -> None:
    assert "duty.rosters_sweep" in PERIODIC and RULES["shift_uncovered"].func is roster_rules.shift_uncovered
    # on the roster: today 07:00–15:00 and from 21:00; 15:00–21:00 nobody
    shift_plan(actor=brigade, post=post, officer=officers[0], starts_at=at(0, 7), ends_at=at(0, 15))
    shift_plan(actor=brigade, post=post, officer=officers[1], starts_at=at(0, 21), ends_at=at(1, 9))
    assert rosters_sweep(EARLY)["gaps"] == 1
    [followup] = FollowUp.objects.filter(rule="shift_uncovered")
    assert (followup.owner, followup.owner_role, followup.state) == (brigade, Role.COMMANDER, State.OPEN)
    assert followup.area.code == "150621" and "15:00" in followup.summary and "21:00" in followup.summary
    _early.move_to(at(0, 8))
    assert rosters_sweep(at(0, 8))["gaps"] == 0  # the same gap: not told again
    # half of it filled: still open, nothing new for what remains
    shift_plan(actor=brigade, post=post, officer=officers[2], starts_at=at(0, 15), ends_at=at(0, 18))
    assert rosters_sweep(at(0, 8)) == {"posts": 1, "gaps": 0, "settled": 0}
    shift_plan(actor=brigade, post=post, officer=officers[3], starts_at=at(0, 18), ends_at=at(0, 21))
    assert rosters_sweep(at(0, 8))["settled"] == 1
    followup.refresh_from_db()
    assert followup.state == State.DONE
    assert not FollowUp.objects.filter(rule="shift_uncovered", state__in=ACTIVE_STATES).exists()


def test_a_checkpoint_nobody_rosters_is_not_swept(post: Post) -> None:
    assert rosters_sweep(EARLY) == {"posts": 0, "gaps": 0, "settled": 0}
    assert not FollowUp.objects.filter(rule="shift_uncovered").exists()


def test_the_demo_rosters_leave_tomorrow_night_uncovered(post: Post) -> None:
    added = demo_rosters()
    assert added > 0 and demo_rosters() == 0
    night = (at(2, 0), at(2, 8))  # the night after tomorrow's second shift
    gaps = [(p.starts_at, p.ends_at) for p in roster_problems([post], start=at(0, 8), within=timedelta(hours=48))
            if p.kind == GAP]
    assert gaps == [night]
    office = Reassignment.objects.get(to_unit__code="HLBE-YKS-SL")
    assert (office.officer.unit.code, office.starts_at, office.ends_at) == ("HLBE-YKS", at(0, 0), at(7, 0))
