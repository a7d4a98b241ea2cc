"""The API under hostile and careless input, as an attacker or a device with a broken clock sends
it: every bad record of a batch is rejected on its own with a reason and the rest of the batch
is kept; control characters are refused wherever text comes in (body, path, query); a body too
large or too deep is a problem document, never a 500; errors do not echo huge inputs back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.checkpoints.models import VehicleInspection
from louzhang.demo.city import make_id_number
from louzhang.disinfection.models import Disinfection
from louzhang.gates.models import GateRecord, HouseholdPass
from louzhang.observation.models import CheckIn, Observation, Source
from louzhang.observation.services import observation_open
from louzhang.registry.models import Resident
from louzhang.screening.models import Visit
from louzhang.tips.models import Tip
from tests.conftest import BAOLI, BAOLI_34_2_6W, FUGUI, ApiClient, api_for

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def _now() -> str:
    return (timezone.localtime() - timedelta(minutes=1)).replace(microsecond=0).isoformat()


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


# --- every batch endpoint, its device and one good record ------------------------------------


def _gate(n: int, **fields: Any) -> dict[str, Any]:
    code = HouseholdPass.objects.get(household__code=BAOLI_34_2_6W).code
    return {"client_id": f"h-gate-{n}", "gate": f"{BAOLI}-E", "direction": "in", "at": _now(),
            "temperature": 36.5, "pass_code": code, **fields}


def _vehicle(n: int, **fields: Any) -> dict[str, Any]:
    return {"client_id": f"h-cp-{n}", "checkpoint": "DLT-CP1", "at": _now(), "plate": f"蒙B{20000 + n}",
            "vehicle_type": "car", "origin": "包头市", "destination": {"compound": BAOLI},
            "occupants": [{"name": "张三", "phone": "13812345678", "temperature": 36.6}],
            "disposition": "pass", **fields}


def _visit(n: int, **fields: Any) -> dict[str, Any]:
    return {"client_id": f"h-visit-{n}", "household": BAOLI_34_2_6W, "at": _now(), "mode": "in_person",
            "people": [], **fields}


def _observation(n: int, **fields: Any) -> dict[str, Any]:
    # a person not in the registry, a different one for each record: a person is observed once
    return {"client_id": f"h-obs-{n}", "household": BAOLI_34_2_6W,
            "person": {"id_number": make_id_number("420102", date(1988, 5, 6), n), "name": f"来客{n}",
                       "phone": "13800000000"},
            "reason": "自武汉返回", "last_exposure": str(timezone.localdate() - timedelta(days=2)), **fields}


def _check_in(n: int, **fields: Any) -> dict[str, Any]:
    return {"client_id": f"h-ci-{n}", "at": _now(), "temperature": 36.6, "symptoms": [], **fields}


def _round(n: int, **fields: Any) -> dict[str, Any]:
    return {"client_id": f"h-dis-{n}", "unit": f"{FUGUI}-3-1", "at": _now(),
            "areas": ["stairwell", "lift"], "agent": "84消毒液", **fields}


def _check_in_path(user: User) -> str:
    resident = Resident.objects.filter(household__code=BAOLI_34_2_6W).order_by("-id").first()
    assert resident is not None
    observation, _new = observation_open(
        actor=user, household=resident.household, resident=resident, reason="自武汉返回",
        last_exposure=timezone.localdate() - timedelta(days=2), source=Source.HEALTH)
    return f"/observations/{observation.pk}/check-ins"


#: endpoint (or a function of the device user giving it), record maker, device fixture, table,
#: and the text fields of a record where a person writes (a path into the record)
BATCHES: dict[str, tuple[Any, Callable[..., dict[str, Any]], str, Any, list[list[Any]]]] = {
    "gate-checks": ("/gate-checks", _gate, "gate", GateRecord, [["gate"]]),
    "vehicle-checks": ("/vehicle-checks", _vehicle, "checkpoint_officer", VehicleInspection,
                       [["origin"], ["plate"], ["occupants", 0, "name"]]),
    "visits": ("/visits", _visit, "warden", Visit, [["note"], ["household"]]),
    "observations": ("/observations", _observation, "warden", Observation,
                     [["reason"], ["person", "name"]]),
    "check-ins": (_check_in_path, _check_in, "warden", CheckIn, [["note"]]),
    "disinfections": ("/disinfections", _round, "warden_jy", Disinfection, [["agent"], ["unit"]]),
}


class Batch:
    def __init__(self, api: ApiClient, path: str, record: Callable[..., dict[str, Any]], model: Any,
                 texts: list[list[Any]]) -> None:
        self.api, self.path, self.record, self.model, self.texts = api, path, record, model, texts

    def post(self, records: list[Any]) -> list[dict[str, Any]]:
        response = self.api.post(self.path, {"records": records})
        assert response.status_code == 200, response.content[:1000]
        results: list[dict[str, Any]] = response.json()["results"]
        assert [r["index"] for r in results] == list(range(len(records)))
        return results


@pytest.fixture(params=list(BATCHES))
def batch(request: pytest.FixtureRequest) -> Batch:
    path, record, device, model, texts = BATCHES[request.param]
    user = request.getfixturevalue(device)
    api = api_for(user)
    api.headers["Accept-Language"] = "en"
    return Batch(api, path(user) if callable(path) else path, record, model, texts)


def _with(record: dict[str, Any], where: list[Any], value: Any) -> dict[str, Any]:
    record = json.loads(json.dumps(record))
    target = record
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = value
    return record


def _assert_one_good_kept(batch: Batch, bad: dict[str, Any] | Any, loc: list[Any] | None) -> None:
    before = batch.model.objects.count()
    results = batch.post([batch.record(1), bad])
    assert results[0]["status"] == "created", results
    assert results[1]["status"] == "rejected" and results[1]["id"] is None, results
    assert results[1]["errors"] and all(e["msg"] for e in results[1]["errors"])
    if loc is not None:
        assert loc in [e["loc"] for e in results[1]["errors"]], results[1]["errors"]
    assert batch.model.objects.count() == before + 1


#: times no device can have meant: year 1, the far end of the calendar with the largest
#: offsets (the UTC value overflows), an epoch integer, before the emergency started
BAD_TIMES = {
    "year one": "0001-01-01T00:00:00+00:00",
    "year one, east of UTC": "0001-01-01T00:00:00+14:00",
    "end of the calendar, west of UTC": "9999-12-31T23:59:59-23:59",
    "end of the calendar": "9999-12-31T23:59:59+00:00",
    "epoch seconds": 1580000000,
    "epoch seconds as text": "1580000000",
    "before the emergency": "2019-06-01T08:00:00+08:00",
    "far past": "1900-01-01T08:00:00+08:00",
}


@pytest.mark.parametrize("when", list(BAD_TIMES))
def test_a_record_with_an_impossible_time_is_rejected_and_the_good_one_kept(batch: Batch, when: str) -> None:
    if batch.path == "/observations":
        bad = batch.record(2, last_exposure=str(BAD_TIMES[when])[:10]) if isinstance(BAD_TIMES[when], str) \
            else batch.record(2, last_exposure=BAD_TIMES[when])
        _assert_one_good_kept(batch, bad, ["last_exposure"])
    else:
        _assert_one_good_kept(batch, batch.record(2, at=BAD_TIMES[when]), ["at"])


CONTROL = {"NUL": "\x00", "bell": "\x07", "escape": "\x1b", "delete": "\x7f", "C1": "\x85"}


@pytest.mark.parametrize("char", list(CONTROL))
def test_a_control_character_in_any_text_rejects_that_record_only(batch: Batch, char: str) -> None:
    good = batch.record(1)
    for n, where in enumerate([["client_id"], *batch.texts], start=2):
        value: Any = good
        for part in where:
            value = value.get(part, "") if isinstance(value, dict) else value[part]
        bad = _with(batch.record(n), where, f"{value}{CONTROL[char]}x")
        if where != ["client_id"]:
            bad["client_id"] = f"{bad['client_id']}-{char}-{n}"
        results = batch.post([batch.record(100 + n), bad])
        assert [r["status"] for r in results] == ["created", "rejected"], (where, results)
        assert where in [e["loc"] for e in results[1]["errors"]], (where, results[1]["errors"])


@pytest.mark.parametrize("junk", [[], 7, "a record", None, {"records": []}, [[[[]]]]])
def test_a_record_that_is_not_an_object_is_rejected_alone(batch: Batch, junk: Any) -> None:
    _assert_one_good_kept(batch, junk, None)


def test_a_deeply_nested_record_is_rejected_alone_and_a_deeply_nested_body_is_a_problem(batch: Batch) -> None:
    good = json.dumps(batch.record(1))
    deep = '{"client_id": "deep", "note": ' + "[" * 500 + "]" * 500 + "}"
    before = batch.model.objects.count()
    response = batch.api.client.post(f"/api/v1{batch.path}", f'{{"records": [{good}, {deep}]}}',
                                     content_type="application/json", headers=batch.api.headers)
    assert response.status_code == 200, response.content[:500]
    assert [r["status"] for r in response.json()["results"]] == ["created", "rejected"]
    assert batch.model.objects.count() == before + 1
    body = '{"records": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = batch.api.client.post(f"/api/v1{batch.path}", body, content_type="application/json",
                                     headers=batch.api.headers)
    assert_problem(response, 400)


def test_a_body_over_the_request_size_is_413(batch: Batch) -> None:
    body = json.dumps({"records": [batch.record(1, padding="x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE)]})
    response = batch.api.client.post(f"/api/v1{batch.path}", body, content_type="application/json",
                                     headers=batch.api.headers)
    body = assert_problem(response, 413)
    assert len(response.content) < 1000


@pytest.mark.parametrize("body", [b"\xff\xfe{", b'{"records": [', b"", b"\x00"])
def test_a_body_that_is_not_json_is_a_400_problem(batch: Batch, body: bytes) -> None:
    response = batch.api.client.post(f"/api/v1{batch.path}", body, content_type="application/json",
                                     headers=batch.api.headers)
    assert response.status_code in {400, 422}
    assert_problem(response, response.status_code)


# --- paths, queries, hosts: refused as problem documents ------------------------------------

NUL_PLACES = [
    "/areas/{nul}", "/areas?parent={nul}", "/residents?q={nul}", "/gates?compound={nul}",
    "/vehicles/{nul}", "/observations?area={nul}", "/on-post?area={nul}", "/tips/{nul}",
    "/areas?{nul}=1",
]


@pytest.mark.parametrize("place", NUL_PLACES)
@pytest.mark.parametrize("char", ["%00", "%1B", "%7F", "%C2%85"])
def test_a_control_character_in_a_path_or_query_is_a_422_problem(commander: User, place: str, char: str) -> None:
    api = api_for(commander)
    response = api.client.get("/api/v1" + place.format(nul=f"150202{char}x"), headers=api.headers)
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"][0] in {"path", "query"}
    assert "control character" in body["errors"][0]["msg"]


@pytest.mark.parametrize("field", ["content", "compound", "building", "place", "plate", "contact_phone"])
def test_a_control_character_in_a_tip_is_a_422_naming_the_field(field: str) -> None:
    tip = {"content": "车库入口有湖北牌照车辆", "compound": BAOLI, "building": "34", "place": "车库",
           "plate": "鄂A12345", "contact_phone": "13812345678"}
    tip[field] = tip[field] + "\x00"
    before = Tip.objects.count()
    body = assert_problem(ApiClient(None).post("/tips", tip), 422)
    assert body["errors"][0]["loc"] == ["body", field]
    assert Tip.objects.count() == before


@pytest.mark.parametrize("content", ["", "   ", "\u200b\u200b", "\u3000\ufeff\u200d"])
def test_a_tip_of_blank_or_invisible_content_is_a_422(content: str) -> None:
    body = assert_problem(ApiClient(None).post("/tips", {"content": content, "compound": BAOLI}), 422)
    assert body["errors"][0]["loc"] == ["body", "content"]


@pytest.mark.parametrize("name", ["", " ", "\u200b", "\u200b\u200c\u2060", "\u3000"])
def test_a_visitor_whose_name_is_blank_or_invisible_is_rejected_alone(gate: User, name: str) -> None:
    api = api_for(gate)
    visitor = {"name": name, "phone": "13812345678", "reason": "送菜"}
    bad = _gate(2, pass_code=None, visitor=visitor)
    _assert_one_good_kept(Batch(api, "/gate-checks", _gate, GateRecord, []), bad, ["visitor", "name"])


@pytest.mark.parametrize("query", [
    "/areas?offset=9223372036854775808", "/areas?offset=99999999999999999999999",
    "/areas?limit=9223372036854775808", "/observations?offset=9223372036854775808",
    "/observations?limit=-1",
])
def test_an_offset_or_limit_past_what_a_database_holds_is_a_422(commander: User, query: str) -> None:
    api = api_for(commander)
    assert_problem(api.client.get("/api/v1" + query, headers=api.headers), 422)


@pytest.mark.parametrize("observation", ["9223372036854775808", "99999999999999999999", "0", "-1"])
def test_an_observation_id_past_what_a_database_holds_is_a_problem(warden: User, observation: str) -> None:
    response = api_for(warden).post(f"/observations/{observation}/check-ins", {"records": []})
    assert response.status_code in {404, 422}
    assert_problem(response, response.status_code)


@pytest.mark.parametrize("path", ["/health", "/areas", "/no-such-endpoint"])
def test_a_bad_host_on_the_api_is_a_400_problem(path: str) -> None:
    response = Client().get(f"/api/v1{path}", HTTP_HOST="evil.example")
    body = assert_problem(response, 400)
    assert "Host" in body["detail"]


def test_a_bad_host_on_a_page_is_not_a_problem_document() -> None:
    response = Client().get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400 and not response["Content-Type"].startswith(PROBLEM)


LONG = "鄂" * 10_000


@pytest.mark.parametrize("where", [
    "/areas/{long}", "/vehicles/{long}", "/no-such-endpoint/{long}", "/tips/{long}",
    "/areas?parent={long}", "/on-post?area={long}", "/observations?area={long}", "/areas?limit={long}",
    "/areas?{long}=1",
])
def test_errors_do_not_echo_a_long_input_back_whole(commander: User, where: str) -> None:
    api = api_for(commander)
    response = api.client.get("/api/v1" + where.format(long=LONG), headers=api.headers)
    assert response.status_code in {200, 404, 422}
    assert len(response.content.decode()) < 2000
    if response.status_code != 200:
        assert_problem(response, response.status_code)


def test_a_long_input_in_a_record_is_not_echoed_back_whole(gate: User, checkpoint_officer: User) -> None:
    for api, path, record in [(api_for(gate), "/gate-checks", _gate(1, gate=LONG, temperature=LONG)),
                              (api_for(checkpoint_officer), "/vehicle-checks", _vehicle(1, plate=LONG))]:
        response = api.post(path, {"records": [record]})
        assert response.status_code == 200
        assert response.json()["results"][0]["status"] == "rejected"
        assert len(response.content.decode()) < 2000


# --- the document: true to the code ----------------------------------------------------------


def _document() -> dict[str, Any]:
    response = ApiClient(None).get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_every_operation_documents_its_errors_as_problem_documents() -> None:
    document = _document()
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"400", "422", "429"}
            if operation.get("security"):
                expected |= {"401", "403", "404"}
            if method == "post":
                expected |= {"413"}
            assert expected <= set(responses), (method, path, sorted(responses))
            for status in expected:
                assert list(responses[status]["content"]) == [PROBLEM], (method, path, status)


def test_every_post_documents_its_body_and_batch_records_name_their_schema() -> None:
    document = _document()
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        if "post" in operations:
            body = operations["post"]["requestBody"]["content"]["application/json"]["schema"]
            assert body, path
    record = {"/api/v1/gate-checks": "GateCheckIn", "/api/v1/vehicle-checks": "VehicleCheckIn",
              "/api/v1/visits": "VisitIn", "/api/v1/observations": "ObservationIn",
              "/api/v1/observations/{observation_id}/check-ins": "CheckInIn",
              "/api/v1/disinfections": "DisinfectionIn"}
    for path, name in record.items():
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body["anyOf"][0] == {"$ref": f"#/components/schemas/{name}"}
        assert "client_id" in schemas[name]["required"]
    assert "name" in schemas["Visitor"]["required"]  # a nested schema of a record is there too


def test_gates_and_checkpoints_answer_as_their_own_schemas_say(gate: User, checkpoint_officer: User) -> None:
    document = _document()
    schemas = document["components"]["schemas"]
    for path, api in (("/gates", api_for(gate)), ("/checkpoints", api_for(checkpoint_officer))):
        ref = document["paths"][f"/api/v1{path}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        schema = schemas[ref["$ref"].rsplit("/", 1)[1]]
        item = schemas[schema["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]]
        [first, *_] = api.get(path).json()["items"]
        assert set(first) == set(item["properties"]) and set(item["required"]) <= set(first), path


def test_two_schemas_under_one_name_cannot_make_a_document() -> None:
    from ninja import Router, Schema

    from louzhang.api.openapi import DocumentedAPI, DuplicateSchemaName

    def router_with(field: str) -> Router:
        router = Router()
        out = type("Items", (Schema,), {"__annotations__": {field: str}})

        @router.get(f"/{field}", response=out)
        def view(request: Any) -> dict[str, str]:
            return {field: ""}

        return router

    api = DocumentedAPI(urls_namespace="duplicate-test")
    api.add_router("/a", router_with("code"))
    api.add_router("/b", router_with("name"))
    with pytest.raises(DuplicateSchemaName, match="Items"):
        api.get_openapi_schema(path_prefix="")
