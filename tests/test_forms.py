"""Forms and permissions: every service checks its actor itself (the page, the command line and
the API share one check), and a form that fails comes back with what the officer typed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from louzhang.accounts.models import User
from louzhang.areas.models import Area, Level
from louzhang.areas.services import area_create
from louzhang.checkpoints.models import VehicleInspection
from louzhang.checkpoints.services import key_region_add
from louzhang.followups.models import FollowUp, State
from louzhang.followups.services import (
    followup_acknowledge,
    followup_assign,
    followup_close,
    followup_open,
    followup_reassign,
)
from louzhang.gates.models import GateRecord, HouseholdPass
from louzhang.gates.services import pass_sheet_print
from louzhang.notifications.models import Channel, Notification
from louzhang.notifications.services import channel_add, channel_set_active
from tests.conftest import BAOLI, BAOLI_34, BAOLI_34_2_6W, DONGHE, web_client

pytestmark = pytest.mark.django_db
GATE = f"{BAOLI}-E"
CHECKPOINT = "/checkpoints/DLT-CP1/"


def _followup() -> FollowUp:
    followup, _ = followup_open(rule="test", kind="task", subject_type="household", subject_id="x",
                                area=Area.objects.get(code=BAOLI_34_2_6W), summary="6楼西户 核查",
                                action="上门核实", due_in=timedelta(hours=1))
    return followup


def _pass() -> str:
    return HouseholdPass.objects.get(household__code=BAOLI_34_2_6W).code


def _value(page: str, name: str) -> str:
    """The value an input of the page carries."""
    import re

    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert tag is not None, name
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


# --- services refuse an actor without the capability, whoever calls them -------------------


def test_a_warden_cannot_bind_or_switch_a_channel_through_the_service(warden: User, commander: User) -> None:
    with pytest.raises(PermissionDenied):
        channel_add(name="东河区楼长群", kind="webhook", url="https://example.org/hook", area_code=DONGHE,
                    actor=warden)
    assert not Channel.objects.filter(name="东河区楼长群").exists()
    channel = channel_add(name="东河区楼长群", kind="webhook", url="https://example.org/hook",
                          area_code=DONGHE, actor=commander)
    with pytest.raises(PermissionDenied):
        channel_set_active(channel=channel, active=False, actor=warden)
    channel.refresh_from_db()
    assert channel.is_active
    # the operator at the console (`louzhang channel …`) is actor=None
    assert channel_set_active(channel=channel, active=False, actor=None)


def test_a_warden_cannot_reassign_or_assign_and_an_outsider_cannot_close(
    warden: User, warden_jy: User, commander: User,
) -> None:
    followup = _followup()
    with pytest.raises(PermissionDenied):
        followup_reassign(followup=followup, actor=warden, owner=warden)
    with pytest.raises(PermissionDenied):
        followup_assign(actor=warden, area=Area.objects.get(code=BAOLI_34), summary="x", action="y",
                        due_in=timedelta(hours=1))
    with pytest.raises(PermissionDenied):
        followup_close(followup=followup, actor=warden_jy, done=True, finding="已处理")
    with pytest.raises(PermissionDenied):
        followup_acknowledge(followup=followup, actor=warden_jy)
    followup.refresh_from_db()
    assert followup.state == State.OPEN
    assert followup_close(followup=followup, actor=commander, done=False, finding="重复")


def test_a_station_commander_cannot_add_a_key_region(station_xnb: User) -> None:
    with pytest.raises(PermissionDenied):
        key_region_add(actor=station_xnb, name="温州市", division_prefixes=["3303"], plate_prefixes=["浙C"],
                       starts_on=date(2020, 2, 1))


def test_gate_staff_cannot_print_pass_cards_and_a_warden_prints_them_audited(gate: User, warden: User) -> None:
    from louzhang.audit.models import AuditEvent

    building = Area.objects.get(code=BAOLI_34)
    with pytest.raises(PermissionDenied):
        pass_sheet_print(actor=gate, building=building)
    assert not AuditEvent.objects.filter(object_type="gates.householdpass").exists()
    cards = pass_sheet_print(actor=warden, building=building)
    assert len(cards) == 24
    assert AuditEvent.objects.filter(actor=warden, object_type="gates.householdpass",
                                     summary="24 pass cards printed").exists()


# --- the gate page keeps what was typed ------------------------------------------------------


def test_a_bad_pass_code_keeps_the_typed_temperature_and_method(gate: User) -> None:
    response = web_client(gate).post(f"/gates/{GATE}/", {"pass_code": "ZZZZ9999", "temperature": "37,1",
                                                         "method": "armpit", "direction": "in"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "未登记" in page and "ZZZZ9999" in page
    assert _value(page, "temperature") == "37,1" and _value(page, "pass_code") == "ZZZZ9999"
    assert '<option value="armpit" selected>' in page
    assert 'aria-invalid="true"' in page and not GateRecord.objects.exists()


def test_a_visitors_details_are_kept_when_the_phone_number_is_wrong(gate: User) -> None:
    response = web_client(gate).post(f"/gates/{GATE}/", {
        "visitor_name": "王五", "visitor_phone": "12345", "visiting": "34号楼", "visitor_reason": "送药",
        "temperature": "36.6", "direction": "in"})
    assert response.status_code == 200
    page = response.content.decode()
    assert _value(page, "visitor_name") == "王五" and _value(page, "visitor_phone") == "12345"
    assert _value(page, "visiting") == "34号楼" and _value(page, "temperature") == "36.6"
    assert '<details class="visitor" open>' in page and not GateRecord.objects.exists()


def test_a_gate_record_without_a_pass_or_a_visitor_says_so(gate: User) -> None:
    page = web_client(gate).post(f"/gates/{GATE}/", {"temperature": "36.5", "direction": "in"}).content.decode()
    assert "请扫码或输入出入证号，或登记无证访客" in page and _value(page, "temperature") == "36.5"


def test_the_gate_says_what_was_done_on_fever(gate: User, warden: User) -> None:
    page = web_client(gate).post(f"/gates/{GATE}/", {"pass_code": _pass(), "temperature": "38，4",
                                                     "direction": "in"}, follow=True).content.decode()
    assert "发热 38.4 °C：已登记，并已生成发热跟进任务" in page
    # who was told, as it was done: the building's warden owns it, the health liaison knows
    assert f"发热：已通知民警楼长 {warden.display_name}，由其负责跟进。 已通知卫生联络员 1 人。" in page
    assert "另已通知楼长" not in page
    assert FollowUp.objects.filter(kind="fever", area__code=BAOLI_34_2_6W).exists()


# --- the checkpoint page keeps what was typed, and takes a compound's name ------------------


def _inspect(user: User, **fields: str) -> tuple[int, str]:
    data = {"plate": "鄂A12345", "origin": "武汉市", "temperatures": "36.5 36.8", "disposition": "pass", **fields}
    response = web_client(user).post(CHECKPOINT, data, follow=True)
    return response.status_code, response.content.decode()


def test_a_bad_plate_keeps_plate_origin_and_destination(checkpoint_officer: User) -> None:
    status, page = _inspect(checkpoint_officer, plate="鄂AI2345", destination="保利百合")
    assert status == 200 and "未登记" in page and "I 和 O" in page
    assert _value(page, "plate") == "鄂AI2345" and _value(page, "origin") == "武汉市"
    assert _value(page, "destination") == "保利百合" and _value(page, "temperatures") == "36.5 36.8"
    assert not VehicleInspection.objects.exists()


def test_a_destination_typed_by_the_compounds_name_is_taken(checkpoint_officer: User) -> None:
    status, page = _inspect(checkpoint_officer, destination=" 保利百合 ")
    assert status == 200 and "已为 保利百合 生成跟进任务" in page
    inspection = VehicleInspection.objects.get()
    assert inspection.destination.code == BAOLI and inspection.occupants.count() == 2
    assert FollowUp.objects.filter(kind="key_region_vehicle", area__code=BAOLI).exists()


def test_a_name_two_compounds_share_or_none_has_is_refused_and_kept(checkpoint_officer: User) -> None:
    community = Area.objects.get(code="150207001001")  # 富贵社区, 九原区
    twin = area_create(code="150207001001009", name="保利百合", level=Level.COMPOUND, parent=community)
    status, page = _inspect(checkpoint_officer, destination="保利百合")
    assert status == 200 and "有2个小区都叫 保利百合" in page
    assert BAOLI in page and twin.code in page and "九原区" in page
    assert _value(page, "destination") == "保利百合"
    status, page = _inspect(checkpoint_officer, destination="保利")
    assert "没有名为 保利 的小区。是否指" in page and BAOLI in page
    status, page = _inspect(checkpoint_officer, destination="百花小区")
    assert "没有名称或代码为 百花小区 的小区" in page and _value(page, "plate") == "鄂A12345"
    assert not VehicleInspection.objects.exists()


def test_a_key_region_car_turned_back_is_not_said_to_be_followed_up(checkpoint_officer: User) -> None:
    status, page = _inspect(checkpoint_officer, destination=BAOLI, disposition="refused")
    assert "鄂A12345 来自重点地区（武汉市）。" in page and "跟进任务" not in page
    assert not FollowUp.objects.filter(kind="key_region_vehicle").exists()


def test_temperatures_with_either_comma() -> None:
    from louzhang.core.forms import TemperaturesField

    field = TemperaturesField(required=False)
    assert field.clean("36.5 36,8、37，1 36.6,36.7") == [Decimal(t) for t in ("36.5", "36.8", "37.1", "36.6", "36.7")]
    with pytest.raises(Exception, match="95"):
        field.clean("36.5 95")


# --- the other forms -------------------------------------------------------------------------


def test_a_task_with_a_bad_due_time_keeps_what_was_typed(commander: User) -> None:
    response = web_client(commander).post(f"/areas/{BAOLI_34}/assign/", {
        "summary": "34号楼 有湖北牌照车辆停放", "action": "核查车辆与车主", "hours": "999", "urgent": "on"})
    page = response.content.decode()
    assert response.status_code == 200 and "办理时限须为 1 至 336 小时" in page
    assert _value(page, "summary") == "34号楼 有湖北牌照车辆停放" and 'name="urgent" id="urgent" checked' in page
    assert not FollowUp.objects.filter(rule="manual").exists()


def test_a_channel_not_added_keeps_the_form_but_not_the_secret(commander: User) -> None:
    response = web_client(commander).post("/channels/", {
        "name": "包头市指挥群", "kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=T",
        "area": "150621", "secret": "SEC-1", "roles": ["commander"]})
    page = response.content.decode()
    assert response.status_code == 200 and "区域代码不存在或不在辖区内：150621" in page  # 鄂尔多斯, not 包头
    assert _value(page, "name") == "包头市指挥群" and "SEC-1" not in page
    assert 'value="commander" id="roles_0" checked' in page
    assert not Channel.objects.exists()


def test_switching_a_channel_off_twice_leaves_it_off(commander: User) -> None:
    channel = channel_add(name="东河区楼长群", kind="webhook", url="https://example.org/hook",
                          area_code=DONGHE, actor=None)
    client = web_client(commander)
    for _ in range(2):  # two commanders tap "switch off" at the same moment
        assert client.post(f"/channels/{channel.pk}/toggle", {"active": "off"}).status_code == 302
    channel.refresh_from_db()
    assert not channel.is_active


def test_mark_all_read_leaves_what_arrived_since_unread(warden: User) -> None:
    first = Notification.objects.create(user=warden, title="第一条", body="")
    client = web_client(warden)
    page = client.get("/inbox/").content.decode()
    assert f'name="up_to" value="{first.pk}"' in page
    later = Notification.objects.create(user=warden, title="之后到达", body="")
    assert client.post("/inbox/read", {"up_to": str(first.pk)}).status_code == 302
    first.refresh_from_db()
    later.refresh_from_db()
    assert first.read_at is not None and later.read_at is None
