"""Vehicle inspections from checkpoint devices (`POST /api/v1/vehicle-checks`): the plate's
region, key-region vehicles bound for a compound becoming follow-ups, the registry's answer
("a resident's car"), fever, bad records, idempotent resends, devices bound to their checkpoint."""

from __future__ import annotations

from typing import Any

import pytest

from louzhang.access.holders import compound_owner
from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.checkpoints.models import Checkpoint, VehicleInspection
from louzhang.followups.models import FollowUp
from louzhang.notifications.models import Notification
from louzhang.registry.models import Vehicle
from tests.conftest import BAOLI, api_for

pytestmark = pytest.mark.django_db


def _check(n: int, **fields: Any) -> dict[str, Any]:
    return {"client_id": f"dlt-cp1-{n:06d}", "checkpoint": "DLT-CP1", "at": "2020-01-28T23:40:00+08:00",
            "plate": "鄂A12345", "vehicle_type": "car", "origin": "武汉市",
            "destination": {"compound": BAOLI},
            "occupants": [{"name": "张三", "phone": "13812345678", "id_number": "11010519491231002X",
                           "temperature": 36.6}],
            "disposition": "pass", **fields}


def test_a_wuhan_car_bound_for_a_compound_becomes_a_follow_up_there(checkpoint_officer: User, station_xnb: User) -> None:
    [result] = api_for(checkpoint_officer).post("/vehicle-checks", _check(1)).json()["results"]
    assert result["status"] == "created"
    assert result["plate_region"] == {"province": "湖北省", "city": "武汉市"}
    assert result["key_region"] is True and result["registered_vehicle"] is False
    assert result["alerts"] == ["key_region_vehicle"]
    followup = FollowUp.objects.get(pk=result["followups"][0])
    assert followup.area.code == BAOLI and followup.kind == "key_region_vehicle"
    assert followup.summary.startswith("鄂A12345（武汉市）01-28 23:40 达拉特旗进城检查站（24小时） → 保利百合，1人")
    # a warden of 保利百合 (its lead warden, else the warden of most of its buildings), not the
    # station: tests/test_compound_events.py says which
    assert followup.owner == compound_owner(followup.area).user and followup.owner_role == "warden"
    assert followup.owner != station_xnb
    assert VehicleInspection.objects.get().key_region.name == "武汉市"  # the most specific region


def test_a_residents_car_is_said_so_and_its_history_answers_has_it_left(checkpoint_officer: User) -> None:
    car = Vehicle.objects.get(plate="鄂A5K2B8")
    assert car.left_city_at is None
    [result] = api_for(checkpoint_officer).post("/vehicle-checks", _check(1, plate="鄂A·5K2B8")).json()["results"]
    assert result["registered_vehicle"] is True
    followup = FollowUp.objects.get(pk=result["followups"][0])
    assert followup.summary.endswith("；保利百合居民车辆，2018-03-01起登记")  # before anyone walks there
    car.refresh_from_db()
    assert car.left_city_at is not None and car.left_city_at.isoformat().startswith("2020-01-28T15:40")
    assert car.inspections.count() == 1


def test_no_follow_up_for_a_local_car_a_car_turned_back_or_before_the_window(checkpoint_officer: User) -> None:
    api = api_for(checkpoint_officer)
    results = api.post("/vehicle-checks", {"records": [
        _check(1, plate="蒙B12345", origin="包头市"),
        _check(2, disposition="refused"),
        _check(3, at="2019-12-31T10:00:00+08:00"),
    ]}).json()["results"]
    assert [r["status"] for r in results] == ["created"] * 3
    assert [r["key_region"] for r in results] == [False, True, False]
    assert all(r["followups"] == [] for r in results)
    assert not FollowUp.objects.filter(kind="key_region_vehicle").exists()


