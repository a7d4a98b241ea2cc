"""Cars in the web UI (issue 12): a warden types the plate of the grey Buick from the tip however
it comes (鄂A5K2B8, 鄂a 5k2b8, 鄂A·5K2B8) and lands on the car's page — whose car, since when,
what the checkpoints saw —; a household's page lists its cars and registers a new one."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import translation

from louzhang.accounts.models import User
from louzhang.audit.models import AuditEvent
from louzhang.checkpoints.selectors import vehicle_record
from louzhang.identifiers import IdentifierError
from louzhang.registry.models import Resident, Vehicle
from tests.conftest import BAOLI, api_for, web_client

pytestmark = pytest.mark.django_db

BUICK = "鄂A5K2B8"
BUICK_PAGE = reverse("vehicle", args=[BUICK])


def english(user: User) -> Client:
    client = web_client(user)
    client.cookies["django_language"] = "en"  # chosen with the language switch
    return client


def buick_owner() -> Resident:
    owner = Vehicle.objects.select_related("owner__household").get(plate=BUICK).owner
    assert owner is not None
    return owner


def masked_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1)


def inspect(officer: User, n: int, **fields: Any) -> dict[str, Any]:
    """One inspection at 达拉特旗's checkpoint, posted as its device posts it."""
    record = {"client_id": f"ui-{n:06d}", "checkpoint": "DLT-CP1", "at": "2020-01-28T23:40:00+08:00",
              "plate": BUICK, "vehicle_type": "car", "origin": "武汉市",
              "destination": {"compound": BAOLI},
              "occupants": [{"name": "张三丰", "phone": "13812345678", "temperature": 36.6}],
              "disposition": "pass", **fields}
    [result] = api_for(officer).post("/vehicle-checks", record).json()["results"]
    assert result["status"] == "created", result
    return result


def history(page: str) -> list[int]:
    """The inspections a car's page lists, in its order."""
    import re

    return [int(pk) for pk in re.findall(r'data-inspection="(\d+)"', page)]


# --- search -----------------------------------------------------------------------------------


def test_the_plate_typed_any_way_opens_the_cars_page(warden: User) -> None:
    client = web_client(warden)
    for typed in ("鄂A5K2B8", "鄂a 5k2b8", "鄂A·5K2B8"):
        response = client.get("/search/", {"q": typed})
        assert response.status_code == 302, typed
        assert unquote(response["Location"]) == f"/vehicles/{BUICK}/"
    page = client.get(BUICK_PAGE)
    assert page.status_code == 200
    text = page.content.decode()
    owner = buick_owner()
    assert 'data-plate-region>湖北省 武汉市<' in text
    assert "灰色别克轿车" in text and "保利百合" in text and "2018-03-01" in text
    # 郝志东 holds building 34, where the owner lives: name, phone and the flat in full
    assert owner.name in text and owner.phone in text
    assert reverse("area", args=[owner.household.code]) in text
    # another spelling of the address is the same page
    assert unquote(client.get("/vehicles/鄂a 5k2b8/")["Location"]) == f"/vehicles/{BUICK}/"


def test_residents_are_still_found_and_a_near_plate_says_why_it_is_not_one(warden: User) -> None:
    owner = buick_owner()
    page = web_client(warden).get("/search/", {"q": owner.id_number}).content.decode()
    assert owner.household.code in page and owner.id_number in page
    with translation.override("zh-hans"):
        near = web_client(warden).get("/search/", {"q": "鄂A5K2B"})
    assert near.status_code == 200
    assert "data-not-a-plate" in near.content.decode() and "车牌号 鄂A5K2B 太短" in near.content.decode()


