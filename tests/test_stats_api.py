"""`GET /api/v1/stats`: the day's figures of a place, for another system, as `../shared/API.md`
documents them — the same numbers as the dashboard and the 日报 (the daily roll-ups), within
the token user's commander jurisdiction, 404 outside it, problem details for a bad request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.areas.models import Area
from louzhang.stats.figures import API_KEYS, KEYS
from louzhang.stats.rollup import rollup_day
from louzhang.stats.selectors import MAX_DAYS, figures, place_for
from tests.conftest import BAOLI, BAOLI_34_2_6W, BAOTOU, DONGHE, JIUYUAN, ApiClient, api_for

pytestmark = pytest.mark.django_db

DOCUMENTED = ("officers", "officers_on_post", "households", "households_visited", "returnees_found",
              "under_observation", "check_ins_missed", "released", "fevers", "gate_checks",
              "vehicles_checked", "key_region_vehicles", "tips_received", "tips_closed",
              "followups_open", "followups_overdue", "units", "units_disinfected")


def _gate_checks(gate: User, temperatures: list[float]) -> None:
    """Records of 保利百合's east gate, sent as the gate's device sends them."""
    from louzhang.gates.models import HouseholdPass

    code = HouseholdPass.objects.get(household__code=BAOLI_34_2_6W).code
    at = timezone.localtime().replace(microsecond=0) - timedelta(minutes=1)
    records = [{"client_id": f"stats-{n}", "gate": f"{BAOLI}-E", "direction": "in", "at": at.isoformat(),
                "temperature": t, "pass_code": code} for n, t in enumerate(temperatures)]
    answer = api_for(gate).post("/gate-checks", {"records": records})
    assert answer.status_code == 200, answer.content
    assert {r["status"] for r in answer.json()["results"]} == {"created"}


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    return body


def test_the_documented_answer_with_a_day_of_gate_checks_counted(commander: User, gate: User) -> None:
    today = timezone.localdate()
    rollup_day(today)
    api = api_for(commander)
    before = api.get("/stats", area=BAOLI).json()
    _gate_checks(gate, [36.5, 36.6, 38.4])
    rollup_day(today)
    answer = api.get("/stats", area=BAOLI)
    assert answer.status_code == 200
    body = answer.json()
    assert set(DOCUMENTED) == set(API_KEYS)
    assert list(body["figures"]) == list(DOCUMENTED)  # exactly the documented object, in its order
    assert (body["area"], body["date"], body["kind"]) == (BAOLI, today.isoformat(), "area")
    assert body["name"] == Area.objects.get(code=BAOLI).name
    assert body["figures"]["gate_checks"] == before["figures"]["gate_checks"] + 3
    assert body["figures"]["fevers"] == before["figures"]["fevers"] + 1
    assert body["more"]["gate_fevers"] == before["more"]["gate_fevers"] + 1
    assert set(body["figures"]) | set(body["more"]) == set(KEYS)
    assert body["refreshed_at"] is not None and body["series"] is None
    # the district and the city above count the same records
    for code in (DONGHE, BAOTOU):
        assert api.get("/stats", area=code).json()["figures"]["gate_checks"] >= 3
    # the same numbers as the dashboard's selectors
    place = place_for(commander, BAOLI)
    assert body["figures"] == {k: v for k, v in figures(place, today).items() if k in API_KEYS}


def test_a_station_by_unit_or_by_key(station_xnb: User) -> None:
    api = api_for(station_xnb)
    by_unit = api.get("/stats", unit="BT-DH-XNB")
    assert by_unit.status_code == 200
    assert by_unit.json()["area"] == "station:BT-DH-XNB" and by_unit.json()["kind"] == "station"
    assert api.get("/stats", area="station:BT-DH-XNB").json() == by_unit.json()


def test_a_series_of_days_ends_at_the_date(commander: User) -> None:
    today = timezone.localdate()
    rollup_day(today)
    body = api_for(commander).get("/stats", area=DONGHE, days=7).json()
    assert [d["date"] for d in body["series"]] == [(today - timedelta(days=6 - i)).isoformat() for i in range(7)]
    assert body["series"][-1]["figures"] == body["figures"]
    assert body["series"][-1]["more"] == body["more"]


def test_outside_the_jurisdiction_or_not_a_commander_is_not_found(station_xnb: User, warden: User,
                                                                  branch_dh: User) -> None:
    # a station's commander: not the other district, nor the city above
    for code in (JIUYUAN, BAOTOU, "station:BT-JY-SH"):
        _problem(api_for(station_xnb).get("/stats", area=code), 404)
    _problem(api_for(branch_dh).get("/stats", unit="HLBE-YKS-KDE"), 404)
    # a warden commands nothing, even where they work
    _problem(api_for(warden).get("/stats", area=BAOLI), 404)
    # missing is answered alike
    missing = _problem(api_for(branch_dh).get("/stats", area="999999"), 404)
    outside = _problem(api_for(branch_dh).get("/stats", area=JIUYUAN), 404)
    assert missing["detail"] == outside["detail"]
    _problem(ApiClient(None).get("/stats", area=DONGHE), 401)
    _problem(ApiClient("not-a-token").get("/stats", area=DONGHE), 401)


@pytest.mark.parametrize(("params", "where"), [
    ({"area": DONGHE, "date": "2020-02-30"}, ["query", "date"]),
    ({"area": DONGHE, "date": "yesterday"}, ["query", "date"]),
    ({"area": DONGHE, "days": 0}, ["query", "days"]),
    ({"area": DONGHE, "days": MAX_DAYS + 1}, ["query", "days"]),
    ({"area": DONGHE, "unit": "BT-DH-XNB"}, ["query", "unit"]),
    ({}, ["query", "area"]),
])
def test_a_bad_request_says_what_and_where(commander: User, params: dict[str, Any], where: list[str]) -> None:
    body = _problem(api_for(commander).get("/stats", **params), 422)
    assert [e["loc"] for e in body["errors"]] == [where]
    assert all(e["msg"] for e in body["errors"])


def test_a_day_to_come_or_too_long_ago_is_refused(commander: User) -> None:
    today = timezone.localdate()
    api = api_for(commander)
    future = _problem(api.get("/stats", area=DONGHE, date=(today + timedelta(days=1)).isoformat()), 422)
    assert future["errors"][0]["loc"] == ["query", "date"] and "future" in future["errors"][0]["msg"]
    old = today - timedelta(days=MAX_DAYS)
    past = _problem(api.get("/stats", area=DONGHE, date=old.isoformat()), 422)
    assert past["errors"][0]["loc"] == ["query", "date"] and str(MAX_DAYS) in past["errors"][0]["msg"]
    # the earliest day allowed, and today, are answered
    earliest = today - timedelta(days=MAX_DAYS - 1)
    assert api.get("/stats", area=DONGHE, date=earliest.isoformat()).json()["date"] == earliest.isoformat()
    assert api.get("/stats", area=DONGHE, date=today.isoformat()).status_code == 200


def test_the_openapi_document_names_every_figure(commander: User) -> None:
    document = ApiClient(None).get("/openapi.json").json()
    operation = document["paths"]["/api/v1/stats"]["get"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schemas = document["components"]["schemas"]
    answer = schemas[ok]
    assert {"area", "date", "figures"} <= set(answer["required"])
    figures_ref = answer["properties"]["figures"]["$ref"].rsplit("/", 1)[1]
    assert list(schemas[figures_ref]["properties"]) == list(API_KEYS)
    assert all(p.get("description") for p in schemas[figures_ref]["properties"].values())
    more_ref = answer["properties"]["more"]["$ref"].rsplit("/", 1)[1]
    assert set(schemas[more_ref]["properties"]) == set(KEYS) - set(API_KEYS)
    assert {p["name"] for p in operation["parameters"]} == {"area", "unit", "date", "days"}
    for status in ("401", "404", "422"):
        assert "application/problem+json" in operation["responses"][status]["content"]
