"""The seed's story: 牙克石市 raises its response to level one; leave is cancelled and the
officers of 库都尔派出所 — a five-officer station running prevention for its whole town — are
recalled; they answer "收到" and "已到岗" with one tap; one not back in time is the station
commander's follow-up; lowering the level ends the recalls still open."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from louzhang.accounts.models import Grant, Role, User
from louzhang.areas.models import Area, PoliceUnit
from louzhang.demo.duty import demo_duty
from louzhang.duty.models import DutyStatus, Officer, Recall, ResponseLevel, StatusChange
from louzhang.duty.services import (
    DutyError,
    officer_status_set,
    recall_report_on_post,
    recalls_sweep,
    response_set,
)
from louzhang.followups.models import ACTIVE_STATES, FollowUp, State
from louzhang.notifications.models import Delivery, Notification
from louzhang.notifications.services import channel_add
from tests.conftest import InlineWorker, api_for, run_cli, web_client
from tests.receiver import Receiver

SHANGHAI = ZoneInfo("Asia/Shanghai")
YAKESHI = "150782"
KUDUER = "150782101001"  # 库都尔社区, the beat of 库都尔派出所
KDE = "HLBE-YKS-KDE"
SUOZHANG, JIAODAOYUAN, SHEQU, SICK, FUJING = "150782101", "150782102", "150782103", "150782104", "150782105"


def _at(day: int, hour: int) -> datetime:
    return datetime(2020, 1, day, hour, tzinfo=SHANGHAI)


def officer(badge: str) -> Officer:
    return Officer.objects.select_related("user").get(badge_number=badge)


@pytest.fixture
def kde(db: object) -> dict[str, Officer]:
    """库都尔派出所 on the eve of the response, the Spring Festival: the 所长 (log-in
    `station_kde`) and the community officer off duty, the 教导员 and an auxiliary officer home
    on leave, one auxiliary officer sick. The community officer and the 教导员 have log-ins of
    their own (named by their badge numbers)."""
    demo_duty()
    # the other units of 牙克石市 (the branch's own staff, 胜利派出所) are on post: not recalled
    Officer.objects.filter(unit__area__code=YAKESHI).exclude(unit__code=KDE).update(status=DutyStatus.ON_POST)
    with time_machine.travel(_at(24, 18), tick=False):
        for badge, status in ((SUOZHANG, DutyStatus.OFF_DUTY), (JIAODAOYUAN, DutyStatus.ON_LEAVE),
                              (SHEQU, DutyStatus.OFF_DUTY), (SICK, DutyStatus.SICK),
                              (FUJING, DutyStatus.ON_LEAVE)):
            officer_status_set(actor=None, officer=officer(badge), status=status, reason="春节")
    for badge in (SHEQU, JIAODAOYUAN):
        Officer.objects.filter(badge_number=badge).update(user=User.objects.create(username=badge, display_name=officer(badge).name))
    return {o.badge_number: o for o in Officer.objects.filter(unit__code=KDE).select_related("user")}


@pytest.fixture
def yks_commander(db: object) -> User:
    """The command room of 牙克石市公安局 (the branch answering for 牙克石市)."""
    user = User.objects.create(username="branch_yks", display_name="牙克石市局指挥室")
    Grant.objects.create(user=user, role=Role.COMMANDER, police_unit=PoliceUnit.objects.get(code="HLBE-YKS"))
    return user


@pytest.fixture
def jy_commander(db: object) -> User:
    """The command room of the 九原区 branch: nothing of 牙克石市 is theirs."""
    user = User.objects.create(username="branch_jy", display_name="九原区分局指挥室")
    Grant.objects.create(user=user, role=Role.COMMANDER, police_unit=PoliceUnit.objects.get(code="BT-JY"))
    return user


def _raise(actor: User | None, due_in: timedelta = timedelta(hours=12)):  # type: ignore[no-untyped-def]
    with time_machine.travel(_at(25, 10), tick=False):
        return response_set(actor=actor, area=Area.objects.get(code=YAKESHI), level=1, due_in=due_in)


def test_level_one_cancels_leave_and_recalls_everyone_not_on_post(
        kde: dict[str, Officer], yks_commander: User, station_kde: User, receiver: Receiver,
        worker: InlineWorker) -> None:
    channel_add(name="库都尔派出所工作群", kind="webhook", url=f"{receiver.url}/hook", area_code=KUDUER,
                roles=(), secret="s", options=None, actor=None)
    outcome = _raise(yks_commander)
    assert (outcome.previous, outcome.level, outcome.recalled, outcome.leave_cancelled) == (0, 1, 4, 2)
    recalled = {r.officer.badge_number: r for r in Recall.objects.filter(response=outcome.response).select_related("officer")}
    assert set(recalled) == {SUOZHANG, JIAODAOYUAN, SHEQU, FUJING}  # the sick one is not recalled
    assert all(r.due_at == _at(25, 22) for r in recalled.values())
    # leave cancelled, in the history, by who raised the level
    assert officer(JIAODAOYUAN).status == officer(FUJING).status == DutyStatus.OFF_DUTY
    last = StatusChange.objects.filter(officer__badge_number=JIAODAOYUAN).latest("pk")
    assert last.by == yks_commander and "牙克石市" in last.reason
    assert officer(SICK).status == DutyStatus.SICK
    # the inbox of each recalled officer with a log-in, and of the station commander
    about = f"response:{outcome.response.pk}"
    told = set(Notification.objects.filter(about=about).values_list("user__username", flat=True))
    assert told == {"station_kde", SHEQU, JIAODAOYUAN}
    assert outcome.told == 3 and outcome.messages == 1
    # the station's group chat
    with time_machine.travel(_at(25, 10) + timedelta(minutes=1), tick=False):
        worker.run()
    [request] = receiver.requests
    body = request.json()
    assert "库都尔派出所" in body["title"] and "吴海涛" in body["text"] and body["link"].endswith("/me/recall/")
    assert Delivery.objects.get(about=about).state == Delivery.State.SENT


def test_the_story_two_back_one_late_then_the_level_is_lowered(
        kde: dict[str, Officer], yks_commander: User, station_kde: User, worker: InlineWorker) -> None:
    response = _raise(yks_commander).response
    recall = {r.officer.badge_number: r for r in Recall.objects.filter(response=response).select_related("officer")}
    # the 所长 taps 收到, then 已到岗 — twice: it counts once
    suozhang = web_client(station_kde)
    suozhang.cookies["django_language"] = "en"  # its messages are matched in English
    with time_machine.travel(_at(25, 11), tick=False):
        page = suozhang.get("/me/recall/")
        assert page.status_code == 200 and f'data-recall="{recall[SUOZHANG].pk}"' in page.content.decode()
        assert suozhang.post(f"/me/recall/{recall[SUOZHANG].pk}/acknowledge").status_code == 302
    with time_machine.travel(_at(25, 12), tick=False):
        assert suozhang.post(f"/me/recall/{recall[SUOZHANG].pk}/on-post").status_code == 302
    with time_machine.travel(_at(25, 12) + timedelta(minutes=5), tick=False):
        again = suozhang.post(f"/me/recall/{recall[SUOZHANG].pk}/on-post", follow=True)
    assert [str(m) for m in again.context["messages"]][-1] == "You had reported on post already."
    answered = Recall.objects.get(pk=recall[SUOZHANG].pk)
    assert answered.acknowledged_at == _at(25, 11) and answered.on_post_at == _at(25, 12)
    assert officer(SUOZHANG).status == DutyStatus.ON_POST and officer(SUOZHANG).status_since == _at(25, 12)
    assert list(StatusChange.objects.filter(officer__badge_number=SUOZHANG, status=DutyStatus.ON_POST,
                                            at__gte=_at(25, 0), at__lt=_at(26, 0)).values_list("at", flat=True)) == [_at(25, 12)]
    # the community officer reports on post from their own phone
    shequ = kde[SHEQU].user
    assert shequ is not None
    with time_machine.travel(_at(25, 15), tick=False):
        assert web_client(shequ).post(f"/me/recall/{recall[SHEQU].pk}/on-post").status_code == 302
    # another's recall is not theirs to answer
    assert web_client(shequ).post(f"/me/recall/{recall[JIAODAOYUAN].pk}/on-post").status_code == 404
    # two of the station's five on post, on the station commander's phone and through the API
    with time_machine.travel(_at(25, 16), tick=False):
        rate = api_for(station_kde).get("/on-post", area=YAKESHI).json()
        page = suozhang.get("/on-post/", {"area": YAKESHI}).content.decode()
        district = api_for(yks_commander).get("/on-post", area=YAKESHI).json()
    assert (rate["officers"], rate["on_post"], rate["rate"], rate["recalled"]) == (5, 2, 0.4, 2)
    assert "data-on-post>2<" in page and "data-officers>5<" in page and "40%" in page
    [station] = [i for i in district["items"] if i["area"] == KDE]
    assert (station["officers"], station["on_post"], station["rate"], station["recalled"]) == (5, 2, 0.4, 2)
    # the due time passes: the 教导员 is not back; the sweep gives the station commander a follow-up
    with time_machine.travel(_at(25, 21), tick=False):
        assert recalls_sweep()["overdue"] == 0
    with time_machine.travel(_at(25, 22) + timedelta(minutes=5), tick=False):
        worker.run()
        again = recalls_sweep()
    assert again["overdue"] == 0  # each late recall is looked at once
    late = FollowUp.objects.filter(rule="recall_overdue", subject_type="recall")
    assert sorted(late.values_list("subject_id", flat=True)) == sorted(
        [str(recall[JIAODAOYUAN].pk), str(recall[FUJING].pk)])
    followup = late.get(subject_id=str(recall[JIAODAOYUAN].pk))
    assert followup.owner == station_kde and followup.owner_role == Role.COMMANDER
    assert followup.state in ACTIVE_STATES and "吴海涛" in followup.summary
    assert Notification.objects.filter(user=station_kde, about=followup.about).exists()
    # he comes back late: his follow-up is settled
    jiaodaoyuan = kde[JIAODAOYUAN].user
    assert jiaodaoyuan is not None
    with time_machine.travel(_at(26, 1), tick=False):
        assert recall_report_on_post(actor=jiaodaoyuan, recall=Recall.objects.get(pk=recall[JIAODAOYUAN].pk))
    followup.refresh_from_db()
    assert followup.state == State.DONE and followup.closed_by == jiaodaoyuan
    # the region lowers its response: the last open recall ends, its follow-up closes, she is told
    with time_machine.travel(_at(27, 9), tick=False):
        lowered = response_set(actor=yks_commander, area=Area.objects.get(code=YAKESHI), level=2)
    assert (lowered.previous, lowered.level, lowered.recalls_ended, lowered.recalled) == (1, 2, 1, 0)
    ended = Recall.objects.get(pk=recall[FUJING].pk)
    assert ended.ended_at == _at(27, 9) and ended.on_post_at is None
    assert FollowUp.objects.get(subject_id=str(recall[FUJING].pk), rule="recall_overdue").state == State.DONE
    assert ResponseLevel.objects.get(pk=response.pk).ended_at == _at(27, 9)
    assert ResponseLevel.objects.get(area__code=YAKESHI, ended_at__isnull=True).level == 2
    assert Notification.objects.filter(user=station_kde, about=f"response:{response.pk}").count() == 2


def test_the_same_level_again_changes_nothing_and_level_two_recalls_nobody(
        kde: dict[str, Officer], yks_commander: User) -> None:
    area = Area.objects.get(code=YAKESHI)
    two = response_set(actor=yks_commander, area=area, level=2)
    assert two.changed and two.recalled == 0 and not Recall.objects.exists()
    assert officer(JIAODAOYUAN).status == DutyStatus.ON_LEAVE  # level two keeps leave
    assert not response_set(actor=yks_commander, area=area, level=2).changed
    one = response_set(actor=yks_commander, area=area, level=1)
    assert one.recalled == 4 and Recall.objects.count() == 4
    assert not response_set(actor=yks_commander, area=area, level=1).changed
    assert Recall.objects.count() == 4
    ended = response_set(actor=yks_commander, area=area, level=0)
    assert ended.recalls_ended == 4 and ended.response is None
    assert not ResponseLevel.objects.filter(area=area, ended_at__isnull=True).exists()
    assert not response_set(actor=yks_commander, area=area, level=0).changed
    with pytest.raises(DutyError):
        response_set(actor=yks_commander, area=area, level=4)


def test_falling_sick_ends_the_recall_and_setting_on_post_answers_it(
        kde: dict[str, Officer], yks_commander: User, station_kde: User) -> None:
    response = _raise(yks_commander).response
    officer_status_set(actor=station_kde, officer=officer(FUJING), status=DutyStatus.SICK, reason="发热")
    assert Recall.objects.get(response=response, officer__badge_number=FUJING).ended_at is not None
    officer_status_set(actor=station_kde, officer=officer(SHEQU), status=DutyStatus.ON_POST)
    assert Recall.objects.get(response=response, officer__badge_number=SHEQU).on_post_at is not None
    with time_machine.travel(_at(26, 12), tick=False):
        recalls_sweep()
    late = set(FollowUp.objects.filter(rule="recall_overdue").values_list("subject_id", flat=True))
    assert late == {str(Recall.objects.get(response=response, officer__badge_number=b).pk) for b in (SUOZHANG, JIAODAOYUAN)}


def test_an_officer_already_recalled_elsewhere_is_not_recalled_twice(
        kde: dict[str, Officer], yks_commander: User, station_kde: User) -> None:
    _raise(yks_commander)
    # the 所长 raises his own beat too: everybody concerned is recalled already
    outcome = response_set(actor=station_kde, area=Area.objects.get(code=KUDUER), level=1)
    assert outcome.changed and outcome.recalled == 0
    assert Recall.objects.count() == 4


def test_a_commander_of_another_district_cannot_set_yakeshis_level(
        kde: dict[str, Officer], jy_commander: User, station_kde: User, warden_jy: User) -> None:
    area = Area.objects.get(code=YAKESHI)
    for outsider in (jy_commander, station_kde, warden_jy):  # the station holds its beat, not the city
        with pytest.raises(PermissionDenied):
            response_set(actor=outsider, area=area, level=1)
        assert web_client(outsider).post(f"/on-post/{YAKESHI}/response", {"level": 1, "hours": 12}).status_code == 404
    assert not ResponseLevel.objects.exists() and not Recall.objects.exists()


def test_the_page_sets_the_level_and_says_what_was_done(kde: dict[str, Officer], yks_commander: User) -> None:
    client = web_client(yks_commander)
    bad = client.post(f"/on-post/{YAKESHI}/response", {"level": 1, "hours": 0})
    assert bad.status_code == 422 and not ResponseLevel.objects.exists()
    page = client.post(f"/on-post/{YAKESHI}/response", {"level": 1, "hours": 12}, follow=True)
    assert page.status_code == 200
    said = [str(m) for m in page.context["messages"]]
    assert any("4" in s and "2" in s for s in said)  # 4 recalled, leave cancelled for 2
    assert Recall.objects.count() == 4
    assert 'data-response="150782"' in page.content.decode()


@pytest.mark.django_db
def test_the_operator_imports_the_officers_then_raises_the_response(cli_env: dict[str, str], tmp_path: Path) -> None:
    """`louzhang import officers` and `louzhang response set`, run as an operator runs them."""
    assert run_cli(cli_env, "init").returncode == 0
    assert run_cli(cli_env, "demo").returncode == 0
    roster = tmp_path / "kde.csv"
    roster.write_text("警号,姓名,派出所,类别,职务,手机号\n"
                      "150782701,韩冬,库都尔派出所,民警,社区民警,13904701701\n"
                      "150782702,韩雪,HLBE-YKS-KDE,辅警,辅警,\n"
                      "150782703,韩梅,HLBE-YKS-KDE,辅警,辅警,\n"
                      "150782704,韩松,幸福派出所,辅警,辅警,\n", encoding="gb18030")
    first = run_cli(cli_env, "import", "officers", str(roster), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"read": 4, "created": 3, "updated": 0, "unchanged": 0, "rejected": 1,
                                        "rejects_file": str(tmp_path / "kde-rejects.csv")}
    again = json.loads(run_cli(cli_env, "import", "officers", str(roster), "--json").stdout)
    assert (again["created"], again["updated"], again["unchanged"], again["rejected"]) == (0, 0, 3, 1)
    raised = run_cli(cli_env, "response", "set", YAKESHI, "--level", "1", "--due-hours", "6")
    assert raised.returncode == 0, raised.stderr
    assert "牙克石市" in raised.stdout
    listed = run_cli(cli_env, "response", "list")
    assert listed.returncode == 0 and listed.stdout.startswith(f"{YAKESHI}\t牙克石市\tlevel 1")
    assert run_cli(cli_env, "response", "set", YAKESHI, "--level", "0").returncode == 0
    assert run_cli(cli_env, "response", "list").stdout == ""
    unknown = run_cli(cli_env, "response", "set", "999999", "--level", "1")
    assert unknown.returncode != 0 and len(unknown.stderr.strip().splitlines()) == 1
    bad = run_cli(cli_env, "response", "set", YAKESHI, "--level", "5")
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
    compound = run_cli(cli_env, "import", "officers", str(roster), "--compound", "150202001001001")
    assert compound.returncode != 0 and len(compound.stderr.strip().splitlines()) == 1
