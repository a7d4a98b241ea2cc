"""The one pipeline device batches go through (`core.ingest.DeviceBatch`), told through gate
records and vehicle inspections alike: a repeat inside a batch and a resend of a stored batch
are answered `duplicate` with the stored record's id and stored once, bad records cost the batch
nothing else, a batch costs the same queries whatever its size, and devices uploading the same
cars at the same moment in opposite orders do not deadlock."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.checkpoints.models import Occupant, VehicleInspection
from louzhang.checkpoints.services import VehicleChecks
from louzhang.followups.models import FollowUp
from louzhang.gates.models import GateRecord, HouseholdPass
from louzhang.registry.models import Resident, Vehicle
from tests.conftest import BAOLI, BAOLI_34_2_6W, api_for, run_cli, served

pytestmark = pytest.mark.django_db
CHECKPOINT = "DLT-CP1"


def _gate_record(n: int, **fields: Any) -> dict[str, Any]:
    code = HouseholdPass.objects.get(household__code=BAOLI_34_2_6W).code
    return {"client_id": f"gate7-{n:06d}", "gate": f"{BAOLI}-E", "direction": "in",
            "at": timezone.localtime().replace(microsecond=0).isoformat(), "temperature": 36.5,
            "pass_code": code, **fields}


def _vehicle_check(n: int, **fields: Any) -> dict[str, Any]:
    at = timezone.localtime().replace(microsecond=0) - timedelta(minutes=1, seconds=n)
    return {"client_id": f"dlt-cp1-{n:06d}", "checkpoint": CHECKPOINT, "at": at.isoformat(),
            "plate": f"蒙B{10000 + n}", "vehicle_type": "car", "origin": "包头市",
            "destination": {"compound": BAOLI},
            "occupants": [{"name": "张三", "phone": "13812345678", "temperature": 36.6},
                          {"name": "李四", "temperature": 36.4}],
            "disposition": "pass", **fields}


#: (endpoint, a record, the device's fixture, the table the records land in)
KINDS = {
    "gate records": ("/gate-checks", _gate_record, "gate", GateRecord),
    "vehicle inspections": ("/vehicle-checks", _vehicle_check, "checkpoint_officer", VehicleInspection),
}


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> tuple[Any, Callable[..., dict[str, Any]], Any, type[Any]]:
    endpoint, record, device, model = KINDS[request.param]
    return api_for(request.getfixturevalue(device)), record, endpoint, model


def _results(api: Any, endpoint: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = api.post(endpoint, {"records": records})
    assert response.status_code == 200, response.content
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def test_a_repeat_inside_a_batch_is_a_duplicate_of_the_first_with_its_id(kind: Any) -> None:
    api, record, endpoint, model = kind
    results = _results(api, endpoint, [record(1), record(2), record(1), record(1)])
    assert [r["status"] for r in results] == ["created", "created", "duplicate", "duplicate"]
    assert results[2]["id"] == results[3]["id"] == results[0]["id"] is not None
    assert results[2]["errors"] == [] and results[2]["alerts"] == []
    assert model.objects.count() == 2


def test_a_resent_batch_is_all_duplicates_and_stores_nothing(kind: Any) -> None:
    api, record, endpoint, model = kind
    batch = [record(n) for n in range(1, 6)]
    first = _results(api, endpoint, batch)
    occupants = Occupant.objects.count()
    again = _results(api, endpoint, batch[::-1])
    assert {r["status"] for r in again} == {"duplicate"}
    assert [r["id"] for r in again] == [r["id"] for r in first][::-1]
    assert model.objects.count() == 5 and Occupant.objects.count() == occupants


def test_a_batch_keeps_its_valid_records_beside_the_invalid_ones(kind: Any) -> None:
    api, record, endpoint, model = kind
    results = _results(api, endpoint, [
        record(1), record(2, at="2020-01-28T08:15:00"), {"client_id": "x"}, "not a record", record(3),
        record(4, at=(timezone.localtime() + timedelta(hours=1)).isoformat()),
    ])
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected", "created", "rejected"]
    assert [r["index"] for r in results] == list(range(6))
    assert [e["loc"] for e in results[5]["errors"]] == [["at"]]  # from a device whose clock is wrong
    assert all(r["id"] is None and r["errors"] for r in results if r["status"] == "rejected")
    assert model.objects.count() == 2


def test_an_inspection_stores_its_occupants_and_answers_as_api_md_says(checkpoint_officer: User) -> None:
    resident = Resident.objects.filter(household__code__startswith=f"{BAOLI}-").first()
    assert resident is not None
    [result] = _results(api_for(checkpoint_officer), "/vehicle-checks", [_vehicle_check(
        1, plate="鄂A·5K2B8", occupants=[{"name": " 王五 ", "phone": "138 1234 5678", "id_number": resident.id_number,
                                          "temperature": 37}])])
    assert result == {"index": 0, "status": "created", "id": result["id"], "errors": [],
                      "alerts": ["key_region_vehicle"], "plate_region": {"province": "湖北省", "city": "武汉市"},
                      "key_region": True, "registered_vehicle": True, "followups": result["followups"]}
    inspection = VehicleInspection.objects.get(pk=result["id"])
    assert inspection.vehicle == Vehicle.objects.get(plate="鄂A5K2B8") and inspection.key_region is not None
    [occupant] = inspection.occupants.all()
    assert (occupant.name, occupant.phone, occupant.id_number, str(occupant.temperature)) == (
        "王五", "13812345678", resident.id_number, "37.0")
    followup = FollowUp.objects.get(pk=result["followups"][0])
    assert "，1人，来自包头市；" in followup.summary
    assert followup.events.get().detail == {"inspection": inspection.pk}  # the opening event


def test_a_record_a_concurrent_resend_stored_first_is_answered_duplicate_and_written_once(
    checkpoint_officer: User, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two uploads of the same records racing: both find nothing stored, the other one's INSERT
    wins. This one's then answers them `duplicate` with the other's ids and writes no second
    set of occupants."""
    api = api_for(checkpoint_officer)
    batch = [_vehicle_check(1), _vehicle_check(2)]
    first = _results(api, "/vehicle-checks", batch[:1])
    occupants = Occupant.objects.count()
    stored = VehicleChecks._stored
    calls = []

    def stale_at_first(self: VehicleChecks, client_ids: Any) -> dict[str, int]:
        calls.append(client_ids)
        return {} if len(calls) == 1 else stored(self, client_ids)

    monkeypatch.setattr(VehicleChecks, "_stored", stale_at_first)
    results = [r.as_dict() for r in VehicleChecks(checkpoint_officer).ingest(batch)]
    assert [(r["status"], r["id"]) for r in results] == [("duplicate", first[0]["id"]), ("created", results[1]["id"])]
    assert VehicleInspection.objects.count() == 2 and Occupant.objects.count() == occupants + 2


