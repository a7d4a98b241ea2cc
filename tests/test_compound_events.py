"""Events of a whole compound reach its wardens (issue 11, item 5): a visitor's fever at its gate
and a key-region car bound for it are owned by its lead warden (牵头楼长) — else the warden of
most of its buildings, else the station — and told to every warden of its buildings and the
channels serving wardens there; the gate and checkpoint pages say exactly what was done; the
checkpoint page finds the destination by name and keeps where the car came from."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from louzhang.access.holders import compound_owner, compound_wardens
from louzhang.access.leads import LeadWardenError, lead_warden_choices, lead_warden_name
from louzhang.accounts.models import Grant, LeadWarden, Role, User
from louzhang.areas.models import Area, Level
from louzhang.areas.services import area_create
from louzhang.audit.models import AuditEvent
from louzhang.checkpoints.models import VehicleInspection
from louzhang.followups.models import FollowUp
from louzhang.gates.models import Gate
from louzhang.notifications.models import Delivery, Notification
from louzhang.notifications.services import channel_add
from tests.conftest import BAOLI, DONGHE, InlineWorker, api_for, web_client
from tests.receiver import Receiver

pytestmark = pytest.mark.django_db

EAST = f"{BAOLI}-E"
CHECKPOINT = "DLT-CP1"
VISITOR = {"name": "欧阳娜娜", "phone": "13912345678", "id_number": "11010519491231002X"}
#: the wardens of 保利百合's buildings in the demo city (building 7 and 31–36; 1–6; 8–14; 15–22; 23–30)
BAOLI_WARDENS = {"warden", "warden01", "warden02", "warden03", "warden04"}


def _baoli() -> Area:
    return Area.objects.get(code=BAOLI)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _no_lead() -> None:
    """Whatever the demo named: the compound's events go by buildings held."""
    LeadWarden.objects.all().delete()


def _lead(username: str, station_xnb: User) -> None:
    lead_warden_name(actor=station_xnb, compound=_baoli(), user=_user(username))


def _visitor_fever(gate: User, n: int = 1, temperature: float = 38.5) -> dict[str, Any]:
    [result] = api_for(gate).post("/gate-checks", {
        "client_id": f"compound-{n:06d}", "gate": EAST, "direction": "in", "temperature": temperature,
        "at": timezone.localtime().replace(microsecond=0).isoformat(), "visitor": VISITOR,
    }).json()["results"]
    return result


@pytest.fixture(autouse=True)
def _inboxes_read(db: Any) -> None:
    """What the demo put in the inboxes was read: the unread lines are this test's."""
    Notification.objects.update(read_at=timezone.now())


def _inbox(username: str) -> list[Notification]:
    """The user's unread lines."""
    return list(Notification.objects.filter(user__username=username, read_at__isnull=True).order_by("pk"))


