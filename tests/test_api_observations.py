"""Home observation through the API (`/api/v1/observations`): a warden's phone opens an
observation (the person matched, or added once), resends and people already observed are not
observed twice, check-ins with a fever reach the health liaison, and the list shows each role
what it needs — names and ID numbers to the warden, masked ID numbers to the commander, nothing
of another district."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.demo.city import make_id_number
from louzhang.followups.models import FollowUp
from louzhang.observation.models import CheckIn, Observation, Source, Status
from louzhang.observation.services import observation_close, observation_open
from louzhang.registry.models import Resident
from tests.conftest import (
    BAOLI,
    BAOLI_34_2_6W,
    DONGHE,
    FUGUI,
    FUGUI_1,
    ApiClient,
    api_for,
)

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"
#: not in the demo city's registry: born 1988 in 武汉市江岸区
NEWCOMER = make_id_number("420102", date(1988, 5, 6), 17)


def _api(user: User) -> ApiClient:
    api = api_for(user)
    api.headers["Accept-Language"] = "en"
    return api


def _members(household: str = BAOLI_34_2_6W) -> list[Resident]:
    return list(Resident.objects.filter(household__code=household).order_by("id"))


def _household_of(code: str) -> Area:
    """The first household with residents under the area `code` (a building)."""
    return Resident.objects.filter(household__code__startswith=f"{code}-").order_by("id").first().household  # type: ignore[union-attr]


def _record(n: int, person: dict[str, str], household: str = BAOLI_34_2_6W, **fields: Any) -> dict[str, Any]:
    return {"client_id": f"w0417-obs-{n:04d}", "household": household, "person": person,
            "reason": "自武汉返回", "last_exposure": str(timezone.localdate() - timedelta(days=2)),
            **fields}


def _results(api: ApiClient, path: str, records: list[Any]) -> list[dict[str, Any]]:
    response = api.post(path, {"records": records})
    assert response.status_code == 200, response.content
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def _observe(actor: User, resident: Resident, household: Area | None = None) -> Observation:
    observation, new = observation_open(
        actor=actor, household=household or resident.household, resident=resident,
        reason="自武汉返回", last_exposure=timezone.localdate() - timedelta(days=2), source=Source.HEALTH)
    assert new
    return observation


def _check_in(n: int, temperature: float = 36.6, **fields: Any) -> dict[str, Any]:
    return {"client_id": f"ci-{n:04d}", "at": timezone.localtime().replace(microsecond=0).isoformat(),
            "temperature": temperature, "symptoms": [], **fields}


# --- opening ---------------------------------------------------------------------------------

def test_a_warden_opens_an_observation_and_a_resend_is_a_duplicate(warden: User) -> None:
    api = _api(warden)
    member = _members()[0]
    record = _record(1, {"id_number": member.id_number, "name": member.name}, exposure_region="武汉市")
    [result] = _results(api, "/observations", [record])
    assert result["status"] == "created" and result["errors"] == [] and result["added"] is False
    observation = Observation.objects.get(pk=result["id"])
    assert observation.resident == member and observation.household.code == BAOLI_34_2_6W
    assert observation.status == Status.ACTIVE and observation.source == Source.DEVICE
    assert observation.client_id == "w0417-obs-0001" and observation.opened_by == warden
    assert observation.exposure_region == "武汉市"
    assert observation.ends_on == timezone.localdate() - timedelta(days=2) + timedelta(days=14)
    assert observation.gate_mark is not None  # the gates know the household is observed
    [again] = _results(api, "/observations", [record])
    assert again["status"] == "duplicate" and again["id"] == result["id"] and again["note"] == ""
    assert Observation.objects.filter(resident=member).count() == 1


def test_a_person_not_registered_is_added_once_with_the_id_number(warden: User) -> None:
    api = _api(warden)
    person = {"id_number": NEWCOMER, "name": "田新", "phone": "13912345678"}
    [result] = _results(api, "/observations", [_record(1, person, days=21)])
    assert result["status"] == "created" and result["added"] is True
    resident = Resident.objects.get(id_number=NEWCOMER)
    assert resident.household.code == BAOLI_34_2_6W and resident.name == "田新"
    assert Observation.objects.get(pk=result["id"]).days == 21
    # the same person from another device record: matched, not added again, not observed twice
    [again] = _results(api, "/observations", [_record(2, person)])
    assert again["status"] == "duplicate" and again["id"] == result["id"] and again["added"] is False
    assert again["note"]
    assert Resident.objects.filter(id_number=NEWCOMER).count() == 1


def test_a_person_already_under_observation_is_answered_with_that_observation(warden: User, health: User) -> None:
    member = _members()[0]
    opened = _observe(health, member)
    [result] = _results(_api(warden), "/observations", [_record(1, {"id_number": member.id_number})])
    assert result["status"] == "duplicate" and result["id"] == opened.pk and result["errors"] == []
    assert "already under home observation" in result["note"]
    assert Observation.objects.filter(resident=member).count() == 1


def test_a_person_observed_outside_the_wardens_area_is_rejected_without_saying_where(
        warden: User, warden_jy: User) -> None:
    elsewhere = _members(_household_of(FUGUI_1).code)[0]
    _observe(warden_jy, elsewhere)
    [result] = _results(_api(warden), "/observations", [_record(1, {"id_number": elsewhere.id_number})])
    assert result["status"] == "rejected" and result["id"] is None
    assert [e["loc"] for e in result["errors"]] == [["person"]]
    assert FUGUI not in str(result)


def test_name_and_phone_find_the_one_registered_person_in_the_compound(warden: User) -> None:
    # a relative from another household of 保利百合, staying at 34-2-0601
    neighbour = Resident.objects.filter(household__code__startswith=f"{BAOLI}-", phone__gt="").exclude(
        household__code=BAOLI_34_2_6W).order_by("id").first()
    assert neighbour is not None
    [result] = _results(_api(warden), "/observations", [
        _record(1, {"name": neighbour.name, "phone": neighbour.phone})])
    assert result["status"] == "created" and result["added"] is False
    observation = Observation.objects.get(pk=result["id"])
    assert observation.resident == neighbour and observation.household.code == BAOLI_34_2_6W


def test_several_people_with_that_name_and_phone_need_the_id_number(warden: User) -> None:
    neighbour = Resident.objects.filter(household__code__startswith=f"{BAOLI}-", phone__gt="").exclude(
        household__code=BAOLI_34_2_6W).order_by("id").first()
    assert neighbour is not None
    Resident.objects.create(name=neighbour.name, phone=neighbour.phone, household=neighbour.household, id_number=NEWCOMER, gender="M", birth_date=date(1988, 5, 6))
    [result] = _results(_api(warden), "/observations", [
        _record(1, {"name": neighbour.name, "phone": neighbour.phone})])
    assert result["status"] == "rejected"
    assert [e["loc"] for e in result["errors"]] == [["person", "id_number"]]
    assert "2 registered people" in result["errors"][0]["msg"]


def test_bad_records_are_rejected_with_the_field_named_and_the_good_ones_kept(warden: User) -> None:
    member = _members()[0]
    today = timezone.localdate()
    residents = Resident.objects.count()
    results = _results(_api(warden), "/observations", [
        _record(1, {"id_number": member.id_number}),
        _record(2, {"name": "无名氏", "phone": "13700000000"}),  # not registered, no ID number
        _record(3, {"id_number": "123"}),
        _record(4, {"id_number": NEWCOMER, "name": "田新"}, last_exposure=str(today + timedelta(days=1))),
        _record(5, {"id_number": NEWCOMER, "name": "田新"}, last_exposure=str(today - timedelta(days=30))),
        _record(6, {"id_number": NEWCOMER, "name": "田新"}, household=_household_of(FUGUI_1).code),
        _record(7, {"id_number": NEWCOMER, "name": "田新"}, days=90),
        {"client_id": "w0417-obs-0008", "household": BAOLI_34_2_6W},
    ])
    assert [r["status"] for r in results] == ["created"] + ["rejected"] * 7
    assert [[e["loc"] for e in r["errors"]] for r in results[1:7]] == [
        [["person", "id_number"]], [["person", "id_number"]], [["last_exposure"]], [["last_exposure"]],
        [["household"]], [["days"]]]
    assert results[5]["errors"][0]["msg"] == "no household with this code in your area"
    assert {tuple(e["loc"]) for e in results[7]["errors"]} == {("person",), ("reason",), ("last_exposure",)}
    # a person added for a record that was then rejected is not kept
    assert Resident.objects.count() == residents


@pytest.mark.parametrize("role", ["gate", "unit_rep", "checkpoint_officer"])
def test_a_token_of_a_role_that_does_not_observe_is_refused(role: str, request: pytest.FixtureRequest) -> None:
    api = _api(request.getfixturevalue(role))
    response = api.post("/observations", _record(1, {"id_number": _members()[0].id_number}))
    assert response.status_code == 403 and response["Content-Type"].startswith(PROBLEM)
    assert not Observation.objects.filter(client_id="w0417-obs-0001").exists()


# --- check-ins -------------------------------------------------------------------------------

def test_a_fever_at_a_check_in_alerts_and_gives_the_health_liaison_a_follow_up(warden: User, health: User) -> None:
    observation = _observe(warden, _members()[0])
    api = _api(warden)
    path = f"/observations/{observation.pk}/check-ins"
    results = _results(api, path, [_check_in(1, 36.6), _check_in(2, 38.5)])
    assert [r["status"] for r in results] == ["created", "created"]
    assert results[0]["alerts"] == [] and results[0]["followups"] == []
    assert results[1]["alerts"] == ["check_in_fever"]
    [followup_id] = results[1]["followups"]
    followup = FollowUp.objects.get(pk=followup_id)
    assert followup.rule == "check_in_fever" and followup.owner == health
    assert followup.subject_id == str(observation.pk)
    check_in = CheckIn.objects.get(pk=results[1]["id"])
    assert str(check_in.temperature) == "38.5" and check_in.via == CheckIn.Via.DEVICE
    assert check_in.recorded_by == warden
    # sent again: duplicates, stored once, no second follow-up
    again = _results(api, path, [_check_in(1, 36.6), _check_in(2, 38.5)])
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert [r["id"] for r in again] == [r["id"] for r in results] and again[1]["alerts"] == []
    assert observation.check_ins.count() == 2
    assert FollowUp.objects.filter(rule="check_in_fever", subject_id=str(observation.pk)).count() == 1
    observation.refresh_from_db()
    assert observation.last_check_in_at is not None


def test_bad_check_ins_are_rejected_and_the_good_ones_kept(warden: User) -> None:
    observation = _observe(warden, _members()[0])
    future = (timezone.localtime() + timedelta(hours=1)).replace(microsecond=0).isoformat()
    yesterday = (timezone.localtime() - timedelta(days=1)).replace(microsecond=0).isoformat()
    results = _results(_api(warden), f"/observations/{observation.pk}/check-ins", [
        _check_in(1, 36.4, symptoms=["cough"]),
        _check_in(2, 45.0),
        _check_in(3, 36.5, symptoms=["hiccups"]),
        _check_in(4, 36.5, at=future),
        _check_in(5, 36.5, at=yesterday),  # before the observation started
        _check_in(6, 36.5, at="2020-01-28T08:15:00"),
    ])
    assert [r["status"] for r in results] == ["created"] + ["rejected"] * 5
    assert results[0]["alerts"] == ["check_in_fever"]  # a symptom: the health liaison calls
    assert [[e["loc"] for e in r["errors"]] for r in results[1:]] == [
        [["temperature"]], [["symptoms", 0]], [["at"]], [["at"]], [["at"]]]
    assert observation.check_ins.count() == 1


def test_a_check_in_of_a_closed_observation_is_rejected(warden: User, health: User) -> None:
    observation = _observe(warden, _members()[0])
    observation_close(actor=warden, observation=observation, status=Status.HOSPITAL, note="转定点医院")
    [result] = _results(_api(warden), f"/observations/{observation.pk}/check-ins", [_check_in(1)])
    assert result["status"] == "rejected" and result["errors"][0]["loc"] == []


def test_check_ins_of_another_districts_observation_are_404(warden: User, warden_jy: User) -> None:
    theirs = _observe(warden_jy, _members(_household_of(FUGUI_1).code)[0])
    missing = _api(warden).post("/observations/999999999/check-ins", _check_in(1))
    forbidden = _api(warden).post(f"/observations/{theirs.pk}/check-ins", _check_in(1))
    for response in (missing, forbidden):
        assert response.status_code == 404 and response["Content-Type"].startswith(PROBLEM)
    assert missing.json()["detail"] == forbidden.json()["detail"]
    assert not theirs.check_ins.exists()
    # a gate token, in the compound of an observed household: not an observer, refused
    ours = _observe(warden, _members()[0])
    assert _api(User.objects.get(username="gate")).post(
        f"/observations/{ours.pk}/check-ins", _check_in(2)).status_code == 403


# --- the list --------------------------------------------------------------------------------

def _items(api: ApiClient, **params: Any) -> dict[str, Any]:
    response = api.get("/observations", **params)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def test_the_list_shows_the_warden_names_and_id_numbers_and_the_commander_names_only(
        warden: User, commander: User, health: User) -> None:
    member = _members()[0]
    observation = _observe(warden, member)
    for user, id_number in [(warden, member.id_number), (health, member.id_number),
                            (commander, member.id_number[:4] + "*" * 10 + member.id_number[-4:])]:
        body = _items(_api(user), area=BAOLI_34_2_6W)
        assert body["count"] == 1
        [item] = body["items"]
        assert item == {
            "id": observation.pk, "household": BAOLI_34_2_6W,
            "person": {"name": member.name, "phone": member.phone, "id_number": id_number},
            "starts": str(observation.starts_on), "ends": str(observation.ends_on),
            "status": "active", "last_check_in": None, "missed_check_ins": 0,
        }, user.username


def test_the_list_of_another_districts_area_is_404_and_the_whole_list_keeps_to_the_jurisdiction(
        warden: User, warden_jy: User, commander: User) -> None:
    ours = _observe(warden, _members()[0])
    theirs = _observe(warden_jy, _members(_household_of(FUGUI_1).code)[0])
    for area in (FUGUI, FUGUI_1, "150207", "NO-SUCH-AREA"):
        response = _api(warden).get("/observations", area=area)
        assert response.status_code == 404 and response["Content-Type"].startswith(PROBLEM), area
    assert _api(warden_jy).get("/observations", area=BAOLI).status_code == 404
    mine = {item["id"] for item in _items(_api(warden))["items"]}
    assert ours.pk in mine and theirs.pk not in mine
    # a warden asking for the district sees what they hold in it; the commander, everything
    assert ours.pk in {i["id"] for i in _items(_api(warden), area=DONGHE)["items"]}
    everything = {i["id"] for i in _items(_api(commander))["items"]}
    assert {ours.pk, theirs.pk} <= everything


def test_the_list_filters_by_status_and_pages(warden: User, health: User) -> None:
    household = Area.objects.get(code=BAOLI_34_2_6W)
    people = _members()
    while len(people) < 3:
        n = len(people)
        people.append(Resident.objects.create(
            name=f"测试{n}", household=household, gender="F", birth_date=date(1990, 1, 1),
            id_number=make_id_number("150202", date(1990, 1, 1), 500 + n)))
    observations = [_observe(warden, person, household) for person in people[:3]]
    released = observations[0]
    Observation.objects.filter(pk=released.pk).update(ends_on=timezone.localdate())
    released.refresh_from_db()
    assert observation_close(actor=health, observation=released, status=Status.RELEASED)
    api = _api(warden)
    active = _items(api, area=BAOLI_34_2_6W)
    assert active["count"] == 2 and {i["id"] for i in active["items"]} == {o.pk for o in observations[1:]}
    assert [i["id"] for i in _items(api, area=BAOLI_34_2_6W, status="released")["items"]] == [released.pk]
    assert _items(api, area=BAOLI_34_2_6W, status="all")["count"] == 3
    page = _items(api, area=BAOLI_34_2_6W, status="all", limit=2)
    assert page["count"] == 3 and len(page["items"]) == 2
    rest = _items(api, area=BAOLI_34_2_6W, status="all", limit=2, offset=2)
    assert rest["count"] == 3 and len(rest["items"]) == 1
    assert {i["id"] for i in page["items"] + rest["items"]} == {o.pk for o in observations}
    assert api.get("/observations", status="sleeping").status_code == 422
    assert api.get("/observations", limit=501).status_code == 422


def test_the_list_costs_the_same_queries_for_one_observation_or_many(warden: User) -> None:
    household = Area.objects.get(code=BAOLI_34_2_6W)
    people = _members()
    while len(people) < 4:
        n = len(people)
        people.append(Resident.objects.create(
            name=f"测试{n}", household=household, gender="F", birth_date=date(1990, 1, 1),
            id_number=make_id_number("150202", date(1990, 1, 1), 600 + n)))
    api = _api(warden)
    _observe(warden, people[0], household)
    api.get("/observations", area=BAOLI_34_2_6W, limit=2)  # the token's first use is written once
    with CaptureQueriesContext(connection) as one:
        assert _items(api, area=BAOLI_34_2_6W, limit=2)["count"] == 1
    for person in people[1:4]:
        _observe(warden, person, household)
    with CaptureQueriesContext(connection) as many:
        assert _items(api, area=BAOLI_34_2_6W, limit=2)["count"] == 4
    assert len(many) <= len(one) + 1  # + the count of a full page


def test_no_token_is_401() -> None:
    assert ApiClient(None).get("/observations").status_code == 401
    assert ApiClient(None).post("/observations", {}).status_code == 401


def test_the_openapi_document_lists_the_observation_endpoints() -> None:
    paths = ApiClient(None).get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/observations"])
    assert "post" in paths["/api/v1/observations/{observation_id}/check-ins"]
    described = " ".join(paths["/api/v1/observations"]["post"]["description"].split())
    assert "duplicate" in described and "already under home observation" in described
    parameters = {p["name"] for p in paths["/api/v1/observations"]["get"]["parameters"]}
    assert {"area", "status", "limit", "offset"} <= parameters
