"""Device records through the API, beside a raw batched insert of the same rows.

    .venv/bin/python bench/ingest.py                                   # gate records, SQLite
    .venv/bin/python bench/ingest.py --database-url postgres://postgres@127.0.0.1:5432/lz_bench
    .venv/bin/python bench/ingest.py --kind vehicle [--key-region-rate 0]   # vehicle inspections

Starts `louzhang serve` on a fresh database with the demo city, then:

1. posts N records from several concurrent clients in batches of 500 — gate records to
   `POST /api/v1/gate-checks` (the fever and home-observation rules evaluated: 0.5 % fevers,
   some households under observation), or with `--kind vehicle` inspections at 达拉特旗 to
   `POST /api/v1/vehicle-checks` (one to three occupants each; a third of the cars registered
   residents' cars; 0.5 % with a feverish occupant, 1 % from Wuhan bound for a compound, drawn
   from 200 plates, so the key-region rule opens follow-ups and counts repeats) — every record
   validated, stored once by client_id;
2. inserts the same rows into the same table (gate records; inspections, without their
   occupants) with plain batched INSERTs of 500 (executemany, multi-row VALUES, on PostgreSQL
   unnested arrays; a transaction each), from one connection and from as many at once as there
   were clients — the fastest of them is the baseline;
3. times single-record posts from 50 concurrent clients (p50/p99 ms).

Prints the rates, their ratio (target: the API at ≥ 1/3 of raw), and the latencies.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Kind:
    """What differs between the kinds of device records: where they are posted, what one looks
    like, and the table and row a raw insert writes for it."""

    user: str
    endpoint: str
    record: Callable[[str, int], dict[str, Any]]
    model: Any
    columns: list[str]
    #: the raw table's row for the record `n` of a batch, given its client_id
    raw_row: Callable[[str, int], tuple[object, ...]]
    #: a line on what the rules found, after the API run
    findings: Callable[[], str]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--server-workers", type=int, default=4)
    parser.add_argument("--latency-requests", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--observed-households", type=int, default=40,
                        help="households under home observation among the gate's 864")
    parser.add_argument("--fever-rate", type=float, default=0.005,
                        help="share of records with a fever (vehicles: one feverish occupant)")
    parser.add_argument("--kind", choices=["gate", "vehicle"], default="gate")
    parser.add_argument("--key-region-rate", type=float, default=0.01,
                        help="vehicles: share of cars from Wuhan let through towards a compound")
    args = parser.parse_args()
    var = fresh_database(args.database_url, "lz-ingest-")
    import httpx
    from django.db import connection

    from louzhang.accounts.models import User
    from louzhang.accounts.services import token_create
    from louzhang.demo.services import demo_load

    demo_load()
    kind = _gate_kind(args) if args.kind == "gate" else _vehicle_kind(args)
    device_user = User.objects.get(username=kind.user)
    _, token = token_create(user=device_user, name="bench")
    record = kind.record

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LOUZHANG_VAR_DIR": str(var), "LOUZHANG_API_RATE_USER": "100000000/m"}
    connection.close()
    server = subprocess.Popen([sys.executable, "-m", "louzhang", "serve", "--port", str(port),
                               "--workers", str(args.server_workers), "--threads", "4"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=(var / "serve.log").open("w"))  # server errors kept for reading
    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(100):
            try:
                httpx.get(base + "/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        print(f"kind: {args.kind}  database: {connection.vendor}  records: {args.records:,}  "
              f"clients: {args.clients}  server workers: {args.server_workers}")

        batches = [[record("api", n) for n in range(start, min(start + 500, args.records))]
                   for start in range(0, args.records, 500)]
        queue = list(batches)
        lock = threading.Lock()
        created = [0]
        problems: list[dict] = []

        def post_batches() -> None:
            with httpx.Client(timeout=120, headers=headers) as client:
                while True:
                    with lock:
                        if not queue:
                            return
                        batch = queue.pop()
                    response = client.post(base + kind.endpoint, json={"records": batch})
                    response.raise_for_status()
                    results = response.json()["results"]
                    ok = sum(1 for r in results if r["status"] == "created")
                    with lock:
                        created[0] += ok
                        problems.extend(r for r in results if r["status"] != "created")

        t = time.perf_counter()
        threads = [threading.Thread(target=post_batches) for _ in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        api_rate = args.records / (time.perf_counter() - t)
        assert created[0] == args.records, f"{created[0]} of {args.records} created: {problems[:3]}"
        print(f"API, batches of 500 (rules evaluated; {kind.findings()}): {api_rate:>9,.0f} records/s")

        model, columns = kind.model, kind.columns
        table = connection.ops.quote_name(model._meta.db_table)
        rows = [kind.raw_row("raw", n) for n in range(args.records)]
        # plain batched INSERTs of 500 rows, one transaction each, in the forms a programmer
        # would write by hand — executemany, one multi-row VALUES, and on PostgreSQL arrays
        # unnested (what the API itself uses there) — from one connection and from as many as
        # the API had clients; the fastest of them all is the baseline
        from django.db import connections, transaction

        marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
        names = ", ".join(columns)

        def executemany(cursor: Any, chunk: list[tuple[object, ...]]) -> None:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES {marks}", chunk)  # noqa: S608

        def values(cursor: Any, chunk: list[tuple[object, ...]]) -> None:
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES {', '.join([marks] * len(chunk))}",  # noqa: S608
                           [value for row in chunk for value in row])

        def unnest(cursor: Any, chunk: list[tuple[object, ...]]) -> None:
            fields = {f.attname: f for f in model._meta.concrete_fields}
            arrays = ", ".join(f"%s::{fields[c].db_type(connection)}[]" for c in columns)
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})",  # noqa: S608
                           [list(column) for column in zip(*chunk, strict=True)])

        forms = {"executemany": executemany, "multi-row VALUES": values}
        if connection.vendor == "postgresql":
            forms["unnest arrays"] = unnest

        def insert_chunks(form: Any, chunks: list[list[tuple[object, ...]]]) -> None:
            try:
                while True:
                    with lock:
                        if not chunks:
                            return
                        chunk = chunks.pop()
                    with transaction.atomic(), connection.cursor() as cursor:
                        form(cursor, chunk)
            finally:
                connections.close_all()

        connection.close()
        raw_rates = {}
        for number, (label, form) in enumerate(forms.items()):
            for conns in (1, args.clients):
                prefix = f"raw{number}{conns}-"
                at = columns.index("client_id")
                rows_here = [(*r[:at], prefix + r[at][4:], *r[at + 1:]) for r in rows]
                chunks = [rows_here[start:start + 500] for start in range(0, len(rows_here), 500)]
                t = time.perf_counter()
                threads = [threading.Thread(target=insert_chunks, args=(form, chunks)) for _ in range(conns)]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                raw_rates[label, conns] = len(rows) / (time.perf_counter() - t)
                assert model.objects.filter(client_id__startswith=prefix).count() == len(rows)
                connection.close()
                print(f"raw {label}, batches of 500, {conns} conn.: {raw_rates[label, conns]:>9,.0f} records/s")
        raw_rate = max(raw_rates.values())
        print(f"ratio API / raw:                                {api_rate / raw_rate:>9.2f}  (target ≥ 0.33)")
        connection.close()

        samples: list[float] = []
        counter = iter(range(10**9))

        def single() -> None:
            with httpx.Client(timeout=60, headers=headers) as client:
                while True:
                    with lock:
                        n = next(counter)
                    if n >= args.latency_requests:
                        return
                    body = record("one", n)
                    t0 = time.perf_counter()
                    client.post(base + kind.endpoint, json=body).raise_for_status()
                    elapsed = (time.perf_counter() - t0) * 1000
                    with lock:
                        samples.append(elapsed)

        threads = [threading.Thread(target=single) for _ in range(50)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        samples.sort()
        print(f"single-record POST, 50 concurrent clients:      p50 {statistics.median(samples):.1f} ms  "
              f"p99 {samples[int(len(samples) * 0.99) - 1]:.1f} ms  ({len(samples)} requests)")
    finally:
        server.terminate()
        server.wait(timeout=30)


def _gate_kind(args: argparse.Namespace) -> Kind:
    """Gate records at 保利百合 东门: residents with their passes, some households under home
    observation."""
    from django.db import connection
    from django.utils import timezone

    from louzhang.accounts.models import User
    from louzhang.areas.models import Area
    from louzhang.gates.models import Gate, GateRecord, HouseholdPass
    from louzhang.gates.services import observation_start

    passes = list(HouseholdPass.objects.filter(household__code__startswith="150202001001001-")
                  .values_list("code", "household_id"))
    for _code, household_id in passes[:args.observed_households]:
        observation_start(household=Area.objects.get(pk=household_id), starts_on=timezone.localdate())
    gate = Gate.objects.get(code="150202001001001-E")
    user = User.objects.get(username="gate")
    rng = random.Random(3)
    now = timezone.localtime().replace(microsecond=0)

    def record(prefix: str, n: int) -> dict[str, Any]:
        return {"client_id": f"{prefix}-{n:07d}", "gate": gate.code, "direction": rng.choice(["in", "out"]),
                "at": (now - timedelta(seconds=n)).isoformat(),
                "temperature": 38.2 if rng.random() < args.fever_rate else round(rng.uniform(35.8, 37.1), 1),
                "pass_code": rng.choice(passes)[0]}

    household_of = dict(passes)
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())

    def raw_row(prefix: str, n: int) -> tuple[object, ...]:
        r = record(prefix, n)
        return (gate.pk, r["client_id"], user.pk, r["direction"],
                connection.ops.adapt_datetimefield_value(now - timedelta(seconds=n)), r["temperature"],
                "forehead", household_of[r["pass_code"]], "", "", "", "", "", stamp)

    def findings() -> str:
        return f"{GateRecord.objects.filter(temperature__gte=37.3).count()} fevers"

    return Kind("gate", "/gate-checks", record, GateRecord,
                ["gate_id", "client_id", "recorded_by_id", "direction", "at", "temperature", "method",
                 "household_id", "visitor_name", "visitor_phone", "visitor_id_number", "visitor_reason",
                 "visiting", "created_at"], raw_row, findings)


def _vehicle_kind(args: argparse.Namespace) -> Kind:
    """Inspections at 达拉特旗's checkpoint: local cars (a third of them residents' registered
    cars), each with one to three occupants — some giving a resident's ID number —, a few with a
    feverish occupant, a few from Wuhan let through towards a compound."""
    from django.db import connection
    from django.utils import timezone

    from louzhang.accounts.models import User
    from louzhang.areas.models import Area, Level
    from louzhang.checkpoints.models import Checkpoint, VehicleInspection
    from louzhang.followups.models import FollowUp
    from louzhang.registry.models import Resident, Vehicle

    checkpoint = Checkpoint.objects.get(code="DLT-CP1")
    user = User.objects.get(username="checkpoint")
    # the residents' local cars (not the Buick with Wuhan plates: a key-region car whatever
    # `--key-region-rate` says)
    registered = list(Vehicle.objects.exclude(plate__startswith="鄂").values_list("plate", flat=True))
    compounds = list(Area.objects.filter(level=Level.COMPOUND).values_list("code", flat=True))
    id_numbers = list(Resident.objects.values_list("id_number", flat=True)[:2000])
    wuhan = [f"鄂A{10000 + n}" for n in range(200)]
    rng = random.Random(3)
    now = timezone.localtime().replace(microsecond=0)

    def record(prefix: str, n: int) -> dict[str, Any]:
        from_wuhan = rng.random() < args.key_region_rate
        plate = (rng.choice(wuhan) if from_wuhan else rng.choice(registered) if n % 3 == 0
                 else f"蒙B{n % 100000:05d}")
        fever = rng.random() < args.fever_rate
        occupants = [{"name": "张三", "phone": f"138{rng.randrange(10**8):08d}",
                      "id_number": rng.choice(id_numbers) if rng.random() < 0.5 else "",
                      "temperature": 38.2 if fever and i == 0 else round(rng.uniform(35.8, 37.1), 1)}
                     for i in range(rng.randint(1, 3))]
        return {"client_id": f"{prefix}-{n:07d}", "checkpoint": checkpoint.code,
                "at": (now - timedelta(seconds=n)).isoformat(), "plate": plate, "vehicle_type": "car",
                "origin": "武汉市" if from_wuhan else "包头市", "destination": {"compound": rng.choice(compounds)},
                "occupants": occupants, "disposition": "pass"}

    stamp = connection.ops.adapt_datetimefield_value(timezone.now())

    def raw_row(prefix: str, n: int) -> tuple[object, ...]:
        r = record(prefix, n)
        return (checkpoint.pk, r["client_id"], user.pk,
                connection.ops.adapt_datetimefield_value(now - timedelta(seconds=n)), r["plate"],
                "内蒙古自治区", "包头市", "car", r["origin"], None, "pass", None, None, stamp)

    def findings() -> str:
        return (f"{VehicleInspection.objects.filter(key_region__isnull=False).count()} key-region cars, "
                f"{FollowUp.objects.filter(kind='fever').count()} fever follow-ups")

    return Kind("checkpoint", "/vehicle-checks", record, VehicleInspection,
                ["checkpoint_id", "client_id", "recorded_by_id", "at", "plate", "plate_province",
                 "plate_city", "vehicle_type", "origin", "destination_id", "disposition", "key_region_id",
                 "vehicle_id", "created_at"], raw_row, findings)


if __name__ == "__main__":
    main()
