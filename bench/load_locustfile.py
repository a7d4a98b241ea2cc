"""The people and devices of `bench/load.py`, as locust users (run headless by that script).

Reads the city's codes, tokens and session cookies from the JSON file named by `LOAD_DATA`, and
the rates from `LOAD_RATES` (JSON: per-second rates of each kind, already multiplied by the
speed-up). Each class's `fixed_count` is set from the data, so the command line's `-u` is their
sum. A request fails on any status but the one expected, and a device batch also fails when any
of its records is not `created`. Status 0 in a failure: no answer within locust's network
timeout (60 s) or the connection refused or reset.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from locust import FastHttpUser, constant_pacing, constant_throughput, task

DATA: dict[str, Any] = json.loads(open(os.environ["LOAD_DATA"], encoding="utf-8").read())  # noqa: SIM115
RATES: dict[str, float] = json.loads(os.environ["LOAD_RATES"])
SHANGHAI = timezone(timedelta(hours=8))
CSRF = "loadtestcsrfsecret0123456789abcd"  # 32 characters: a CSRF secret the browser would hold
#: a connection per request for those who send less often than the server keeps a connection
#: open (gunicorn's keep-alive: 5 s): a device or phone reconnects, and no request races the
#: server closing an idle connection
ONCE = {"Connection": "close"}
_serial = itertools.count()
_lock = threading.Lock()


def _next() -> int:
    with _lock:
        return next(_serial)


def _now() -> str:
    return datetime.now(SHANGHAI).replace(microsecond=0).isoformat()


def _batch_ok(response: Any, sent: int) -> None:
    if response.status_code != 200:
        response.failure(f"status {response.status_code}: {(response.text or '')[:200]}")
        return
    results = response.json().get("results", [])
    bad = [r for r in results if r.get("status") != "created"]
    if len(results) != sent or bad:
        response.failure(f"{len(bad)} of {sent} not created: {str(bad[:2])[:300]}")
    else:
        response.success()


class GateDevice(FastHttpUser):
    """A gate kiosk: scans passes as people go through, sends what it has every interval."""

    fixed_count = len(DATA["gates"])
    wait_time = constant_pacing(RATES["gate_interval"])
    gates = itertools.cycle(DATA["gates"])

    def on_start(self) -> None:
        self.gate = next(GateDevice.gates)
        self.passes = DATA["passes"][self.gate.split("-")[1]]  # load-<compound>-<n>
        self.rng = random.Random(self.gate)
        self.headers = {"Authorization": f"Bearer {DATA['tokens']['gate']}", **ONCE}
        self.per_batch = RATES["gate_records"] * RATES["gate_interval"] / len(DATA["gates"])
        import gevent

        gevent.sleep(self.rng.uniform(0, RATES["gate_interval"]))  # the kiosks' minutes do not start together

    @task
    def send(self) -> None:
        # the batch's size around the mean: the records of that minute at that gate
        whole = int(self.per_batch)
        size = whole + (1 if self.rng.random() < self.per_batch - whole else 0)
        size = max(size, 1)
        at = _now()
        records = []
        for _ in range(size):
            n = _next()
            fever = self.rng.random() < 0.003
            records.append({"client_id": f"{self.gate}-{n:09d}", "gate": self.gate,
                            "direction": "in" if n % 2 else "out", "at": at,
                            "temperature": 38.3 if fever else round(self.rng.uniform(35.9, 37.0), 1),
                            "pass_code": self.rng.choice(self.passes)})
        with self.client.post("/api/v1/gate-checks", json={"records": records}, headers=self.headers,
                              name="API: POST /gate-checks (batch)", catch_response=True) as response:
            _batch_ok(response, len(records))


class CheckpointTablet(FastHttpUser):
    """A checkpoint officer's tablet: sends the inspections of the last interval."""

    fixed_count = int(RATES["vehicle_tablets"])
    wait_time = constant_pacing(RATES["vehicle_interval"])
    number = itertools.count()

    def on_start(self) -> None:
        n = next(CheckpointTablet.number)
        self.checkpoint = DATA["checkpoints"][n % len(DATA["checkpoints"])]
        self.rng = random.Random(f"tablet{n}")
        self.headers = {"Authorization": f"Bearer {DATA['tokens']['checkpoint']}", **ONCE}
        self.per_batch = RATES["vehicle_records"] * RATES["vehicle_interval"] / max(RATES["vehicle_tablets"], 1)
        import gevent

        gevent.sleep(self.rng.uniform(0, RATES["vehicle_interval"]))

    @task
    def send(self) -> None:
        whole = int(self.per_batch)
        size = max(whole + (1 if self.rng.random() < self.per_batch - whole else 0), 1)
        records = []
        for _ in range(size):
            n = _next()
            wuhan = self.rng.random() < 0.01
            plate = (f"鄂A{10000 + n % 200}" if wuhan else self.rng.choice(DATA["plates"]) if n % 3 == 0
                     else f"蒙B{n % 100000:05d}")
            occupants = [{"name": "张三", "phone": f"138{self.rng.randrange(10**8):08d}",
                          "id_number": self.rng.choice(DATA["id_numbers"]) if self.rng.random() < 0.5 else "",
                          "temperature": 38.2 if self.rng.random() < 0.003 else round(self.rng.uniform(35.9, 37.0), 1)}
                         for _ in range(self.rng.randint(1, 3))]
            records.append({"client_id": f"cp-{self.checkpoint}-{n:09d}", "checkpoint": self.checkpoint,
                            "at": _now(), "plate": plate, "vehicle_type": "car",
                            "origin": "武汉市" if wuhan else "包头市",
                            "destination": {"compound": self.rng.choice(DATA["compounds"])},
                            "occupants": occupants, "disposition": "pass"})
        with self.client.post("/api/v1/vehicle-checks", json={"records": records}, headers=self.headers,
                              name="API: POST /vehicle-checks (batch)", catch_response=True) as response:
            _batch_ok(response, len(records))