def test_a_cars_last_sighting_moves_only_forward_across_batches(checkpoint_officer: User) -> None:
    api = api_for(checkpoint_officer)
    plate = Vehicle.objects.exclude(plate__startswith="鄂").values_list("plate", flat=True).first()
    _results(api, "/vehicle-checks", [_vehicle_check(1, plate=plate, at="2020-01-28T23:40:00+08:00")])
    _results(api, "/vehicle-checks", [_vehicle_check(2, plate=plate, at="2020-01-27T10:00:00+08:00")])
    assert Vehicle.objects.get(plate=plate).left_city_at.isoformat() == "2020-01-28T15:40:00+00:00"
    _results(api, "/vehicle-checks", [_vehicle_check(3, plate=plate, at="2020-01-29T08:00:00+08:00")])
    assert Vehicle.objects.get(plate=plate).left_city_at.isoformat() == "2020-01-29T00:00:00+00:00"


def _count(action: Callable[[], list[dict[str, Any]]]) -> tuple[CaptureQueriesContext, list[dict[str, Any]]]:
    with CaptureQueriesContext(connection) as captured:
        results = action()
    return captured, results


def test_a_batch_of_twenty_vehicle_checks_costs_the_queries_of_a_batch_of_one(checkpoint_officer: User) -> None:
    """Registered cars (their last sighting updated), two occupants each: still one INSERT of
    the inspections, one of the occupants, one UPDATE of the cars."""
    api = api_for(checkpoint_officer)
    api.get("/checkpoints")  # the token is marked used on its first call
    cars = list(Vehicle.objects.exclude(plate__startswith="鄂").values_list("plate", flat=True)[:20])
    one, small = _count(lambda: _results(api, "/vehicle-checks", [_vehicle_check(0, plate=cars[0])]))
    twenty, large = _count(lambda: _results(api, "/vehicle-checks", [
        _vehicle_check(n, plate=cars[n % len(cars)]) for n in range(1, 21)]))
    assert {(r["status"], r["registered_vehicle"], tuple(r["alerts"])) for r in small + large} == {
        ("created", True, ())}
    assert len(twenty) == len(one), [q["sql"][:120] for q in twenty.captured_queries]
    assert Occupant.objects.filter(inspection__client_id__startswith="dlt-cp1-").count() == 42
    assert Vehicle.objects.filter(plate__in=cars, left_city_at__isnull=False).count() == len(cars)