def test_bad_records_are_rejected_with_reasons_and_resends_are_duplicates(checkpoint_officer: User) -> None:
    api = api_for(checkpoint_officer)
    batch = [
        _check(1),
        _check(2, plate="蒙BI2345"),
        _check(3, checkpoint="NOPE"),
        _check(4, at="2020-01-28T23:40:00"),
        _check(5, occupants=[{"name": "李四", "temperature": 95}]),
        _check(6, destination={"compound": "no-such-compound"}),
    ]
    results = api.post("/vehicle-checks", {"records": batch}).json()["results"]
    assert [r["status"] for r in results] == ["created"] + ["rejected"] * 5
    assert [results[i]["errors"][0]["loc"][0] for i in range(1, 6)] == [
        "plate", "checkpoint", "at", "occupants", "destination"]
    again = api.post("/vehicle-checks", {"records": batch[:1]}).json()["results"]
    assert again[0]["status"] == "duplicate" and again[0]["id"] == results[0]["id"]
    assert VehicleInspection.objects.count() == 1
    assert FollowUp.objects.filter(kind="key_region_vehicle").count() == 1  # once, not again on the resend


def test_a_device_posts_only_for_its_own_checkpoint(checkpoint_officer: User, gate: User) -> None:
    Checkpoint.objects.create(code="BT-CP9", name="包头东收费站", area=Area.objects.get(code="150202"))
    [other] = api_for(checkpoint_officer).post("/vehicle-checks", _check(1, checkpoint="BT-CP9")).json()["results"]
    assert other["status"] == "rejected" and other["errors"][0]["loc"] == ["checkpoint"]
    [stranger] = api_for(gate).post("/vehicle-checks", _check(2)).json()["results"]
    assert stranger["status"] == "rejected"


def test_a_feverish_traveller_goes_to_the_compound_and_health_is_told(checkpoint_officer: User, health: User,
                                                                      warden: User) -> None:
    hot = [{"name": "王五", "temperature": 38.1}, {"name": "赵六", "temperature": 36.4}]
    [result] = api_for(checkpoint_officer).post(
        "/vehicle-checks", _check(1, plate="蒙B12345", origin="包头市", occupants=hot)).json()["results"]
    assert result["alerts"] == ["fever_at_checkpoint"]
    followup = FollowUp.objects.get(kind="fever")
    assert followup.area.code == BAOLI and "王*" in followup.summary and "王五" not in followup.summary
    # the compound's lead warden owns it, the compound's other wardens are told
    assert followup.owner == warden
    assert Notification.objects.filter(user=health, title__contains="38.1").exists()
    others = Notification.objects.filter(title__contains="38.1", user__grants__role="warden").exclude(user=warden)
    assert others.values("user").distinct().count() >= 4


def test_the_checkpoint_page_is_for_its_officers(checkpoint_officer: User, gate: User) -> None:
    from tests.conftest import web_client

    assert web_client(checkpoint_officer).get("/checkpoints/DLT-CP1/").status_code == 200
    assert web_client(gate).get("/checkpoints/DLT-CP1/").status_code == 404
    response = web_client(gate).post("/checkpoints/DLT-CP1/", {"plate": "鄂A12345", "disposition": "pass"})
    assert response.status_code == 404 and not VehicleInspection.objects.exists()
    page = web_client(checkpoint_officer).post("/checkpoints/DLT-CP1/", {"plate": "鄂AI2345", "disposition": "pass"},
                                               follow=True).content.decode()
    assert "未登记" in page and not VehicleInspection.objects.exists()


def test_a_car_from_a_hubei_city_by_its_stated_origin_is_flagged_but_not_baotous_qingshan(checkpoint_officer: User) -> None:
    api = api_for(checkpoint_officer)
    results = api.post("/vehicle-checks", {"records": [
        _check(1, plate="蒙B12345", origin="湖北省孝感市"),
        _check(2, plate="蒙B12346", origin="包头市青山区"),
    ]}).json()["results"]
    assert [r["key_region"] for r in results] == [True, False]
    assert VehicleInspection.objects.get(plate="蒙B12345").key_region.name == "湖北省"