def _value(page: str, name: str) -> str:
    """The value an input of the page carries."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert tag is not None, name
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def _messages(page: str) -> str:
    return page.split('<ul class="messages">', 1)[1].split("</ul>", 1)[0] if 'class="messages"' in page else ""


# --- who owns an event of the whole compound ------------------------------------------------


def test_the_lead_warden_owns_the_compounds_events(station_xnb: User) -> None:
    _lead("warden01", station_xnb)  # 6 buildings: fewer than others, but named
    owner = compound_owner(_baoli())
    assert owner.user == _user("warden01") and owner.role == Role.WARDEN


def test_without_a_lead_the_warden_of_most_buildings_owns_them_the_first_granted_of_equals(db: Any) -> None:
    _no_lead()
    # warden03 and warden04 hold 8 buildings each; warden03 was granted first
    assert compound_owner(_baoli()).user == _user("warden03")
    warden = _user("warden")  # 7 buildings, and now two more
    for b in (1, 2):
        Grant.objects.create(user=warden, role=Role.WARDEN, area=Area.objects.get(code=f"{BAOLI}-{b}"))
    assert compound_owner(_baoli()).user == warden
    # the warden of a household counts for its building: one more building for warden01 changes nothing
    Grant.objects.create(user=_user("warden01"), role=Role.WARDEN,
                         area=Area.objects.get(code=f"{BAOLI}-34-2-0601"))
    assert compound_owner(_baoli()).user == warden


def test_a_lead_no_longer_active_or_no_longer_a_warden_there_is_passed_over(station_xnb: User) -> None:
    _lead("warden01", station_xnb)
    User.objects.filter(username="warden01").update(is_active=False)
    assert compound_owner(_baoli()).user == _user("warden03")
    User.objects.filter(username="warden01").update(is_active=True)
    Grant.objects.filter(user__username="warden01").delete()
    assert compound_owner(_baoli()).user == _user("warden03")


def test_a_warden_of_the_whole_compound_holds_all_its_buildings(db: Any) -> None:
    _no_lead()
    whole = User.objects.create(username="baoli_whole", display_name="全小区楼长")
    Grant.objects.create(user=whole, role=Role.WARDEN, area=_baoli())
    assert compound_owner(_baoli()).user == whole


def test_a_compound_without_any_warden_goes_to_the_station(station_xnb: User) -> None:
    community = Area.objects.get(code="150202001001")  # 百合社区, 西脑包派出所's beat
    empty = area_create(code="150202001001077", name="百合新苑", level=Level.COMPOUND, parent=community)
    area_create(code=f"{empty.code}-1", name="1号楼", level=Level.BUILDING, parent=empty)
    owner = compound_owner(empty)
    assert owner.user == station_xnb and owner.role == Role.COMMANDER
    assert compound_wardens(empty) == []


# --- naming the lead warden -------------------------------------------------------------------


def test_the_station_names_a_lead_warden_audited_and_only_of_the_compounds_wardens(
    station_xnb: User, station_kde: User, warden: User, warden_jy: User,
) -> None:
    _no_lead()
    assert {u.username for u in lead_warden_choices(_baoli())} == BAOLI_WARDENS
    with pytest.raises(PermissionDenied):
        lead_warden_name(actor=warden, compound=_baoli(), user=warden)  # a warden names nobody
    with pytest.raises(PermissionDenied):
        lead_warden_name(actor=station_kde, compound=_baoli(), user=warden)  # another station
    with pytest.raises(LeadWardenError, match="不是 保利百合 的楼长"):
        lead_warden_name(actor=station_xnb, compound=_baoli(), user=warden_jy)  # 富贵佳园's warden
    with pytest.raises(LeadWardenError):
        lead_warden_name(actor=station_xnb, compound=Area.objects.get(code=f"{BAOLI}-7"), user=warden)
    named = lead_warden_name(actor=station_xnb, compound=_baoli(), user=_user("warden02"))
    assert named is not None and named.user.username == "warden02" and named.named_by == station_xnb
    assert lead_warden_name(actor=station_xnb, compound=_baoli(), user=None) is None
    assert not LeadWarden.objects.filter(compound__code=BAOLI).exists()
    events = AuditEvent.objects.filter(object_type="accounts.leadwarden", actor=station_xnb)
    assert {e.action for e in events} >= {"create", "delete"}
    assert all(e.area_path == _baoli().path for e in events)
    assert events.get(action="delete").object_id == str(named.pk)  # which naming was cleared


def test_the_compound_page_lets_its_commander_name_the_lead_and_shows_it_to_its_wardens(
    station_xnb: User, warden: User, warden_jy: User,
) -> None:
    _no_lead()
    station = web_client(station_xnb)
    page = station.get(f"/areas/{BAOLI}/").content.decode()
    assert 'name="lead"' in page and "牵头楼长" in page and 'data-answering="warden03"' in page
    response = station.post(f"/areas/{BAOLI}/", {"lead": warden.pk}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and f"已指定 {warden.display_name} 为 保利百合 的牵头楼长" in page
    assert LeadWarden.objects.get(compound__code=BAOLI).user == warden
    # somebody who is no warden of the compound is refused, and the form says why
    page = station.post(f"/areas/{BAOLI}/", {"lead": warden_jy.pk}).content.decode()
    assert "请选择本小区的一位楼长" in page and LeadWarden.objects.get(compound__code=BAOLI).user == warden
    # the compound's wardens see who it is, and cannot change it
    mine = web_client(_user("warden01"))
    page = mine.get(f"/areas/{BAOLI}/").content.decode()
    assert f'data-lead="{warden.username}"' in page and 'name="lead"' not in page
    assert mine.post(f"/areas/{BAOLI}/", {"lead": ""}).status_code == 404
    assert LeadWarden.objects.filter(compound__code=BAOLI).exists()


# --- a visitor's fever at the compound's gate -----------------------------------------------


def test_a_visitors_fever_reaches_every_warden_of_the_compound_and_the_district_wardens_group_once(
    gate: User, station_xnb: User, health: User, receiver: Receiver, worker: InlineWorker,
) -> None:
    receiver.script = [(204, {})]
    _lead("warden", station_xnb)
    wardens_group = channel_add(name="东河区楼长工作群", kind="webhook", url=f"{receiver.url}/donghe-wardens",
                                secret="s", area_code=DONGHE, roles=[Role.WARDEN], actor=None)
    station_group = channel_add(name="西脑包派出所群", kind="webhook", url=f"{receiver.url}/station",
                                secret="s", area_code=DONGHE, roles=[Role.COMMANDER], actor=None)
    result = _visitor_fever(gate)
    assert result["status"] == "created" and result["alerts"] == ["fever"]
    assert set(result) == {"index", "status", "id", "errors", "alerts"}  # API.md: nothing more
    followup = FollowUp.objects.get(kind="fever", subject_type="visitor")
    assert followup.area.code == BAOLI and followup.owner == _user("warden")
    # the owner: one line, the follow-up's; every other warden of the compound: the alert
    [owned] = _inbox("warden")
    assert owned.about == followup.about
    for username in BAOLI_WARDENS - {"warden"}:
        [line] = _inbox(username)
        assert "【发热】保利百合 东门 38.5 °C" in line.title and "欧***" in line.title
        assert "欧阳娜娜" not in line.title + line.body
    assert _inbox("warden_jy") == [] and _inbox("station_xnb") == []  # not 富贵佳园's, not the station's
    assert len(_inbox("health")) == 1
    worker.run()
    # the district's wardens group hears of it once (the follow-up), the station's group not at all
    assert [r.path for r in receiver.requests] == ["/donghe-wardens"]
    assert Delivery.objects.filter(channel=wardens_group).count() == 1
    assert not Delivery.objects.filter(channel=station_group).exists()
    body = receiver.requests[0].body.decode()
    assert "欧阳娜娜" not in body and "13912345678" not in body


def test_the_same_visitor_again_is_counted_on_the_follow_up_and_told_again(
    gate: User, station_xnb: User, receiver: Receiver, worker: InlineWorker,
) -> None:
    """A repeat of the same visitor is counted on the open follow-up; the other wardens and the
    group are told again (nothing new was opened that told them)."""
    receiver.script = [(204, {})]
    _lead("warden", station_xnb)
    channel_add(name="东河区楼长工作群", kind="webhook", url=f"{receiver.url}/g", secret="s",
                area_code=DONGHE, roles=[Role.WARDEN], actor=None)
    _visitor_fever(gate, 1)
    _visitor_fever(gate, 2, temperature=38.9)
    assert FollowUp.objects.get(kind="fever").repeats == 1
    assert len(_inbox("warden01")) == 2 and len(_inbox("warden")) == 2
    worker.run()
    assert len(receiver.requests) == 2


def test_a_visitors_fever_in_a_compound_without_wardens_goes_to_the_station_and_the_page_says_so(
    station_xnb: User,
) -> None:
    community = Area.objects.get(code="150202001001")
    empty = area_create(code="150202001001077", name="百合新苑", level=Level.COMPOUND, parent=community)
    Gate.objects.create(code=f"{empty.code}-E", name="东门", compound=empty)
    page = web_client(station_xnb).post(f"/gates/{empty.code}-E/", {
        "visitor_name": "王五", "temperature": "38.6", "direction": "in"}, follow=True).content.decode()
    followup = FollowUp.objects.get(kind="fever", area=empty)
    assert followup.owner == station_xnb and followup.owner_role == Role.COMMANDER
    said = _messages(page)
    assert f"发热：百合新苑 没有楼长，已通知指挥员 {station_xnb.display_name}，由其负责跟进。" in said
    assert "另已通知楼长" not in said


# --- what the gate page says ------------------------------------------------------------------


def test_the_gate_page_says_who_owns_a_visitors_fever_and_how_many_wardens_were_told(
    gate: User, station_xnb: User,
) -> None:
    _lead("warden", station_xnb)
    client = web_client(gate)
    visitor = {"visitor_name": "王五", "visitor_id_number": "11010519491231002X", "direction": "in"}
    said = _messages(client.post(f"/gates/{EAST}/", {**visitor, "temperature": "38.5"}, follow=True)
                     .content.decode())
    warden = _user("warden")
    assert "发热 38.5 °C：已登记，并已生成发热跟进任务" in said
    assert f"发热：已通知民警楼长 {warden.display_name}，由其负责跟进。" in said
    assert "另已通知楼长 4 人。" in said and "已通知卫生联络员 1 人。" in said
    # the same visitor again: counted on the open follow-up, and said so
    said = _messages(client.post(f"/gates/{EAST}/", {**visitor, "temperature": "38.7"}, follow=True)
                     .content.decode())
    assert f"发热：已记入 {warden.display_name} 名下尚未办结的跟进任务。" in said
    assert "另已通知楼长 5 人。" in said
    # a normal temperature: recorded, nobody told, and nothing said about telling
    said = _messages(client.post(f"/gates/{EAST}/", {**visitor, "temperature": "36.5"}, follow=True)
                     .content.decode())
    assert "已登记 36.5 °C" in said and "通知" not in said


def test_the_gate_page_says_a_residents_fever_went_to_the_buildings_warden(gate: User, warden: User) -> None:
    from louzhang.gates.models import HouseholdPass

    code = HouseholdPass.objects.get(household__code=f"{BAOLI}-34-2-0601").code
    said = _messages(web_client(gate).post(f"/gates/{EAST}/", {
        "pass_code": code, "temperature": "38.4", "direction": "in"}, follow=True).content.decode())
    assert f"发热：已通知民警楼长 {warden.display_name}，由其负责跟进。" in said
    assert "另已通知楼长" not in said  # a household's fever is its building's warden's


# --- a key-region car bound for the compound --------------------------------------------------


def _inspect(user: User, **fields: str) -> str:
    data = {"plate": "鄂A12345", "origin": "湖北省孝感市", "temperatures": "36.5 36.8", "disposition": "pass",
            "destination": "保利百合", **fields}
    return web_client(user).post(f"/checkpoints/{CHECKPOINT}/", data, follow=True).content.decode()


def test_a_key_region_car_goes_to_the_lead_warden_says_where_it_came_from_and_the_page_says_so(
    checkpoint_officer: User, station_xnb: User,
) -> None:
    _lead("warden02", station_xnb)
    page = _inspect(checkpoint_officer)
    followup = FollowUp.objects.get(kind="key_region_vehicle")
    owner = _user("warden02")
    assert followup.owner == owner and followup.area.code == BAOLI
    assert "→ 保利百合，2人，来自湖北省孝感市" in followup.summary
    said = _messages(page)
    assert "鄂A12345 来自重点地区（武汉市）：已为 保利百合 生成跟进任务" in said
    assert f"重点地区车辆：已通知民警楼长 {owner.display_name}，由其负责跟进。" in said
    assert "另已通知楼长 4 人。" in said
    for username in BAOLI_WARDENS - {"warden02"}:
        assert "来自湖北省孝感市" in _inbox(username)[-1].title
    # the latest inspections say where it came from
    inspection = VehicleInspection.objects.get()
    assert inspection.origin == "湖北省孝感市"
    live = web_client(checkpoint_officer).get(f"/checkpoints/{CHECKPOINT}/live").content.decode()
    assert "来自湖北省孝感市" in live.split(f'data-inspection="{inspection.pk}"', 1)[1].split("</li>", 1)[0]


def test_a_local_car_is_recorded_and_nothing_is_said_about_telling_anybody(checkpoint_officer: User) -> None:
    said = _messages(_inspect(checkpoint_officer, plate="蒙B12345", origin="包头市"))
    assert "已登记 蒙B12345" in said and "通知" not in said and "跟进" not in said
    assert not FollowUp.objects.filter(kind="key_region_vehicle").exists()


# --- the destination by name ------------------------------------------------------------------


def test_typing_part_of_a_compounds_name_suggests_it_with_its_district(
    checkpoint_officer: User, warden_jy: User,
) -> None:
    client = web_client(checkpoint_officer)
    page = client.get(f"/checkpoints/{CHECKPOINT}/").content.decode()
    assert 'list="destinations"' in page and '<datalist id="destinations">' in page
    assert "suggest=destinations" in page
    found = client.get(f"/checkpoints/{CHECKPOINT}/", {"suggest": "destinations", "destination": "保利"})
    assert found.status_code == 200
    html = found.content.decode()
    assert '<option value="保利百合" label="保利百合 · 包头市东河区">' in html
    assert "富贵佳园" not in html
    assert "<option" not in client.get(f"/checkpoints/{CHECKPOINT}/", {
        "suggest": "destinations", "destination": "没有这个小区"}).content.decode()
    # somebody who does not work the checkpoint is not answered
    assert web_client(warden_jy).get(f"/checkpoints/{CHECKPOINT}/", {
        "suggest": "destinations", "destination": "保利"}).status_code == 404


def test_suggestions_are_the_compounds_of_the_checkpoints_province(checkpoint_officer: User) -> None:
    wuhan = area_create(code="420100", name="武汉市", level=Level.CITY, parent=None)
    district = area_create(code="420106", name="武昌区", level=Level.DISTRICT, parent=wuhan)
    sub = area_create(code="420106001", name="积玉桥街道", level=Level.SUBDISTRICT, parent=district)
    community = area_create(code="420106001001", name="百合社区", level=Level.COMMUNITY, parent=sub)
    area_create(code="420106001001001", name="保利百合花园", level=Level.COMPOUND, parent=community)
    html = web_client(checkpoint_officer).get(f"/checkpoints/{CHECKPOINT}/", {
        "suggest": "destinations", "destination": "保利"}).content.decode()
    assert "保利百合 · 包头市东河区" in html and "保利百合花园" not in html


def test_a_name_two_compounds_share_is_answered_with_both_and_their_districts(checkpoint_officer: User) -> None:
    community = Area.objects.get(code="150207001001")  # 富贵社区, 九原区
    twin = area_create(code="150207001001009", name="保利百合", level=Level.COMPOUND, parent=community)
    page = _inspect(checkpoint_officer)
    assert "有2个小区都叫 保利百合" in page and "东河区" in page and "九原区" in page
    assert BAOLI in page and twin.code in page
    assert _value(page, "destination") == "保利百合"  # what was typed is kept
    # the candidates are offered by code to pick from
    assert f'<option value="{BAOLI}" label="保利百合 · 包头市东河区">' in page
    assert f'<option value="{twin.code}" label="保利百合 · 包头市九原区">' in page
    assert not VehicleInspection.objects.exists()
    # picking one by its code records the car
    _inspect(checkpoint_officer, destination=twin.code)
    assert VehicleInspection.objects.get().destination == twin
