"""Reassignment (下沉): an office officer of 牙克石市公安局 sent to 胜利派出所 for seven days sees
its community for those seven days — pages, API, follow-ups — and not on the eighth; both
stations' commanders see it; nobody else makes it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import include, path

import louzhang.urls
from louzhang.access.holders import wardens_over
from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.accounts.models import Grant, Role, User
from louzhang.accounts.services import user_create
from louzhang.areas.models import Area, PoliceUnit
from louzhang.audit.models import AuditEvent
from louzhang.duty.models import DutyStatus, Officer, Reassignment
from louzhang.duty.reassignments import ReassignmentError, reassignment_cancel, reassignment_create
from tests.conftest import api_for, web_client

# the rosters' and reassignments' pages, as the site root will include them
urlpatterns = [*louzhang.urls.urlpatterns, path("", include("louzhang.duty.rosters_urls"))]
pytestmark = pytest.mark.urls(__name__)

LOCAL = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2020, 1, 27, 9, 0, tzinfo=LOCAL)
SHENGLI_COMMUNITY = "150782001001"  # 胜利社区, the beat of 胜利派出所
KUDUER_COMMUNITY = "150782101001"  # 库都尔社区, the beat of 库都尔派出所


def _unit(code: str) -> PoliceUnit:
    return PoliceUnit.objects.get(code=code)


@pytest.fixture
def yks_commander(db: Any) -> User:
    """The command room of 牙克石市公安局: above both of its stations."""
    return user_create(username="yks_cmd", role=Role.COMMANDER, area_codes=["HLBE-YKS"],
                       display_name="牙克石市局指挥室", police_unit=_unit("HLBE-YKS"))


@pytest.fixture
def station_sl(db: Any) -> User:
    """The head of 胜利派出所."""
    return user_create(username="station_sl", role=Role.COMMANDER, area_codes=["HLBE-YKS-SL"],
                       display_name="胜利派出所所长", police_unit=_unit("HLBE-YKS-SL"))


def _officer(badge: str, unit: str, *, login: bool = True, post: str = "科员") -> Officer:
    user = None
    if login:
        user = User(username=f"officer{badge}", display_name=f"民警{badge}")
        user.set_unusable_password()
        user.save()
    return Officer.objects.create(badge_number=badge, name=f"民警{badge}", unit=_unit(unit),
                                  category=Officer.Category.POLICE, post=post, user=user,
                                  status=DutyStatus.ON_POST)


@pytest.fixture
def office_officer(db: Any) -> Officer:
    """An office officer of 牙克石市公安局 itself (机关), with a log-in and no grant of their own."""
    return _officer("150782901", "HLBE-YKS")


def _reassign(actor: User, officer: Officer, *, starts: datetime, days: int = 7, unit: str = "HLBE-YKS-SL",
              to_area: Area | None = None) -> Reassignment:
    return reassignment_create(actor=actor, officer=officer, to_unit=_unit(unit), to_area=to_area,
                               starts_at=starts, ends_at=starts + timedelta(days=days), reason="下沉")


def _sees(user: User, code: str) -> tuple[int, int]:
    """(page, API) status of an area for `user`, each from a fresh request."""
    fresh = User.objects.get(pk=user.pk)
    return (web_client(fresh).get(f"/areas/{code}/").status_code,
            api_for(fresh).get(f"/areas/{code}").status_code)


def test_office_officer_reassigned_for_seven_days_sees_the_station_then_not_on_day_eight(
        yks_commander: User, office_officer: Officer) -> None:
    user = office_officer.user
    assert user is not None
    community = Area.objects.get(code=SHENGLI_COMMUNITY)
    with time_machine.travel(MORNING, tick=False):
        assert _sees(user, SHENGLI_COMMUNITY) == (404, 404)
        _reassign(yks_commander, office_officer, starts=MORNING)
        assert _sees(user, SHENGLI_COMMUNITY) == (200, 200)
        assert _sees(user, KUDUER_COMMUNITY) == (404, 404)  # the other station's beat: never
        assert user.pk in {u.pk for u in wardens_over(community)}  # told as the area's warden
    with time_machine.travel(MORNING + timedelta(days=6, hours=23), tick=False):
        assert _sees(user, SHENGLI_COMMUNITY) == (200, 200)
    with time_machine.travel(MORNING + timedelta(days=7), tick=False):  # day eight, this morning
        assert _sees(user, SHENGLI_COMMUNITY) == (404, 404)
        assert user.pk not in {u.pk for u in wardens_over(community)}
        assert jurisdiction_for(User.objects.get(pk=user.pk)).is_empty


def test_a_grant_before_its_start_gives_nothing(yks_commander: User, office_officer: Officer) -> None:
    user = office_officer.user
    assert user is not None
    with time_machine.travel(MORNING, tick=False):
        reassignment = _reassign(yks_commander, office_officer, starts=MORNING + timedelta(days=1))
        grant = Grant.objects.get(pk=reassignment.grant_id)
        assert (grant.starts_at, grant.ends_at) == (reassignment.starts_at, reassignment.ends_at)
        assert grant.police_unit_id == reassignment.to_unit_id and grant.role == Role.WARDEN
        assert _sees(user, SHENGLI_COMMUNITY) == (404, 404)
        assert user.pk not in {u.pk for u in wardens_over(Area.objects.get(code=SHENGLI_COMMUNITY))}
    with time_machine.travel(MORNING + timedelta(days=1), tick=False):
        assert _sees(user, SHENGLI_COMMUNITY) == (200, 200)


def test_a_plain_grant_with_a_window_is_honoured_too(warden: User) -> None:
    """Any grant, not only a reassignment's: the demo warden's grants, ended yesterday."""
    with time_machine.travel(MORNING, tick=False):
        assert not jurisdiction_for(User.objects.get(pk=warden.pk)).is_empty
        Grant.objects.filter(user=warden).update(ends_at=MORNING - timedelta(days=1))
        assert jurisdiction_for(User.objects.get(pk=warden.pk)).is_empty
        Grant.objects.filter(user=warden).update(ends_at=None, starts_at=MORNING + timedelta(hours=1))
        assert jurisdiction_for(User.objects.get(pk=warden.pk)).is_empty


def test_one_community_only(yks_commander: User, office_officer: Officer) -> None:
    community = Area.objects.get(code=SHENGLI_COMMUNITY)
    with time_machine.travel(MORNING, tick=False):
        reassignment = _reassign(yks_commander, office_officer, starts=MORNING, to_area=community)
        grant = Grant.objects.get(pk=reassignment.grant_id)
        assert grant.area_id == community.pk and grant.police_unit_id is None
        assert _sees(office_officer.user, SHENGLI_COMMUNITY) == (200, 200)  # type: ignore[arg-type]
        with pytest.raises(ReassignmentError):  # a community of another station
            _reassign(yks_commander, _officer("150782902", "HLBE-YKS"), starts=MORNING,
                      to_area=Area.objects.get(code=KUDUER_COMMUNITY))


def test_both_stations_commanders_see_the_reassignment(yks_commander: User, station_sl: User,
                                                       station_kde: User, station_xnb: User) -> None:
    kde_officer = _officer("150782301", "HLBE-YKS-KDE")
    with time_machine.travel(MORNING, tick=False):
        reassignment = _reassign(yks_commander, kde_officer, starts=MORNING)
        marker = f'data-reassignment="{reassignment.pk}"'
        going_out = web_client(station_kde).get("/reassignments/units/HLBE-YKS-KDE/").content.decode()
        assert marker in going_out.split('data-direction="out"')[1]
        assert marker not in going_out.split('data-direction="out"')[0]
        coming_in = web_client(station_sl).get("/reassignments/units/HLBE-YKS-SL/").content.decode()
        assert marker in coming_in.split('data-direction="in"')[1].split('data-direction="out"')[0]
        for commander in (station_kde, station_sl, yks_commander):
            assert marker in web_client(commander).get("/reassignments/").content.decode()
            assert web_client(commander).get(f"/reassignments/{reassignment.pk}/").status_code == 200
        # a commander of neither: not found, like a reassignment that does not exist
        assert web_client(station_xnb).get(f"/reassignments/{reassignment.pk}/").status_code == 404
        assert web_client(station_xnb).get("/reassignments/units/HLBE-YKS-SL/").status_code == 404
        assert web_client(station_kde).get("/reassignments/units/HLBE-YKS-SL/").status_code == 404


def test_a_commander_of_neither_unit_cannot_reassign(yks_commander: User, station_sl: User, station_kde: User,
                                                     station_xnb: User, office_officer: Officer) -> None:
    kde_officer = _officer("150782302", "HLBE-YKS-KDE")
    with time_machine.travel(MORNING, tick=False):
        with pytest.raises(PermissionDenied):  # commands neither
            _reassign(station_xnb, kde_officer, starts=MORNING)
        with pytest.raises(PermissionDenied):  # commands the officer's station, not the other
            _reassign(station_kde, kde_officer, starts=MORNING)
        with pytest.raises(PermissionDenied):  # commands the station, not the officer's unit
            _reassign(station_sl, kde_officer, starts=MORNING)
        assert web_client(station_xnb).get("/reassignments/units/HLBE-YKS-SL/new/").status_code == 404
        form = {"officer": kde_officer.pk, "starts_at": "2020-01-27T10:00", "ends_at": "2020-02-03T10:00"}
        assert web_client(station_xnb).post("/reassignments/units/HLBE-YKS-SL/new/", form).status_code == 404
        assert web_client(station_kde).post("/reassignments/units/HLBE-YKS-SL/new/", form).status_code == 404
        # the head of 胜利派出所 may not pick another station's officer: the choice is refused
        refused = web_client(station_sl).post("/reassignments/units/HLBE-YKS-SL/new/", form)
        assert refused.status_code == 200 and refused.context["form"].has_error("officer")
        assert not Reassignment.objects.filter(officer=kde_officer).exists()
        done = web_client(yks_commander).post("/reassignments/units/HLBE-YKS-SL/new/", form)
        created = Reassignment.objects.get(officer=kde_officer)
        assert done.status_code == 302 and done["Location"] == f"/reassignments/{created.pk}/"
        assert (created.officer, created.created_by) == (kde_officer, yks_commander)
        assert created.starts_at == datetime(2020, 1, 27, 10, 0, tzinfo=LOCAL)
        assert AuditEvent.objects.filter(object_type="duty.reassignment", object_id=str(created.pk),
                                         action=AuditEvent.Action.CREATE, actor=yks_commander).exists()


def test_an_officer_without_a_log_in_is_refused_with_a_clear_error(english: None, yks_commander: User) -> None:
    no_login = _officer("150782903", "HLBE-YKS", login=False)
    with time_machine.travel(MORNING, tick=False):
        with pytest.raises(ReassignmentError, match="has no log-in"):
            _reassign(yks_commander, no_login, starts=MORNING)
        page = web_client(yks_commander).post("/reassignments/units/HLBE-YKS-SL/new/", {
            "officer": no_login.pk, "starts_at": "2020-01-27T10:00", "ends_at": "2020-02-03T10:00"})
        assert page.status_code == 200 and "还没有登录账号" in page.content.decode()  # the page: Chinese
        assert not Reassignment.objects.filter(officer=no_login).exists()
        assert not Grant.objects.filter(starts_at__isnull=False, user__officer=no_login).exists()


def test_overlapping_or_empty_reassignments_are_refused(yks_commander: User, office_officer: Officer) -> None:
    with time_machine.travel(MORNING, tick=False):
        _reassign(yks_commander, office_officer, starts=MORNING)
        with pytest.raises(ReassignmentError):  # the same officer, part of the same days
            _reassign(yks_commander, office_officer, starts=MORNING + timedelta(days=3), unit="HLBE-YKS-KDE")
        with pytest.raises(ReassignmentError):  # over already
            _reassign(yks_commander, _officer("150782904", "HLBE-YKS"), starts=MORNING - timedelta(days=8))
        # after it, the same station again: a second grant of the same role and unit
        _reassign(yks_commander, office_officer, starts=MORNING + timedelta(days=7))
        assert Grant.objects.filter(user=office_officer.user).count() == 2


def test_cancelling_ends_access_now_and_is_audited(station_sl: User, yks_commander: User,
                                                   office_officer: Officer) -> None:
    with time_machine.travel(MORNING, tick=False):
        reassignment = _reassign(yks_commander, office_officer, starts=MORNING - timedelta(days=1))
        assert _sees(office_officer.user, SHENGLI_COMMUNITY)[0] == 200  # type: ignore[arg-type]
        response = web_client(station_sl).post(f"/reassignments/{reassignment.pk}/cancel")
        assert response.status_code == 302
        assert _sees(office_officer.user, SHENGLI_COMMUNITY) == (404, 404)  # type: ignore[arg-type]
        reassignment.refresh_from_db()
        assert reassignment.cancelled_at == MORNING
        assert Grant.objects.get(pk=reassignment.grant_id).ends_at == MORNING
        assert not reassignment_cancel(actor=station_sl, reassignment=reassignment)  # once only
        assert AuditEvent.objects.filter(object_type="duty.reassignment", object_id=str(reassignment.pk),
                                         action=AuditEvent.Action.CHANGE, actor=station_sl).count() == 1
        # one not started yet never starts
        later = _reassign(yks_commander, office_officer, starts=MORNING + timedelta(days=10))
        assert reassignment_cancel(actor=yks_commander, reassignment=later)
    with time_machine.travel(MORNING + timedelta(days=11), tick=False):
        assert _sees(office_officer.user, SHENGLI_COMMUNITY) == (404, 404)  # type: ignore[arg-type]


def test_a_station_head_reassigned_commands_there(yks_commander: User, station_sl: User) -> None:
    head = _officer("150782401", "HLBE-YKS-KDE", post="副所长")
    with time_machine.travel(MORNING, tick=False):
        reassignment = _reassign(yks_commander, head, starts=MORNING)
        assert reassignment.role == Role.COMMANDER
        commanding = jurisdiction_for(User.objects.get(pk=head.user_id), roles=[Role.COMMANDER])
        assert commanding.covers(Area.objects.get(code=SHENGLI_COMMUNITY).path)
