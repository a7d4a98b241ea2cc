"""Visits (走访) from a warden's phone (`POST /api/v1/visits`): good visits kept beside bad ones
with the person and field named, resends stored once, people not in the registry added once, a
returnee from 武汉市 put under home observation, households outside the warden's buildings and
tokens of other roles refused."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.demo.city import make_id_number
from louzhang.observation.models import Observation, Source, Status
from louzhang.registry.models import Resident
from louzhang.screening.models import Finding, Visit
from tests.conftest import BAOLI_1, BAOLI_34_2_6W, FUGUI_1, ApiClient, api_for

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"
#: not in the demo city's registry: born 1988 in 武汉市江岸区
NEWCOMER = make_id_number("420102", date(1988, 5, 6), 17)


def _api(user: User) -> ApiClient:
    api = api_for(user)
    api.headers["Accept-Language"] = "en"
    return api


def _visit(n: int, household: str = BAOLI_34_2_6W, **fields: Any) -> dict[str, Any]:
    return {"client_id": f"w0417-{n:06d}", "household": household,
            "at": timezone.localtime().replace(microsecond=0).isoformat(), "mode": "in_person",
            "people": [], **fields}


def _sent() -> Any:
    """The visits these tests sent (the demo city has visits of its own)."""
    return Visit.objects.filter(client_id__startswith="w0417-")


def _member(household: str = BAOLI_34_2_6W) -> Resident:
    return Resident.objects.filter(household__code=household).order_by("id").first()  # type: ignore[return-value]


def _results(api: ApiClient, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = api.post("/visits", {"records": records})
    assert response.status_code == 200, response.content
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def _household_of(code: str) -> str:
    """A household under the area `code` (a building)."""
    return Resident.objects.filter(household__code__startswith=f"{code}-").order_by("id").first().household.code  # type: ignore[union-attr]


def test_a_batch_keeps_the_good_visit_and_names_the_bad_persons_field(warden: User) -> None:
    member = _member()
    results = _results(_api(warden), [
        _visit(1, people=[{"id_number": member.id_number, "name": member.name}]),
        _visit(2, people=[{"id_number": "123", "name": "王五"}]),
    ])
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert results[0]["id"] is not None and results[0]["errors"] == []
    assert results[0]["observations"] == [] and results[0]["added"] == []
    assert [e["loc"] for e in results[1]["errors"]] == [["people", 0, "id_number"]]
    assert results[1]["id"] is None
    assert _sent().count() == 1
    visit = Visit.objects.get(pk=results[0]["id"])
    assert visit.client_id == "w0417-000001" and visit.household.code == BAOLI_34_2_6W
    assert [f.resident_id for f in visit.findings.all()] == [member.pk]


def test_a_resend_is_a_duplicate_with_the_same_id_and_nothing_is_stored_twice(warden: User) -> None:
    api = _api(warden)
    member = _member()
    batch = [_visit(1, people=[{"id_number": member.id_number}]), _visit(2, mode="nobody_home")]
    first = _results(api, batch)
    again = _results(api, batch)
    assert [r["status"] for r in first] == ["created", "created"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert [r["id"] for r in again] == [r["id"] for r in first]
    assert _sent().count() == 2
    assert Finding.objects.filter(visit__in=_sent()).count() == 1
    # a repeat inside one batch: the first is stored, the repeat answered with its id
    repeated = _results(api, [_visit(3), _visit(3)])
    assert [r["status"] for r in repeated] == ["created", "duplicate"]
    assert repeated[0]["id"] == repeated[1]["id"]


def test_a_returnee_from_wuhan_is_put_under_home_observation_and_listed(warden: User) -> None:
    member = _member()
    today = timezone.localdate()
    back = today - timedelta(days=3)
    results = _results(_api(warden), [_visit(1, people=[{
        "id_number": member.id_number, "name": member.name,
        "key_region_stay": {"region": "武汉市", "from": str(back - timedelta(days=10)), "to": str(back)},
        "returned_at": str(back), "travel": "K1234"}])])
    assert results[0]["status"] == "created", results
    [observation_id] = results[0]["observations"]
    observation = Observation.objects.get(pk=observation_id)
    assert observation.resident == member and observation.household.code == BAOLI_34_2_6W
    assert observation.status == Status.ACTIVE and observation.source == Source.VISIT
    assert observation.exposure_region == "武汉市" and observation.last_exposure == back
    assert observation.ends_on == back + timedelta(days=14)
    finding = Finding.objects.get(visit_id=results[0]["id"])
    assert finding.observation_id == observation_id and finding.returnee
    # found again at the next visit: the same observation, not a second one
    again = _results(_api(warden), [_visit(2, people=[{
        "id_number": member.id_number, "key_region_stay": {"region": "武汉市"}, "returned_at": str(back)}])])
    assert again[0]["status"] == "created" and again[0]["observations"] == [observation_id]
    assert Observation.objects.filter(resident=member).count() == 1


def test_a_person_not_registered_is_added_once(warden: User) -> None:
    api = _api(warden)
    person = {"id_number": NEWCOMER, "name": "田新", "phone": "13912345678"}
    first = _results(api, [_visit(1, people=[person])])
    assert first[0]["status"] == "created"
    [added] = first[0]["added"]
    resident = Resident.objects.get(id_number=NEWCOMER)
    assert resident.pk == added and resident.household.code == BAOLI_34_2_6W
    assert resident.name == "田新" and resident.residency == Resident.Residency.TEMPORARY
    # sent again (a resend), then found again at another visit: still one resident
    assert _results(api, [_visit(1, people=[person])])[0]["status"] == "duplicate"
    later = _results(api, [_visit(2, people=[person])])
    assert later[0]["status"] == "created" and later[0]["added"] == []
    assert Resident.objects.filter(id_number=NEWCOMER).count() == 1
    assert list(Finding.objects.filter(resident=resident).order_by("id").values_list("added", flat=True)) == [True, False]


def test_a_person_without_id_number_who_is_not_registered_rejects_the_visit_whole(warden: User) -> None:
    residents = Resident.objects.count()
    results = _results(_api(warden), [_visit(1, people=[
        {"id_number": NEWCOMER, "name": "田新"},
        {"name": "无名氏", "phone": "13700000000"},
    ])])
    assert results[0]["status"] == "rejected"
    assert [e["loc"] for e in results[0]["errors"]] == [["people", 1, "id_number"]]
    assert "ID number" in results[0]["errors"][0]["msg"]
    # nothing of it is kept: not the visit, not the first person added
    assert Resident.objects.count() == residents and not _sent().exists()


def test_a_household_outside_the_wardens_buildings_is_rejected(warden: User) -> None:
    results = _results(_api(warden), [
        _visit(1, household=_household_of(FUGUI_1)),  # 九原区: another district
        _visit(2, household=_household_of(BAOLI_1)),  # 保利百合 building 1: another warden's
        _visit(3, household="NO-SUCH-HOUSEHOLD"),
    ])
    assert [r["status"] for r in results] == ["rejected"] * 3
    for result in results:
        assert result["errors"] == [{"loc": ["household"], "msg": "no household with this code in your area"}]
    assert not _sent().exists()


def test_the_city_commander_may_record_a_visit_anywhere(commander: User) -> None:
    results = _results(_api(commander), [_visit(1, household=_household_of(FUGUI_1))])
    assert results[0]["status"] == "created"


@pytest.mark.parametrize("role", ["gate", "health", "unit_rep", "checkpoint_officer"])
def test_a_token_of_another_role_is_refused_whole(role: str, request: pytest.FixtureRequest) -> None:
    response = _api(request.getfixturevalue(role)).post("/visits", {"records": [_visit(1)]})
    assert response.status_code == 403, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert not _sent().exists()


def test_no_token_is_401() -> None:
    response = ApiClient(None).post("/visits", _visit(1))
    assert response.status_code == 401


def test_one_visit_without_records_and_bad_records(warden: User) -> None:
    api = _api(warden)
    single = api.post("/visits", _visit(1, mode="phone"))
    assert single.status_code == 200 and single.json()["results"][0]["status"] == "created"
    results = _results(api, [
        _visit(2, mode="nobody_home", people=[{"id_number": NEWCOMER, "name": "田新"}]),
        _visit(3, mode="by_pigeon"),
        _visit(4, at="2020-01-27T10:20:00"),
        _visit(5, people=[{"id_number": _member().id_number, "symptoms": ["hiccups"]}]),
        "not a visit",
    ])
    assert [r["status"] for r in results] == ["rejected"] * 5
    assert [[e["loc"] for e in r["errors"]] for r in results] == [
        [["people"]], [["mode"]], [["at"]], [["people", 0, "symptoms", 0]], [[]]]


def test_at_most_200_visits_per_request(warden: User) -> None:
    response = _api(warden).post("/visits", {"records": [_visit(n) for n in range(201)]})
    assert response.status_code == 413
    assert "200" in response.json()["detail"]


def test_the_openapi_document_describes_visits() -> None:
    document = ApiClient(None).get("/openapi.json").json()
    operation = document["paths"]["/api/v1/visits"]["post"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/VisitResults")
    result = document["components"]["schemas"]["VisitResultOut"]["properties"]
    assert {"index", "status", "id", "errors", "alerts", "observations", "added"} <= set(result)
    assert "200" in operation["description"]
