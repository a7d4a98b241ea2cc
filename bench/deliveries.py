"""Deliveries through the outbox and `louzhang worker`, beside a bare loop posting the same requests.

    .venv/bin/python bench/deliveries.py                    # 10,000 notifications, SQLite, 1 worker
    .venv/bin/python bench/deliveries.py --workers 2 --database-url postgres://postgres@127.0.0.1:5432/lz_bench

1. Records N follow-up announcements, each in its own transaction as an event would (inbox line,
   outbox row, task queued on commit) — the rate at which events can be announced.
2. Starts `louzhang worker` processes and times until every delivery is recorded as sent to a
   local receiver (a keep-alive HTTP server in this process answering like a WeCom robot).
3. Posts the same N request bodies with one httpx client in a bare loop to the same receiver.

Prints the rates side by side and the worker's overhead per delivery (claim, pace, record,
task bookkeeping) = 1/worker rate − 1/bare rate, per worker process.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ANSWER = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle and delayed ACKs add 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Receiver.lock:
            Receiver.count += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    var = fresh_database(args.database_url, "lz-deliveries-")
    from django.db import connection, transaction

    from louzhang.accounts.models import User
    from louzhang.areas.models import Area
    from louzhang.demo.services import demo_load
    from louzhang.notifications.models import Delivery
    from louzhang.notifications.services import Recipient, announce, channel_add

    demo_load()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=BENCH"
    # a webhook channel: the robots' platform limits (20 a minute) would measure the pacing only
    channel_add(actor=None, name="bench", kind="webhook", url=url, area_code="150202", secret="s")
    area = Area.objects.get(code="150202001001001-34")
    warden = User.objects.get(username="warden")
    n = args.notifications
    print(f"database: {connection.vendor}  notifications: {n:,}  worker processes: {args.workers}")

    t = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            announce(area=area, recipients=[Recipient(warden, "warden")],
                     title=f"【发热】保利百合 东门 38.{i % 10} °C 访客", text="地点：东河区 保利百合 34号楼\n处置：请核实",
                     link=f"http://localhost:8000/followups/{i}/")
    record_rate = n / (time.perf_counter() - t)
    print(f"announce (inbox + outbox + task, one transaction each): {record_rate:>8,.0f} /s")

    env = {**os.environ, "LOUZHANG_VAR_DIR": str(var), "LOUZHANG_WORKER_TICK_SECONDS": "1"}
    connection.close()
    t = time.perf_counter()
    workers = [subprocess.Popen([sys.executable, "-m", "louzhang", "worker"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(args.workers)]
    try:
        while Delivery.objects.filter(state=Delivery.State.SENT).count() < n:
            if time.perf_counter() - t > 1800:
                raise SystemExit("not all delivered in 30 minutes")
            time.sleep(0.25)
        worker_seconds = time.perf_counter() - t
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=60)
    worker_rate = n / worker_seconds
    assert Receiver.count == n, f"receiver saw {Receiver.count} requests for {n} deliveries"
    print(f"worker deliveries (claim, post, record):              {worker_rate:>8,.0f} /s  "
          f"({worker_seconds:.1f} s, start-up included)")

    import httpx

    from louzhang.notifications.transports import transport_for
    from louzhang.notifications.transports.base import Message

    bodies = [(d.uid, Message.from_json(d.message)) for d in Delivery.objects.all()[:n]]
    transport = transport_for(Delivery.objects.first().channel)  # type: ignore[union-attr]
    with httpx.Client(trust_env=False) as client:
        t = time.perf_counter()
        for uid, message in bodies:
            out = transport.build(message, uid=str(uid), recipient="", now_ms=int(time.time() * 1000))
            client.post(out.url, content=out.body, headers=out.headers).raise_for_status()
        bare_rate = n / (time.perf_counter() - t)
    print(f"bare loop posting the same requests:                  {bare_rate:>8,.0f} /s")
    overhead_ms = (args.workers / worker_rate - 1 / bare_rate) * 1000
    print(f"worker overhead per delivery (per process):           {overhead_ms:8.2f} ms")
    print(f"ratio worker / bare:                                  {worker_rate / bare_rate:8.2f}")
    server.shutdown()


if __name__ == "__main__":
    main()
