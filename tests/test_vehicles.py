"""Residents' cars: import, and the look-up that answers a tip before anyone walks downstairs."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from openpyxl import Workbook

from louzhang.demo.city import make_id_number
from louzhang.registry.importing.vehicles import import_vehicles
from louzhang.registry.models import Resident, Vehicle
from tests.conftest import BAOLI, FUGUI, ApiClient, api_for

pytestmark = pytest.mark.usefixtures("english")


def xlsx(path, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(["保利百合 车辆登记"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def rejects(summary):
    with open(summary.rejects_file, encoding="utf-8-sig", newline="") as handle:
        return {int(r["原行号"]): (r["错误列"], r["错误原因"]) for r in csv.DictReader(handle)}


# --- the look-up ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_wuhan_car_under_building_34_is_a_residents_car(warden):
    """The seed's tip: a grey Buick with Wuhan plates in 保利百合. The warden of building 7 asks."""
    response = api_for(warden).get("/vehicles/鄂A·5K2B8")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["plate"] == "鄂A5K2B8"
    assert body["plate_region"] == {"province": "湖北省", "city": "武汉市"}
    assert body["home_compound"] == {"code": BAOLI, "name": "保利百合"}
    assert body["owner"]["registered_resident"] and body["owner"]["residency"] == "permanent"
    assert body["registered_since"].startswith("2018-")
    assert body["left_city_at"] is None
    owner = Vehicle.objects.get(plate="鄂A5K2B8").owner
    # the owner lives in building 34, one of this warden's buildings: shown in full
    assert body["owner"]["name"] == owner.name and body["owner"]["phone"] == owner.phone


@pytest.mark.django_db
def test_owner_masked_for_gate_staff_and_spellings_accepted(gate):
    owner = Vehicle.objects.get(plate="鄂A5K2B8").owner
    body = api_for(gate).get("/vehicles/鄂a 5k2b8").json()
    assert body["owner"]["name"] == owner.name[0] + "*" * (len(owner.name) - 1)
    assert owner.phone not in body["owner"]["phone"]


@pytest.mark.django_db
def test_other_district_unknown_and_malformed_plates(warden_jy, warden):
    assert api_for(warden_jy).get("/vehicles/鄂A5K2B8").status_code == 404
    client = api_for(warden)
    missing = client.get("/vehicles/京A00000")
    assert missing.status_code == 404 and missing["Content-Type"].startswith("application/problem+json")
    bad = client.get("/vehicles/蒙B1I345")
    assert bad.status_code == 422 and "不使用字母 I 和 O" in bad.json()["detail"]  # Chinese by default
    client.headers["Accept-Language"] = "en"
    assert "I and O" in client.get("/vehicles/蒙B1I345").json()["detail"]
    assert ApiClient(None).get("/vehicles/鄂A5K2B8").status_code == 401


# --- import -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_vehicle_import(tmp_path):
    owner = Resident.objects.filter(household__code__startswith=f"{BAOLI}-34-").first()
    stranger = make_id_number("420106", date(1990, 1, 2), 33)
    path = xlsx(tmp_path / "cars.xlsx", [
        ["序号", "车牌号", "车辆类型", "车主身份证号", "车主姓名", "车主电话", "小区"],
        [1, "蒙B·8K2J9", "小型轿车", owner.id_number, "", "", "保利百合"],
        [2, "蒙b 12345", "SUV", "", "访客王", "13812345678", BAOLI],
        [3, "蒙BI2345", "SUV", owner.id_number, "", "", "保利百合"],
        [4, "蒙B22222", "SUV", stranger, "", "", "保利百合"],
        [5, "蒙B33333", "SUV", "", "", "", "保利百合"],
        [6, "蒙B8K2J9", "小型轿车", owner.id_number, "", "", "保利百合"],
    ])
    summary = import_vehicles(path)
    assert (summary.read, summary.created, summary.rejected) == (6, 2, 4)
    reasons = rejects(summary)
    assert reasons[5][0] == "车牌号" and "I and O" in reasons[5][1]
    assert reasons[6][0] == "车主身份证号" and "not a registered resident" in reasons[6][1]
    assert reasons[7][0] == "车主"
    assert "same 车牌号 as row 3" in reasons[8][1]
    car = Vehicle.objects.get(plate="蒙B8K2J9")
    assert car.owner == owner and car.compound.code == BAOLI
    visitor = Vehicle.objects.get(plate="蒙B12345")
    assert visitor.owner is None and visitor.owner_phone == "13812345678"
    again = import_vehicles(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


@pytest.mark.django_db
def test_warden_imports_cars_of_own_residents_only(tmp_path, warden):
    mine = Resident.objects.filter(household__code__startswith=f"{BAOLI}-34-").first()
    not_mine = Resident.objects.filter(household__code__startswith=f"{BAOLI}-1-").first()
    other_district = Resident.objects.filter(household__code__startswith=f"{FUGUI}-").first()
    path = xlsx(tmp_path / "cars.xlsx", [
        ["车牌号", "车主身份证号", "车主姓名", "小区"],
        ["蒙B70001", mine.id_number, "", "保利百合"],
        ["蒙B70002", not_mine.id_number, "", "保利百合"],
        ["蒙B70003", "", "访客", "保利百合"],
        ["蒙B70004", other_district.id_number, "", "富贵佳园"],
    ])
    summary = import_vehicles(path, actor=warden)
    assert (summary.created, summary.rejected) == (1, 3)
    reasons = rejects(summary)
    assert "not a registered resident of your jurisdiction" in reasons[4][1]
    assert "not wholly yours" in reasons[5][1]
    assert reasons[6][0] == "小区"
    assert list(Vehicle.objects.filter(plate__startswith="蒙B7000").values_list("plate", flat=True)) == ["蒙B70001"]


@pytest.mark.django_db
def test_building_warden_can_correct_a_car_they_registered(tmp_path, warden):
    mine = Resident.objects.filter(household__code__startswith=f"{BAOLI}-34-").first()
    path = xlsx(tmp_path / "c.xlsx", [["车牌号", "车辆类型", "车主身份证号", "小区"], ["蒙B70011", "SUV", mine.id_number, "保利百合"]])
    assert import_vehicles(path, actor=warden).created == 1
    path = xlsx(tmp_path / "c.xlsx", [["车牌号", "车辆类型", "车主身份证号", "小区"], ["蒙B70011", "小型轿车", mine.id_number, "保利百合"]])
    summary = import_vehicles(path, actor=warden)
    assert (summary.updated, summary.rejected) == (1, 0)
    assert Vehicle.objects.get(plate="蒙B70011").vehicle_type == "小型轿车"