def _page(user: Any, path: str, name: str, *, expect: int = 200, **kwargs: Any) -> Any:
    with user.client.get(path, name=name, headers=user.headers, catch_response=True, **kwargs) as response:
        if response.status_code != expect:
            response.failure(f"status {response.status_code}")
        return response


class Warden(FastHttpUser):
    """A warden on a phone, logged in: the home page, their follow-ups, a household, the visit
    form; now and then a follow-up closed with a finding."""

    fixed_count = len(DATA["wardens"])
    wait_time = constant_throughput(RATES["warden_actions"] / max(len(DATA["wardens"]), 1))
    pool = iter(DATA["wardens"])

    def on_start(self) -> None:
        self.me = next(Warden.pool)
        self.headers = {"Cookie": f"sessionid={self.me['cookie']}; csrftoken={CSRF}", **ONCE}
        self.rng = random.Random(self.me["username"])
        self.followups = list(self.me["followups"])
        import gevent

        gevent.sleep(self.rng.uniform(0, len(DATA["wardens"]) / max(RATES["warden_actions"], 0.01)))

    @task(4)
    def home(self) -> None:
        _page(self, "/", "warden: home /")

    @task(4)
    def followups_list(self) -> None:
        _page(self, "/followups/", "warden: follow-ups /followups/")

    @task(4)
    def household(self) -> None:
        _page(self, f"/areas/{self.rng.choice(self.me['households'])}/", "warden: household /areas/{code}/")

    @task(4)
    def visit_form(self) -> None:
        _page(self, f"/visits/new/{self.rng.choice(self.me['households'])}/", "warden: visit form /visits/new/{code}/")

    @task(int(RATES["close_weight"]))
    def close(self) -> None:
        if not self.followups:
            self.followups_list()
            return
        pk = self.followups.pop()
        page = _page(self, f"/followups/{pk}/", "warden: follow-up /followups/{pk}/")
        if page.status_code != 200 or not re.search(r'name="finding"', page.text or ""):
            return
        with self.client.post(f"/followups/{pk}/close", name="warden: close follow-up POST /followups/{pk}/close",
                              headers={**self.headers, "Referer": f"{self.host}/followups/{pk}/"},
                              data={"csrfmiddlewaretoken": CSRF, "finding": "已上门核实，无异常", "outcome": "done"},
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")


class Commander(FastHttpUser):
    """A commander watching the dashboard of their area."""

    fixed_count = len(DATA["commanders"])
    wait_time = constant_throughput(RATES["dashboards"] / max(len(DATA["commanders"]), 1))
    pool = itertools.cycle(DATA["commanders"])

    def on_start(self) -> None:
        self.me = next(Commander.pool)
        self.headers = {"Cookie": f"sessionid={self.me['cookie']}; csrftoken={CSRF}", **ONCE}

    @task
    def dashboard(self) -> None:
        _page(self, self.me["dashboard"], "commander: dashboard /dashboard/{area}/")


class LookUps(FastHttpUser):
    """Programs and officers' apps looking things up through the API (a commander's token)."""

    fixed_count = max(int(RATES["lookups"] // 2), 1)
    wait_time = constant_throughput(RATES["lookups"] / max(int(RATES["lookups"] // 2), 1))

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {DATA['tokens']['commander']}"}
        self.rng = random.Random()

    def _get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, headers=self.headers, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}: {(response.text or '')[:200]}")

    @task(3)
    def vehicle(self) -> None:
        self._get(f"/api/v1/vehicles/{self.rng.choice(DATA['plates'])}", "API: GET /vehicles/{plate}")

    @task(1)
    def areas(self) -> None:
        self._get(f"/api/v1/areas?parent={self.rng.choice(DATA['compounds'])}", "API: GET /areas?parent=")

    @task(1)
    def gates(self) -> None:
        self._get(f"/api/v1/gates?compound={self.rng.choice(DATA['compounds'])}", "API: GET /gates?compound=")

    @task(1)
    def stats(self) -> None:
        self._get(f"/api/v1/stats?area={DATA['city']}", "API: GET /stats?area=")


__all__ = ["CheckpointTablet", "Commander", "GateDevice", "LookUps", "Warden"]