def test_a_warden_of_another_district_finds_no_such_car(warden_jy: User, warden: User) -> None:
    client = english(warden_jy)
    assert client.get(BUICK_PAGE).status_code == 404
    response = client.get("/search/", {"q": "鄂a·5k2b8"})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-plate="{BUICK}" data-vehicle-missing' in page
    assert f"No vehicle {BUICK} is registered in your jurisdiction" in page
    assert "The plate was issued in 湖北省 武汉市." in page
    assert buick_owner().name not in page and "灰色别克轿车" not in page
    # a plate nobody registered, and no plate at all: the same 404 as a car one may not see
    assert web_client(warden).get(reverse("vehicle", args=["京A00000"])).status_code == 404
    assert web_client(warden).get("/vehicles/鄂A5K2B/").status_code == 404


# --- the car's page ---------------------------------------------------------------------------


def test_the_owner_is_masked_for_roles_that_do_not_need_them(gate: User, commander: User) -> None:
    owner = buick_owner()
    gate_page = web_client(gate).get(BUICK_PAGE).content.decode()
    assert f'data-field="owner_name">{masked_name(owner.name)}' in gate_page
    assert owner.name not in gate_page and owner.phone not in gate_page
    # a commander follows things up by phone: name and phone in full (and audited)
    commander_page = web_client(commander).get(BUICK_PAGE).content.decode()
    assert owner.name in commander_page and owner.phone in commander_page
    assert AuditEvent.objects.filter(actor=commander, object_type="registry.resident",
                                     detail__ids=[str(owner.pk)]).exists()


def test_a_warden_of_another_building_of_the_compound_sees_the_car_not_the_owner() -> None:
    """warden01 holds 保利百合 buildings 1–6: the car of building 34 is on the way, its owner not."""
    owner = buick_owner()
    page = web_client(User.objects.get(username="warden01")).get(BUICK_PAGE).content.decode()
    assert "灰色别克轿车" in page and masked_name(owner.name) in page
    assert owner.name not in page and owner.phone not in page
    assert reverse("area", args=[owner.household.code]) not in page  # not which flat either


def test_history_is_newest_first_without_the_occupants(warden: User, checkpoint_officer: User) -> None:
    earlier = inspect(checkpoint_officer, 1, at="2020-01-26T08:15:00+08:00", disposition="refused")
    later = inspect(checkpoint_officer, 2, at="2020-01-28T23:40:00+08:00")
    first_of_all = inspect(checkpoint_officer, 3, at="2020-01-21T10:00:00+08:00", origin="孝感市")
    page = web_client(warden).get(BUICK_PAGE).content.decode()
    assert history(page) == [later["id"], earlier["id"], first_of_all["id"]]
    assert "2020-01-28 23:40" in page and "2020-01-21 10:00" in page  # Asia/Shanghai, as typed
    assert "达拉特旗进城检查站" in page and "孝感市" in page and "劝返" in page
    assert page.count('data-key-region="1"') == 3  # 鄂A: Wuhan, a key region from January 2020
    assert "张三丰" not in page and "13812345678" not in page and "张*" not in page
    # the checkpoint's officer sees what was recorded at the checkpoint, not the registration
    officer_page = web_client(checkpoint_officer).get(BUICK_PAGE).content.decode()
    assert history(officer_page) == [later["id"], earlier["id"], first_of_all["id"]]
    assert "data-unregistered" in officer_page
    assert "data-registration" not in officer_page and 'data-field="owner_name"' not in officer_page


def test_an_unregistered_plate_is_seen_where_it_was_bound_for(warden: User, warden_jy: User,
                                                              checkpoint_officer: User) -> None:
    inspected = inspect(checkpoint_officer, 1, plate="鄂A12345")
    client = web_client(warden)
    response = client.get("/search/", {"q": "鄂a 12345"})
    assert unquote(response["Location"]) == "/vehicles/鄂A12345/"
    page = client.get(response["Location"]).content.decode()
    assert history(page) == [inspected["id"]] and "data-unregistered" in page
    assert web_client(warden_jy).get("/vehicles/鄂A12345/").status_code == 404
    assert 'data-vehicle-missing' in web_client(warden_jy).get("/search/", {"q": "鄂A12345"}).content.decode()


# --- the selector the tips use ----------------------------------------------------------------


