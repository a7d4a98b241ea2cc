"""A Baotou morning at ten times its rate against `louzhang serve` on this machine (locust, headless).

    .venv/bin/python bench/load.py                                   # SQLite, 3 minutes
    .venv/bin/python bench/load.py --database-url postgres://postgres@127.0.0.1:5432/louzhang_load
    .venv/bin/python bench/load.py --minutes 10 --speed 1            # the morning as it is

Prepares a fresh database (SQLite under a temporary var/, or the PostgreSQL database named,
dropped and recreated) with the demo city and a generated Baotou layer (`bench/load_city.py`:
1,000 compounds, 120,000 households with a resident and a pass each, 2,000 gates, 4,500
wardens), starts `louzhang serve` and `louzhang worker` on it and a local webhook receiver for
the city's channel, then runs locust headless (`bench/load_locustfile.py`) twice:

1. baseline, `--baseline-seconds`: the wardens, commanders and look-ups alone, no device ingest;
2. load, `--minutes`: the same people with the gates and checkpoints sending at full rate, and
   the worker delivering what the rules fire (fevers at gates and checkpoints, cars from Wuhan).

The rates (`--speed` times the busiest hour; the arithmetic):

- gate records: 1,000,000 a day; the busiest morning hour (7–8 h: going to work, buying food)
  carries about 10 % of a day → 100,000 an hour = 27.8/s; ×10 = 278/s. 2,000 gate kiosks, each
  sending what it scanned every `--gate-interval` 60 s → 33.3 batches/s of 8.3 records.
- vehicle inspections: 50,000 a day, 10 % in the busiest hour → 5,000 an hour = 1.39/s; ×10 =
  13.9/s, from 20 checkpoint tablets sending every 10 s → 2 batches/s of 6.9 inspections.
- wardens: 4,500; in the busiest hour about half at work with the app, each opening a page
  every 10 minutes between doors (home, their follow-ups, a household, its visit form) →
  2,250 × 6 / 3,600 = 3.75 pages/s, and closing one follow-up an hour → 0.63/s; ×10 = 37.5
  pages/s and 6.25 closes/s (a close: its page, then the POST).
- commanders: 50 watching their dashboard, refreshed every 5 minutes → 0.17/s; ×10 = 1.7/s.
- look-ups through the API (plates, areas, gates, figures): 1/s; ×10 = 10/s.

The wardens are `--warden-sessions` (600) of the 4,500, logged in before the morning (sessions
made in the database), each acting at the rate above divided among them.

Prints p50/p99 (ms, locust's histogram: two significant digits), count and errors per page and
API call for both phases side by side, the ingest achieved against the rate asked, the
deliveries made, and the CPU seconds of the server, the worker, the load generator and the rest
of the machine (shared with other work). Exits non-zero on any failed request (any status but
the one expected; a batch with any record not `created`) and says whether the target holds:
every warden page's p99 under 300 ms while the ingest runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_database  # noqa: E402
from bench.deliveries import Receiver  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_MS = 300


def rates(args: argparse.Namespace) -> dict[str, float]:
    speed = args.speed
    warden_pages = 4_500 / 2 * 6 / 3600 * speed
    closes = 4_500 / 2 / 3600 * speed
    return {
        "gate_records": 1_000_000 * 0.10 / 3600 * speed,
        "gate_interval": args.gate_interval,
        "vehicle_records": 50_000 * 0.10 / 3600 * speed,
        "vehicle_interval": 10.0,
        "vehicle_tablets": 20,
        "warden_actions": warden_pages + closes,
        # a close is one task among the four page tasks of weight 4 each
        "close_weight": max(round(16 * closes / warden_pages), 1),
        "dashboards": 50 / 300 * speed,
        "lookups": 1.0 * speed,
    }


@dataclass
class Phase:
    label: str
    seconds: float
    stats: dict[str, dict[str, str]]
    exceptions: list[dict[str, str]]
    cpu: dict[str, float]
    counts: dict[str, int]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--baseline-seconds", type=float, default=45)
    parser.add_argument("--speed", type=float, default=10, help="times the busiest hour's rate")
    parser.add_argument("--gate-interval", type=float, default=60, help="seconds between a gate's batches")
    parser.add_argument("--warden-sessions", type=int, default=600)
    parser.add_argument("--server-workers", type=int, default=3)
    parser.add_argument("--server-threads", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ["LOUZHANG_CHANNEL_ALLOW"] = "127.0.0.1/32"  # the local receiver stands for the robots
    var = fresh_database(args.database_url, "lz-load-")
    from django.db import connection

    from louzhang.demo.services import demo_load

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    receiver.daemon_threads = True
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    started = time.monotonic()
    print(f"database: {connection.vendor}  var: {var}", flush=True)
    demo_load()
    from bench.load_city import build_city

    data = build_city(receiver_url=f"http://127.0.0.1:{receiver.server_address[1]}/cgi-bin/webhook/send?key=LOAD",
                      warden_sessions=args.warden_sessions, commander_sessions=50)
    connection.close()
    data_file = var / "load-data.json"
    data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    print(f"city ready in {time.monotonic() - started:.0f} s: {len(data['gates']):,} gates, "
          f"{len(data['wardens'])} warden sessions, {len(data['commanders'])} commander sessions, "
          f"{len(data['checkpoints'])} checkpoints", flush=True)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LOUZHANG_VAR_DIR": str(var), "LOUZHANG_API_RATE_USER": "100000000/m",
           "LOUZHANG_CHANNEL_ALLOW": "127.0.0.1/32", "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [str(BIN / "louzhang"), "serve", "--port", str(port), "--workers", str(args.server_workers),
         "--threads", str(args.server_threads)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(var / "serve.log").open("w"))
    worker = subprocess.Popen([str(BIN / "louzhang"), "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=(var / "worker.log").open("w"))
    host = f"http://127.0.0.1:{port}"
    try:
        _wait_for(host)
        asked = rates(args)
        env["LOAD_DATA"] = str(data_file)
        env["LOAD_RATES"] = json.dumps(asked)
        people = ["Warden", "Commander", "LookUps"]
        print(f"server: {args.server_workers} workers × {args.server_threads} threads; speed ×{args.speed:g}; "
              f"asked: {asked['gate_records']:.0f} gate records/s, {asked['vehicle_records']:.1f} inspections/s, "
              f"{asked['warden_actions']:.1f} warden actions/s, {asked['dashboards']:.1f} dashboards/s, "
              f"{asked['lookups']:.0f} look-ups/s", flush=True)
        baseline = _phase("baseline (no ingest)", host, env, var, people, args.baseline_seconds, server, worker)
        loaded = _phase("load", host, env, var, ["GateDevice", "CheckpointTablet", *people],
                        args.minutes * 60, server, worker)
        time.sleep(5)  # the worker's last round
        pending = _delivery_counts()
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            process.wait(timeout=60)
        receiver.shutdown()
    failed = _report(args, asked, baseline, loaded, pending, var)
    sys.exit(1 if failed else 0)


def _wait_for(host: str) -> None:
    import httpx

    for _ in range(200):
        try:
            if httpx.get(host + "/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("louzhang serve did not answer")


def _cpu(process: subprocess.Popen[bytes]) -> float:
    import psutil

    try:
        root = psutil.Process(process.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            times = p.cpu_times()
            total += times.user + times.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def _counts() -> dict[str, int]:
    from django.db import connection

    from louzhang.checkpoints.models import VehicleInspection
    from louzhang.followups.models import FollowUp
    from louzhang.gates.models import GateRecord
    from louzhang.notifications.models import Delivery

    counts = {"gate records": GateRecord.objects.count(), "inspections": VehicleInspection.objects.count(),
              "deliveries sent": Delivery.objects.filter(state=Delivery.State.SENT).count(),
              "follow-ups closed": FollowUp.objects.filter(closed_at__isnull=False).count(),
              "receiver": Receiver.count}
    connection.close()
    return counts


def _delivery_counts() -> dict[str, int]:
    from django.db import connection

    from louzhang.notifications.models import Delivery

    counts = {str(state): Delivery.objects.filter(state=state).count() for state in Delivery.State}
    connection.close()
    return counts


def _phase(label: str, host: str, env: dict[str, str], var: Path, classes: list[str], seconds: float,
           server: subprocess.Popen[bytes], worker: subprocess.Popen[bytes]) -> Phase:
    import psutil

    data = json.loads(Path(env["LOAD_DATA"]).read_text(encoding="utf-8"))
    asked = json.loads(env["LOAD_RATES"])
    users = {"GateDevice": len(data["gates"]), "CheckpointTablet": int(asked["vehicle_tablets"]),
             "Warden": len(data["wardens"]), "Commander": len(data["commanders"]),
             "LookUps": max(int(asked["lookups"] // 2), 1)}
    count = sum(users[c] for c in classes)
    prefix = var / f"locust-{label.split()[0]}"
    before = _counts()
    machine_before = psutil.cpu_times()
    server_before, worker_before = _cpu(server), _cpu(worker)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"{label}: {count:,} locust users for {seconds:.0f} s …", flush=True)
    t = time.monotonic()
    with (var / f"{prefix.name}.log").open("w") as log:
        subprocess.run(
            [str(BIN / "locust"), "-f", str(ROOT / "bench" / "load_locustfile.py"), "--headless",
             "-u", str(count), "-r", str(count), "-t", f"{seconds:.0f}s", "--host", host,
             "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10",
             *classes],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - t
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_after = psutil.cpu_times()
    after = _counts()
    busy = sum(getattr(machine_after, f) - getattr(machine_before, f)
               for f in machine_after._fields if f not in ("idle", "iowait", "guest", "guest_nice"))
    cpu = {
        "server": _cpu(server) - server_before,
        "worker": _cpu(worker) - worker_before,
        "locust": (children_after.ru_utime + children_after.ru_stime)
        - (children_before.ru_utime + children_before.ru_stime),
        "machine": busy,
        "wall": elapsed,
    }
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    exceptions_file = Path(f"{prefix}_exceptions.csv")
    exceptions = list(csv.DictReader(exceptions_file.open(encoding="utf-8"))) if exceptions_file.exists() else []
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        for row in csv.DictReader(failures_file.open(encoding="utf-8")):
            print(f"  FAILED {row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error'][:300]}")
    for row in exceptions:
        print(f"  EXCEPTION in the load generator {row.get('Count')}×: {row.get('Message', '')[:300]}")
    # the rates over the run's own duration (locust's start-up of the users is outside it)
    return Phase(label, seconds, stats, exceptions, cpu, {k: after[k] - before[k] for k in after})


def _report(args: argparse.Namespace, asked: dict[str, float], baseline: Phase, loaded: Phase,
            deliveries: dict[str, int], var: Path) -> bool:
    names = [n for n in loaded.stats if n != "Aggregated"]
    names.sort(key=lambda n: (not n.startswith("warden"), not n.startswith("commander"), n))
    print()
    print(f"{'page / API call':<56}{'baseline (no ingest)':>30}   {'load (ingest running)':>30}")
    print(f"{'':<56}{'count':>8}{'err':>5}{'p50':>7}{'p99 ms':>10}   {'count':>8}{'err':>5}{'p50':>7}{'p99 ms':>10}")
    failed = False
    warden_ok = True
    for name in names:
        cells = []
        for phase in (baseline, loaded):
            row = phase.stats.get(name)
            if row is None:
                cells.append(f"{'—':>8}{'':>5}{'':>7}{'':>10}")
                continue
            cells.append(f"{int(row['Request Count']):>8,}{int(row['Failure Count']):>5}"
                         f"{row['50%']:>7}{row['99%']:>10}")
            failed |= int(row["Failure Count"]) > 0
        row = loaded.stats[name]
        if name.startswith("warden") and float(row["99%"] or 0) >= TARGET_MS:
            warden_ok = False
        print(f"{name:<56}{cells[0]}   {cells[1]}")
    failed |= bool(baseline.exceptions or loaded.exceptions)
    gate_rate = loaded.counts["gate records"] / loaded.seconds
    inspection_rate = loaded.counts["inspections"] / loaded.seconds
    print()
    print(f"ingest, gate records:        {gate_rate:8.1f}/s achieved of {asked['gate_records']:.1f}/s asked "
          f"({loaded.counts['gate records']:,} stored in {loaded.seconds:.0f} s)")
    print(f"ingest, vehicle inspections: {inspection_rate:8.1f}/s achieved of {asked['vehicle_records']:.1f}/s asked "
          f"({loaded.counts['inspections']:,} stored)")
    print(f"follow-ups closed by wardens: {loaded.counts['follow-ups closed'] + baseline.counts['follow-ups closed']:,}; "
          f"deliveries sent during the load: {loaded.counts['deliveries sent']:,} "
          f"(after it: {deliveries.get('pending', 0)} waiting, {deliveries.get('dead', 0)} failed for good)")
    for phase in (baseline, loaded):
        c = phase.cpu
        others = c["machine"] - c["server"] - c["worker"] - c["locust"]
        print(f"CPU, {phase.label}: server {c['server'] / c['wall']:.2f} cores, worker {c['worker'] / c['wall']:.2f}, "
              f"load generator {c['locust'] / c['wall']:.2f}, rest of the machine {max(others, 0) / c['wall']:.2f} "
              f"(of {os.cpu_count()}); load average {os.getloadavg()[0]:.1f}")
    print(f"logs: {var}")
    verdict = "met" if warden_ok and not failed else "NOT met"
    print(f"target (every warden page p99 < {TARGET_MS} ms, no error while the ingest runs): {verdict}")
    return failed


if __name__ == "__main__":
    main()