def test_fevers_in_twenty_cars_read_no_more_than_a_fever_in_one(checkpoint_officer: User) -> None:
    """Each fever opens a follow-up (writes of its own); what the batch reads — the registered
    residents among the occupants, open follow-ups, who answers — is read once."""
    api = api_for(checkpoint_officer)
    api.get("/checkpoints")
    people = list(Resident.objects.filter(household__code__startswith=f"{BAOLI}-")
                  .values_list("id_number", flat=True)[:21])

    def hot(n: int) -> dict[str, Any]:
        return _vehicle_check(n, occupants=[{"name": "王五", "id_number": people[n], "temperature": 38.4}])

    one, small = _count(lambda: _results(api, "/vehicle-checks", [hot(0)]))
    twenty, large = _count(lambda: _results(api, "/vehicle-checks", [hot(n) for n in range(1, 21)]))
    assert [r["alerts"] for r in small + large] == [["fever_at_checkpoint"]] * 21
    assert FollowUp.objects.filter(kind="fever", area__code__startswith=f"{BAOLI}-").count() == 21

    def selects(captured: CaptureQueriesContext) -> int:
        return sum(1 for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT"))

    assert selects(twenty) == selects(one)


def _shell(env: dict[str, str], code: str) -> str:
    result = run_cli(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_devices_uploading_the_same_cars_in_opposite_orders_do_not_deadlock(cli_env: dict[str, str]) -> None:
    """Four checkpoint devices at once through `louzhang serve`, their batches naming the same
    cars in opposite orders — Wuhan cars bound for 保利百合 (a follow-up each, opened by one
    batch and counted on by the others) and, for two of the devices, registered cars (their
    last sighting updated) —: every request succeeds, every inspection is stored once, every
    car has one follow-up, and on PostgreSQL the database broke no deadlock (a deadlock
    `atomic_with_retry` ran again would still be counted in `pg_stat_database`)."""
    for args in (("init",), ("demo",)):
        assert run_cli(cli_env, *args).returncode == 0
    registered = json.loads(_shell(cli_env, (
        "import json; from louzhang.registry.models import Vehicle;"
        "print(json.dumps(list(Vehicle.objects.exclude(plate__startswith='鄂').order_by('plate')"
        ".values_list('plate', flat=True)[:10])))")))
    wuhan = [f"鄂A{20000 + n}" for n in range(60)]
    token = run_cli(cli_env, "token", "create", "checkpoint").stdout.strip()
    postgres = connection.vendor == "postgresql"
    deadlocks = ("from django.db import connection; c = connection.cursor();"
                 "c.execute('SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()');"
                 "print(c.fetchone()[0])")
    before = int(_shell(cli_env, deadlocks)) if postgres else 0
    now = timezone.localtime().replace(microsecond=0)
    devices, batches_each = 4, 3

    def plates(device: int) -> list[str]:
        # a registered car's row stays locked for the rest of the batch's transaction, so
        # batches naming one meet there; devices 2 and 3 name none and meet the others at the
        # follow-ups
        mine = registered + wuhan if device < 2 else wuhan
        return mine if device % 2 else mine[::-1]

    def batch(device: int, n: int) -> list[dict[str, Any]]:
        return [{"client_id": f"d{device}-{n}-{i}", "checkpoint": CHECKPOINT,
                 "at": (now - timedelta(seconds=device * 1000 + n * 100 + i)).isoformat(), "plate": plate,
                 "origin": "武汉市" if plate.startswith("鄂") else "包头市", "destination": {"compound": BAOLI},
                 "occupants": [{"name": "张三", "temperature": 36.5}], "disposition": "pass"}
                for i, plate in enumerate(plates(device))]

    created: list[int] = []
    lock = threading.Lock()
    with served(cli_env, workers=4) as url:
        ready = threading.Barrier(devices)

        def post(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
            request = urllib.request.Request(
                f"{url}/api/v1/vehicle-checks", data=json.dumps({"records": records}).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=120) as response:
                assert response.status == 200
                results: list[dict[str, Any]] = json.loads(response.read())["results"]
                return results

        def upload(device: int) -> None:
            for n in range(3):  # every server process warmed up, so that the uploads meet at once
                post([{"client_id": f"warm-{device}-{n}", "checkpoint": CHECKPOINT, "at": now.isoformat(),
                       "plate": "蒙B00001", "disposition": "refused"}])
            ready.wait()
            for n in range(batches_each):
                results = post(batch(device, n))
                with lock:
                    created.append(sum(r["status"] == "created" for r in results))

        threads = [threading.Thread(target=upload, args=(d,)) for d in range(devices)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    sent = batches_each * sum(len(plates(d)) for d in range(devices))
    assert len(created) == devices * batches_each and sum(created) == sent
    counts = json.loads(_shell(cli_env, (
        "import json; from django.db.models import Sum; from louzhang.checkpoints.models import VehicleInspection;"
        "from louzhang.followups.models import FollowUp; from louzhang.registry.models import Vehicle;"
        "q = FollowUp.objects.filter(kind='key_region_vehicle');"
        "print(json.dumps([VehicleInspection.objects.filter(client_id__startswith='d').count(), q.count(),"
        " q.aggregate(r=Sum('repeats'))['r'],"
        f" Vehicle.objects.filter(plate__in={registered!r}, left_city_at__isnull=False).count()]))")))
    uploads = devices * batches_each
    assert counts == [sent, len(wuhan), (uploads - 1) * len(wuhan), len(registered)]
    if postgres:
        assert int(_shell(cli_env, deadlocks)) == before