def test_vehicle_record_answers_in_one_truthful_sentence(warden: User, warden_jy: User,
                                                         checkpoint_officer: User) -> None:
    owner = buick_owner()
    with translation.override("en"):
        record = vehicle_record(warden, "鄂a·5k2b8")
    assert record.plate.city == "武汉市" and record.view is not None
    assert record.inspections == [] and record.last_seen is None
    assert record.summary == ("Registered vehicle of 保利百合; the owner is a permanent resident of 保利百合; "
                              "no checkpoint has recorded it out of the city since it was registered "
                              "in March 2018.")
    inspect(checkpoint_officer, 1)  # (a request: it leaves its own language active)
    with translation.override("en"):
        record = vehicle_record(warden, BUICK)
        seen_only = vehicle_record(checkpoint_officer, BUICK)
    assert record.last_seen is not None and record.last_seen.plate == BUICK
    assert record.summary == ("Registered vehicle of 保利百合; the owner is a permanent resident of 保利百合; "
                              "registered in March 2018, last recorded outside the city on "
                              "Jan. 28, 2020; latest checkpoint record: 2020-01-28 23:40 "
                              "达拉特旗进城检查站（24小时）, coming from 武汉市, bound for 保利百合, let through.")
    assert owner.name not in record.summary and owner.phone not in record.summary
    assert seen_only.view is None and seen_only.summary.startswith(
        "Not registered in your jurisdiction; latest checkpoint record: 2020-01-28 23:40")
    with pytest.raises(Http404):
        vehicle_record(warden_jy, BUICK)
    with pytest.raises(Http404):
        vehicle_record(warden, "京A00000")
    with pytest.raises(IdentifierError):
        vehicle_record(warden, "蒙BI2345")


def test_vehicle_record_reads_little(warden: User, checkpoint_officer: User,
                                     django_assert_num_queries: Any) -> None:
    for n in range(3):
        inspect(checkpoint_officer, n, at=f"2020-01-2{n}T10:00:00+08:00")
    fresh = User.objects.get(pk=warden.pk)
    # the car (owner, household and its ancestors joined), the user's grants, the owner's full
    # view audited, the inspections (checkpoint, destination and key region joined)
    with django_assert_num_queries(4):
        record = vehicle_record(fresh, BUICK)
        assert [i.checkpoint.name for i in record.inspections] == ["达拉特旗进城检查站（24小时）"] * 3
        assert record.inspections[0].destination.name == "保利百合"
        assert record.inspections[0].key_region.name


# --- the household's page ---------------------------------------------------------------------


def test_the_household_page_lists_its_cars(warden: User, gate: User) -> None:
    owner = buick_owner()
    household = reverse("area", args=[owner.household.code])
    page = web_client(warden).get(household).content.decode()
    assert f'data-vehicle="{BUICK}"' in page and f'href="{BUICK_PAGE}"' in page and "灰色别克轿车" in page
    assert f'data-field="owner_name">{owner.name}<' in page
    assert 'id="register-vehicle"' in page  # its warden registers cars here
    gate_page = web_client(gate).get(household).content.decode()
    assert f'data-field="owner_name">{masked_name(owner.name)}<' in gate_page and owner.name not in gate_page
    assert 'id="register-vehicle"' not in gate_page
    # a household without a car says so
    other = Resident.objects.filter(household__code__startswith=f"{BAOLI}-34-", vehicles__isnull=True) \
        .exclude(household=owner.household).exclude(household__residents__vehicles__isnull=False).first()
    empty = web_client(warden).get(reverse("area", args=[other.household.code])).content.decode()
    assert 'data-vehicle="' not in empty


def _register_url(household_code: str) -> str:
    return reverse("vehicle-register", args=[household_code])