def test_commanders_keep_their_citys_key_regions(commander: User, checkpoint_officer: User) -> None:
    """包头's command centre adds 温州市 to 包头's list: a 包头 checkpoint flags a 浙C car, the
    checkpoint of 达拉特旗 (鄂尔多斯) does not; tests/test_key_regions.py crosses more cities."""
    from louzhang.checkpoints.models import KeyRegion
    from tests.conftest import web_client

    client = web_client(commander)
    assert "武汉市" in client.get("/key-regions/").content.decode()  # seeded: 湖北省, 武汉市 from 2020-01-01
    bad = client.post("/key-regions/", {"name": "某地", "plate_prefixes": "鄂Q9", "starts_on": "2020-02-01"})
    assert "鄂Q9" in bad.content.decode() and not KeyRegion.objects.filter(name="某地").exists()
    assert client.post("/key-regions/", {"name": "温州市", "plate_prefixes": "浙C", "division_prefixes": "3303",
                                         "starts_on": "2020-02-01", "risk": "high"}).status_code == 302
    wenzhou = KeyRegion.objects.get(name="温州市")
    assert wenzhou.city is not None and wenzhou.city.code == "150200"
    Checkpoint.objects.create(code="BT-CP1", name="包头东出口检查站", area=Area.objects.get(code="150202"))
    [here] = api_for(commander).post("/vehicle-checks", _check(
        1, checkpoint="BT-CP1", plate="浙C12345", origin="", at="2020-02-03T10:00:00+08:00",
        client_id="bt-cp1-1")).json()["results"]
    [there] = api_for(checkpoint_officer).post("/vehicle-checks", _check(
        2, plate="浙C12346", origin="", at="2020-02-03T10:00:00+08:00")).json()["results"]
    assert here["key_region"] is True and there["key_region"] is False
    client.post("/key-regions/", {"end": wenzhou.pk})
    wenzhou.refresh_from_db()
    assert wenzhou.ends_on is not None
    assert web_client(checkpoint_officer).get("/key-regions/").status_code == 404


def test_the_vehicle_look_up_answers_has_it_left_the_city(checkpoint_officer: User, warden: User) -> None:
    before = api_for(warden).get("/vehicles/鄂A5K2B8").json()
    assert before["left_city_at"] is None and before["checkpoint_history"] == []
    api_for(checkpoint_officer).post("/vehicle-checks", _check(1, plate="鄂A5K2B8"))
    after = api_for(warden).get("/vehicles/鄂A5K2B8").json()
    assert after["left_city_at"] == "2020-01-28T15:40:00Z"  # UTC, an offset as API.md asks
    assert after["checkpoint_history"] == [{"at": "2020-01-28T15:40:00Z", "checkpoint": "达拉特旗进城检查站（24小时）",
                                            "origin": "武汉市", "disposition": "pass"}]


def test_only_a_citys_command_centre_changes_key_regions(station_xnb: User, commander: User) -> None:
    from louzhang.checkpoints.models import KeyRegion
    from tests.conftest import web_client

    station = web_client(station_xnb)
    page = station.get("/key-regions/").content.decode()
    assert "武汉市" in page and 'name="starts_on"' not in page  # sees them, cannot change them
    wuhan = KeyRegion.objects.get(name="武汉市")
    assert station.post("/key-regions/", {"end": wuhan.pk}).status_code == 404
    assert station.post("/key-regions/", {"name": "x", "plate_prefixes": "浙C", "starts_on": "2020-02-01"}).status_code == 404
    # the seeded regions are the operator's (every city): not even the city's commander ends them
    assert web_client(commander).post("/key-regions/", {"end": wuhan.pk}).status_code == 404
    assert web_client(commander).post("/key-regions/", {"end": "not-a-number"}).status_code == 302
    wuhan.refresh_from_db()
    assert wuhan.ends_on is None and wuhan.city is None


def test_the_same_car_twice_in_one_batch_keeps_the_latest_sighting(checkpoint_officer: User) -> None:
    api_for(checkpoint_officer).post("/vehicle-checks", {"records": [
        _check(1, plate="鄂A5K2B8", at="2020-01-28T23:40:00+08:00"),
        _check(2, plate="鄂A5K2B8", at="2020-01-27T10:00:00+08:00"),
    ]})
    assert Vehicle.objects.get(plate="鄂A5K2B8").left_city_at.isoformat().startswith("2020-01-28T15:40")
