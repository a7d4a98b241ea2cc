"""Gate records from devices (`POST /api/v1/gate-checks`): batches, idempotent resends, bad
records rejected with reasons while the rest are kept, devices bound to their compound, and the
fever and home-observation rules firing once and only once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.followups.models import FollowUp
from louzhang.gates.models import GateRecord, HouseholdPass
from louzhang.gates.services import observation_start
from louzhang.notifications.models import Notification
from tests.conftest import BAOLI, BAOLI_34_2_6W, FUGUI, api_for, web_client

pytestmark = pytest.mark.django_db
EAST = f"{BAOLI}-E"
CHECKPOINT = "DLT-CP1"


def _pass(household: str = BAOLI_34_2_6W) -> str:
    return HouseholdPass.objects.get(household__code=household).code


def _record(n: int, **fields: Any) -> dict[str, Any]:
    return {"client_id": f"gate7-{n:06d}", "gate": EAST, "direction": "in",
            "at": timezone.localtime().replace(microsecond=0).isoformat(), "temperature": 36.5,
            "pass_code": _pass(), **fields}


def test_a_batch_keeps_the_good_records_and_says_what_is_wrong_with_the_others(gate: User) -> None:
    api = api_for(gate)
    batch = [
        _record(1),
        _record(2, temperature=95),
        _record(3, gate="NO-SUCH-GATE"),
        _record(4, at="2020-01-28T08:15:00"),
        _record(5, pass_code=None),
        _record(6, pass_code=None, visitor={"name": "王五", "phone": "13812345678",
                                            "id_number": "11010519491231002X", "reason": "探亲"}),
        _record(7, direction="sideways"),
        _record(8, pass_code=None, visitor={"name": "赵六", "id_number": "110105194912310021"}),
    ]
    response = api.post("/gate-checks", {"records": batch})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected",
                                              "rejected", "created", "rejected", "rejected"]
    assert [r["index"] for r in results] == list(range(8))
    locs = {r["index"]: [e["loc"][-1] for e in r["errors"]] for r in results}
    assert locs[1] == ["temperature"] and locs[2] == ["gate"] and locs[3] == ["at"]
    assert locs[4] == ["pass_code"] and locs[6] == ["direction"] and locs[7] == ["id_number"]
    assert "timezone" in results[3]["errors"][0]["msg"]
    assert GateRecord.objects.count() == 2
    visitor = GateRecord.objects.get(client_id="gate7-000006")
    assert visitor.visitor_id_number == "11010519491231002X" and visitor.household is None


def test_resending_a_whole_batch_stores_nothing_twice(gate: User) -> None:
    api = api_for(gate)
    batch = [_record(n) for n in range(1, 51)]
    first = api.post("/gate-checks", {"records": batch}).json()["results"]
    again = api.post("/gate-checks", {"records": batch}).json()["results"]
    assert {r["status"] for r in first} == {"created"}
    assert {r["status"] for r in again} == {"duplicate"}
    assert [r["id"] for r in again] == [r["id"] for r in first]
    assert GateRecord.objects.count() == 50
    twice_in_one = api.post("/gate-checks", {"records": [_record(99), _record(99)]}).json()["results"]
    assert [r["status"] for r in twice_in_one] == ["created", "duplicate"]
    assert twice_in_one[0]["id"] == twice_in_one[1]["id"] is not None


def test_a_gate_device_cannot_post_for_another_compound(gate: User, warden_jy: User) -> None:
    response = api_for(gate).post("/gate-checks", _record(1, gate=f"{FUGUI}-E"))
    [result] = response.json()["results"]
    assert result["status"] == "rejected" and result["errors"][0]["loc"] == ["gate"]
    # and the other compound's warden cannot post at 保利百合's gate either
    [other] = api_for(warden_jy).post("/gate-checks", _record(2)).json()["results"]
    assert other["status"] == "rejected"
    assert not GateRecord.objects.exists()


def test_a_pass_of_another_compound_must_register_as_a_visitor(gate: User) -> None:
    fugui_household = Area.objects.filter(code__startswith=f"{FUGUI}-", level=8).first()
    [result] = api_for(gate).post("/gate-checks", _record(1, pass_code=_pass(fugui_household.code))).json()["results"]
    assert result["status"] == "rejected" and "按访客登记" in result["errors"][0]["msg"]


def test_fever_opens_one_follow_up_for_the_households_warden_and_tells_health(gate: User, warden: User, health: User) -> None:
    api = api_for(gate)
    [hot] = api.post("/gate-checks", _record(1, temperature=38.4)).json()["results"]
    assert hot["status"] == "created" and hot["alerts"] == ["fever"]
    followup = FollowUp.objects.get(kind="fever")
    assert followup.owner == warden and followup.area.code == BAOLI_34_2_6W
    assert "保利百合 东门 38.4 °C 34号楼二单元6楼西户" == followup.summary
    assert Notification.objects.filter(user=health, title__contains="38.4").exists()
    [again] = api.post("/gate-checks", _record(2, temperature=38.6)).json()["results"]
    assert again["alerts"] == ["fever"]  # the rule fired, and the open follow-up took it
    assert FollowUp.objects.filter(kind="fever").count() == 1
    followup.refresh_from_db()
    assert followup.repeats == 1
    [normal] = api.post("/gate-checks", _record(3, temperature=36.6)).json()["results"]
    assert normal["alerts"] == []


def test_a_visitor_with_fever_goes_to_the_compound_with_a_masked_name(gate: User) -> None:
    visitor = {"name": "欧阳娜娜", "phone": "13912345678", "id_number": "11010519491231002X"}
    api_for(gate).post("/gate-checks", _record(1, pass_code=None, visitor=visitor, temperature=37.3))
    followup = FollowUp.objects.get(kind="fever")
    assert followup.area.code == BAOLI and followup.subject_id == "11010519491231002X"
    assert "欧***" in followup.summary and "欧阳娜娜" not in followup.summary


def test_going_out_under_home_observation_is_a_breach(gate: User, warden: User) -> None:
    household = Area.objects.get(code=BAOLI_34_2_6W)
    observation_start(household=household, starts_on=timezone.localdate() - timedelta(days=3),
                      reason="1月20日自武汉返包")
    api = api_for(gate)
    [inward] = api.post("/gate-checks", _record(1, direction="in")).json()["results"]
    assert inward["alerts"] == []
    [outward] = api.post("/gate-checks", _record(2, direction="out")).json()["results"]
    assert outward["alerts"] == ["observation_breach"]
    breach = FollowUp.objects.get(kind="observation_breach")
    assert breach.owner == warden and breach.priority == 2
    other = Area.objects.filter(code__startswith=f"{BAOLI}-34-2-", level=8).exclude(pk=household.pk).first()
    [free] = api.post("/gate-checks", _record(3, direction="out", pass_code=_pass(other.code))).json()["results"]
    assert free["alerts"] == []


def test_one_upload_with_the_same_household_again_and_again_counts_on_one_follow_up(gate: User, warden: User) -> None:
    """A device that was offline uploads a morning: the household under observation went out
    three times and had a fever twice. One breach and one fever follow-up, the repeats counted
    and each written to the history; every record says which rules fired."""
    household = Area.objects.get(code=BAOLI_34_2_6W)
    observation_start(household=household, starts_on=timezone.localdate() - timedelta(days=2))
    at = timezone.localtime().replace(microsecond=0) - timedelta(hours=3)
    records = [
        _record(1, direction="out", at=at.isoformat()),
        _record(2, direction="in", temperature=38.1, at=(at + timedelta(minutes=20)).isoformat()),
        _record(3, direction="out", temperature=38.3, at=(at + timedelta(minutes=40)).isoformat()),
        _record(4, direction="in", at=(at + timedelta(minutes=50)).isoformat()),
        _record(5, direction="out", at=(at + timedelta(minutes=70)).isoformat()),
    ]
    results = api_for(gate).post("/gate-checks", {"records": records}).json()["results"]
    assert [r["alerts"] for r in results] == [
        ["observation_breach"], ["fever"], ["fever", "observation_breach"], [], ["observation_breach"]]
    breach = FollowUp.objects.get(kind="observation_breach")
    fever = FollowUp.objects.get(kind="fever")
    assert (breach.repeats, fever.repeats) == (2, 1)
    assert breach.owner == warden == fever.owner
    assert list(breach.events.values_list("kind", flat=True).order_by("pk")) == ["opened", "repeated", "repeated"]
    # the warden is told once per follow-up, not once per record
    assert Notification.objects.filter(user=warden, about__in=[breach.about, fever.about]).count() == 2
    # the next upload finds them open and counts on them too
    api_for(gate).post("/gate-checks", _record(6, direction="out"))
    breach.refresh_from_db()
    assert breach.repeats == 3 and FollowUp.objects.filter(kind__in=["fever", "observation_breach"]).count() == 2


def test_an_observation_that_ended_is_no_breach(gate: User) -> None:
    household = Area.objects.get(code=BAOLI_34_2_6W)
    observation_start(household=household, starts_on=date(2020, 1, 14))
    [result] = api_for(gate).post("/gate-checks", _record(1, direction="out")).json()["results"]
    assert result["alerts"] == []


def test_devices_find_their_gate_and_checkpoint_codes(gate: User, warden_jy: User, checkpoint_officer: User) -> None:
    mine = api_for(gate).get("/gates", compound=BAOLI).json()["items"]
    assert {(g["code"], g["name"], g["area"]) for g in mine} == {(f"{BAOLI}-E", "东门", BAOLI), (f"{BAOLI}-W", "西门", BAOLI)}
    assert api_for(gate).get("/gates", compound=FUGUI).json()["items"] == []
    assert {g["area"] for g in api_for(warden_jy).get("/gates").json()["items"]} == set()  # holds buildings, not the compound
    checkpoints = api_for(checkpoint_officer).get("/checkpoints").json()["items"]
    assert checkpoints == [{"code": "DLT-CP1", "name": "达拉特旗进城检查站（24小时）", "area": "150621",
                            "road": "210国道进城方向", "round_the_clock": True}]
    assert api_for(gate).get("/checkpoints").json()["items"] == []


def test_more_than_a_thousand_records_is_refused_whole(gate: User) -> None:
    response = api_for(gate).post("/gate-checks", {"records": [_record(n) for n in range(1001)]})
    assert response.status_code == 413 and response["Content-Type"].startswith("application/problem+json")
    assert not GateRecord.objects.exists()


def test_the_gate_page_is_for_the_compounds_own_staff(gate: User, warden: User, warden_jy: User) -> None:
    assert web_client(gate).get(f"/gates/{EAST}/").status_code == 200
    assert web_client(gate).get(f"/gates/{FUGUI}-E/").status_code == 404
    assert web_client(warden_jy).get(f"/gates/{EAST}/").status_code == 404
    # the warden of 保利百合's buildings sees the gate's events, without the recording form
    api_for(gate).post("/gate-checks", _record(1, temperature=38.0))
    seen = web_client(warden).get(f"/gates/{EAST}/").content.decode()
    assert "38.0 °C" in seen and 'name="direction"' not in seen
    assert web_client(warden).post(f"/gates/{EAST}/", {"pass_code": _pass(), "temperature": "36.5",
                                                       "direction": "in"}).status_code == 404
    assert GateRecord.objects.count() == 1
    response = web_client(warden_jy).post(f"/gates/{EAST}/", {"pass_code": _pass(), "temperature": "36.5",
                                                             "direction": "in"})
    assert response.status_code == 404 and GateRecord.objects.count() == 1
    page = web_client(gate).post(f"/gates/{EAST}/", {"pass_code": _pass(), "temperature": "95",
                                                    "direction": "in"}, follow=True).content.decode()
    assert "未登记" in page and GateRecord.objects.count() == 1


def test_a_warden_prints_a_sheet_of_scannable_pass_cards_for_a_building(warden: User, gate: User, warden_jy: User) -> None:
    import re

    from louzhang.audit.models import AuditEvent
    from tests.conftest import BAOLI_34, web_client

    page = web_client(warden).get(f"/areas/{BAOLI_34}/").content.decode()
    assert f"/areas/{BAOLI_34}/passes/" in page
    sheet = web_client(warden).get(f"/areas/{BAOLI_34}/passes/").content.decode()
    codes = re.findall(r'data-pass="([A-Z0-9]+)"', sheet)
    assert len(codes) == Area.objects.filter(code__startswith=f"{BAOLI_34}-", level=8).count() == 24
    assert _pass() in codes and sheet.count("<svg") == 24
    assert "34号楼二单元6楼西户" in sheet
    assert AuditEvent.objects.filter(actor=warden, object_type="gates.householdpass").exists()
    for outsider in (gate, warden_jy):  # gate staff scan passes, they do not print them
        assert web_client(outsider).get(f"/areas/{BAOLI_34}/passes/").status_code == 404



def test_a_pass_code_typed_small_or_spaced_is_the_same_pass(gate: User) -> None:
    code = _pass()
    spaced = f"{code[:4].lower()} {code[4:].lower()}"
    [result] = api_for(gate).post("/gate-checks", _record(1, pass_code=spaced)).json()["results"]
    assert result["status"] == "created"
    assert GateRecord.objects.get(pk=result["id"]).household.code == BAOLI_34_2_6W


def test_today_shows_fevers_and_key_region_vehicles_to_those_who_hold_the_area(
    gate: User, warden: User, warden_jy: User, health: User, commander: User, checkpoint_officer: User,
) -> None:
    from tests.conftest import web_client
    from tests.test_vehicle_checks import _check

    visitor = {"name": "欧阳娜娜", "id_number": "11010519491231002X"}
    api_for(gate).post("/gate-checks", {"records": [
        _record(1, temperature=38.6), _record(2, pass_code=None, visitor=visitor, temperature=38.1),
        _record(3, temperature=36.5)]})
    api_for(checkpoint_officer).post("/vehicle-checks", _check(1, at=timezone.localtime().replace(microsecond=0).isoformat()))
    for viewer in (warden, health, commander):
        page = web_client(viewer).get("/today/").content.decode()
        assert page.count('class="fever-row"') == 2, viewer
        assert "38.6 °C" in page and "36.5 °C" not in page and "鄂A12345" in page
    masked = web_client(gate).get("/today/").content.decode()  # gate staff see names masked
    assert "欧阳娜娜" not in masked and "欧***" in masked
    other = web_client(warden_jy).get("/today/").content.decode()
    assert 'class="fever-row"' not in other and "鄂A12345" not in other


def test_the_commanders_overview_puts_fevers_first_then_silent_gates(gate: User, warden: User, warden_jy: User,
                                                                    commander: User) -> None:
    api_for(gate).post("/gate-checks", {"records": [
        _record(1), _record(2, temperature=38.5), _record(3, gate=f"{BAOLI}-W")]})
    page = web_client(commander).get("/gates/")
    assert page.status_code == 200
    html = page.content.decode()
    rows = [line.split('data-gate="')[1].split('"')[0] for line in html.splitlines() if 'data-gate="' in line]
    east, west = f"{BAOLI}-E", f"{BAOLI}-W"
    assert rows[0] == east  # the fever
    silent = [code for code in rows[1:] if code != west]
    assert silent and rows.index(west) > max(rows.index(code) for code in silent)  # quiet gates next, busy last
    assert f'class="fever" data-gate="{east}"' in html
    # a building's warden sees the gates of their own compound, nobody else's
    mine = web_client(warden).get("/gates/").content.decode()
    assert f'data-gate="{east}"' in mine and f'data-gate="{FUGUI}-E"' not in mine
    other = web_client(warden_jy).get("/gates/").content.decode()
    assert f'data-gate="{east}"' not in other
    # narrowing to an area outside the jurisdiction is "not found"
    assert web_client(warden_jy).get(f"/gates/?area={BAOLI}").status_code == 404


def test_the_gate_page_refreshes_its_counts_and_list_for_those_who_see_the_gate(gate: User, warden_jy: User) -> None:
    live = web_client(gate).get(f"/gates/{EAST}/live")
    assert live.status_code == 200 and "hx-trigger=\"every 15s\"" in live.content.decode()
    api_for(gate).post("/gate-checks", _record(1, temperature=38.1))
    again = web_client(gate).get(f"/gates/{EAST}/live").content.decode()
    assert "38.1 °C" in again
    assert web_client(warden_jy).get(f"/gates/{EAST}/live").status_code == 404


def test_too_many_gates_asks_to_narrow_to_an_area_first(commander: User, monkeypatch: pytest.MonkeyPatch) -> None:
    import louzhang.web.views

    monkeypatch.setattr(louzhang.web.views, "OVERVIEW_LIMIT", 3)
    monkeypatch.setattr("louzhang.gates.selectors.OVERVIEW_LIMIT", 3)
    html = web_client(commander).get("/gates/").content.decode()
    assert "data-gate=" not in html and "?area=" in html
    compound = web_client(commander).get(f"/gates/?area={BAOLI}").content.decode()
    assert f'data-gate="{BAOLI}-E"' in compound and f'data-gate="{FUGUI}-E"' not in compound


def test_a_checkpoint_officer_sees_todays_vehicles_per_checkpoint(checkpoint_officer: User) -> None:
    api_for(checkpoint_officer).post("/vehicle-checks", {
        "client_id": "c-1", "checkpoint": CHECKPOINT, "at": timezone.localtime().isoformat(),
        "plate": "鄂A12345", "origin": "武汉市", "disposition": "refused", "occupants": [{"temperature": 38.0}]})
    html = web_client(checkpoint_officer).get("/gates/").content.decode()
    row = html.split(f'data-checkpoint="{CHECKPOINT}"')[1].split("</tr>")[0]
    assert [cell.split("<")[0] for cell in row.split('class="num">')[1:]] == ["1", "1", "1", "1"]
