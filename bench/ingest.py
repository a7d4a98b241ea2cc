"""Gate records through the device API, beside a raw batched insert of the same rows.

    .venv/bin/python bench/ingest.py                                   # SQLite
    .venv/bin/python bench/ingest.py --database-url postgres://postgres@127.0.0.1:5432/lz_bench

Starts `louzhang serve` on a fresh database with the demo city, then:

1. posts N gate records (`POST /api/v1/gate-checks`, batches of 500) from several concurrent
   clients — every record validated, stored once by client_id, the fever and home-observation
   rules evaluated (0.5 % fevers, some households under observation);
2. inserts the same rows into the same table with plain batched INSERTs of 500 (executemany,
   multi-row VALUES, on PostgreSQL unnested arrays; a transaction each), from one connection and
   from as many at once as there were clients — the fastest of them is the baseline;
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
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--server-workers", type=int, default=4)
    parser.add_argument("--latency-requests", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--observed-households", type=int, default=40,
                        help="households under home observation among the gate's 864")
    parser.add_argument("--fever-rate", type=float, default=0.005)
    args = parser.parse_args()
    var = fresh_database(args.database_url, "lz-ingest-")
    import httpx
    from django.db import connection
    from django.utils import timezone

    from louzhang.accounts.models import User
    from louzhang.accounts.services import token_create
    from louzhang.areas.models import Area
    from louzhang.demo.services import demo_load
    from louzhang.gates.models import Gate, GateRecord, HouseholdPass
    from louzhang.gates.services import observation_start

    demo_load()
    gate_user = User.objects.get(username="gate")
    _, token = token_create(user=gate_user, name="bench")
    passes = list(HouseholdPass.objects.filter(household__code__startswith="150202001001001-")
                  .values_list("code", "household_id"))
    for _code, household_id in passes[:args.observed_households]:
        observation_start(household=Area.objects.get(pk=household_id), starts_on=timezone.localdate())
    gate = Gate.objects.get(code="150202001001001-E")
    rng = random.Random(3)
    now = timezone.localtime().replace(microsecond=0)

    def record(prefix: str, n: int) -> dict:
        return {"client_id": f"{prefix}-{n:07d}", "gate": gate.code, "direction": rng.choice(["in", "out"]),
                "at": (now - timedelta(seconds=n)).isoformat(),
                "temperature": 38.2 if rng.random() < args.fever_rate else round(rng.uniform(35.8, 37.1), 1),
                "pass_code": rng.choice(passes)[0]}

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
        print(f"database: {connection.vendor}  records: {args.records:,}  clients: {args.clients}  "
              f"server workers: {args.server_workers}")

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
                    response = client.post(base + "/gate-checks", json={"records": batch})
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
        fevers = GateRecord.objects.filter(temperature__gte=37.3).count()
        print(f"API, batches of 500 (rules evaluated; {fevers} fevers): {api_rate:>9,.0f} records/s")

        table = connection.ops.quote_name(GateRecord._meta.db_table)
        columns = ["gate_id", "client_id", "recorded_by_id", "direction", "at", "temperature", "method",
                   "household_id", "visitor_name", "visitor_phone", "visitor_id_number", "visitor_reason",
                   "visiting", "created_at"]
        household_of = dict(passes)
        stamp = connection.ops.adapt_datetimefield_value(timezone.now())
        rows = [(gate.pk, f"raw-{n:07d}", gate_user.pk, r["direction"],
                 connection.ops.adapt_datetimefield_value(now - timedelta(seconds=n)), r["temperature"],
                 "forehead", household_of[r["pass_code"]], "", "", "", "", "", stamp)
                for n, r in enumerate(record("raw", n) for n in range(args.records))]
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
            fields = {f.attname: f for f in GateRecord._meta.concrete_fields}
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
                rows_here = [(r[0], prefix + r[1][4:], *r[2:]) for r in rows]
                chunks = [rows_here[start:start + 500] for start in range(0, len(rows_here), 500)]
                t = time.perf_counter()
                threads = [threading.Thread(target=insert_chunks, args=(form, chunks)) for _ in range(conns)]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                raw_rates[label, conns] = len(rows) / (time.perf_counter() - t)
                assert GateRecord.objects.filter(client_id__startswith=prefix).count() == len(rows)
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
                    client.post(base + "/gate-checks", json=body).raise_for_status()
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


if __name__ == "__main__":
    main()