def test_a_warden_registers_a_car_found_in_the_compound(warden: User) -> None:
    owner = Resident.objects.filter(household__code__startswith=f"{BAOLI}-35-").first()
    assert not Vehicle.objects.filter(plate="蒙B7Z9X3").exists()
    client = english(warden)
    response = client.post(_register_url(owner.household.code), {
        "plate": "蒙b·7z9x3", "vehicle_type": "白色面包车", "owner": owner.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("area", args=[owner.household.code]) + "#vehicles"
    car = Vehicle.objects.select_related("compound").get(plate="蒙B7Z9X3")
    assert car.owner == owner and car.compound.code == BAOLI and car.vehicle_type == "白色面包车"
    event = AuditEvent.objects.get(action="create", object_type="registry.vehicle", object_id=str(car.pk))
    assert event.actor == warden and event.area_path == owner.household.path
    page = client.get(response["Location"]).content.decode()
    assert 'data-vehicle="蒙B7Z9X3"' in page
    assert f"蒙B7Z9X3 is registered, owned by {owner.name}." in page  # what was done, and only that
    # the car's page answers at once
    assert client.get(reverse("vehicle", args=["蒙B7Z9X3"])).status_code == 200


def test_a_taken_or_malformed_plate_comes_back_with_what_was_typed(warden: User) -> None:
    owner = Resident.objects.filter(household__code__startswith=f"{BAOLI}-35-").first()
    before = Vehicle.objects.count()
    events = AuditEvent.objects.filter(object_type="registry.vehicle").count()
    client = english(warden)
    taken = client.post(_register_url(owner.household.code),
                        {"plate": "鄂A·5K2B8", "vehicle_type": "别克", "owner": owner.pk})
    assert taken.status_code == 422
    page = taken.content.decode()
    assert 'value="鄂A·5K2B8"' in page and 'value="别克"' in page
    assert f"{BUICK} is registered already, in 保利百合." in page  # this warden may see that car
    with translation.override("zh-hans"):
        bad = web_client(warden).post(_register_url(owner.household.code),
                                      {"plate": "蒙BI2345", "vehicle_type": "", "owner": owner.pk})
    assert bad.status_code == 422
    page = bad.content.decode()
    assert 'value="蒙BI2345"' in page and "车牌不使用字母 I 和 O" in page
    assert f'<option value="{owner.pk}" selected>' in page
    assert Vehicle.objects.count() == before
    assert AuditEvent.objects.filter(object_type="registry.vehicle").count() == events


def test_a_taken_plate_names_no_compound_the_warden_may_not_see(warden_jy: User) -> None:
    owner = Resident.objects.filter(household__code__startswith="150207001001001-1-").first()
    response = english(warden_jy).post(_register_url(owner.household.code),
                                       {"plate": BUICK, "vehicle_type": "", "owner": owner.pk})
    assert response.status_code == 422
    page = response.content.decode()
    assert f"{BUICK} is registered already (outside your jurisdiction)." in page and "保利百合" not in page


def test_only_the_households_wardens_and_commanders_register(gate: User, warden_jy: User) -> None:
    owner = Resident.objects.filter(household__code__startswith=f"{BAOLI}-35-").first()
    form = {"plate": "蒙B7Z9X3", "vehicle_type": "", "owner": owner.pk}
    assert web_client(gate).post(_register_url(owner.household.code), form).status_code == 404
    assert web_client(warden_jy).post(_register_url(owner.household.code), form).status_code == 404
    assert web_client(gate).get(_register_url(owner.household.code)).status_code == 405
    assert not Vehicle.objects.filter(plate="蒙B7Z9X3").exists()


def test_the_household_page_reads_its_cars_in_one_query_however_many(warden: User) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = buick_owner()
    client = web_client(warden)
    path = reverse("area", args=[owner.household.code])
    client.get(path)
    with CaptureQueriesContext(connection) as one:
        client.get(path)
    for plate in ("蒙B7Z9X3", "蒙B7Z9X4", "蒙B7Z9X5"):
        Vehicle.objects.create(plate=plate, owner=owner, compound=Vehicle.objects.get(plate=BUICK).compound)
    with CaptureQueriesContext(connection) as four:
        page = client.get(path).content.decode()
    assert page.count('data-vehicle="') == 4
    assert len(four) == len(one)
    assert sum('"registry_vehicle"' in q["sql"] for q in four.captured_queries) == 1
