"""`louzhang worker` as an operator runs it: a real process, killed with SIGKILL mid-delivery,
restarted, and the message still arrives — once more, with the same delivery id."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from louzhang.worker.models import WorkerBeat
from tests.conftest import ROOT, run_cli
from tests.receiver import Receiver


def _sql(env: dict[str, str], query: str) -> list[tuple[Any, ...]]:
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as conn:
            return list(conn.execute(query).fetchall())
    with sqlite3.connect(Path(env["LOUZHANG_VAR_DIR"]) / "louzhang.sqlite3") as conn:
        return list(conn.execute(query).fetchall())


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "louzhang", "worker"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def demo_env(cli_env: dict[str, str]) -> dict[str, str]:
    for args in (("init",), ("demo",)):
        result = run_cli(cli_env, *args)
        assert result.returncode == 0, result.stderr
    return {**cli_env, "LOUZHANG_DELIVERY_LEASE_SECONDS": "3", "LOUZHANG_WORKER_STALE_SECONDS": "5",
            "LOUZHANG_WORKER_TICK_SECONDS": "0.5", "LOUZHANG_OUTBOX_SWEEP_SECONDS": "0.5",
            "LOUZHANG_DELIVERY_TIMEOUT_SECONDS": "60"}


def test_worker_killed_mid_delivery_delivers_after_restart(demo_env: dict[str, str]) -> None:
    receiver = Receiver(script=["hang", (200, {"ok": True})], hang_seconds=120)
    try:
        added = run_cli(demo_env, "channel", "add", "东河区楼长工作群", "--kind", "webhook",
                        "--url", f"{receiver.url}/hook", "--area", "150202", "--role", "warden",
                        "--secret-stdin", stdin="hook-secret\n")
        assert added.returncode == 0, added.stderr
        assert run_cli(demo_env, "channel", "test", "东河区楼长工作群").returncode == 0

        first = _worker(demo_env)
        try:
            receiver.wait_for(1, timeout=60)  # the worker is now inside the request
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        assert _sql(demo_env, "SELECT state FROM notifications_delivery") == [("pending",)]

        second = _worker(demo_env)
        try:
            requests = receiver.wait_for(2, timeout=60)
            deadline = time.monotonic() + 30
            while _sql(demo_env, "SELECT state FROM notifications_delivery") != [("sent",)]:
                assert time.monotonic() < deadline, "the delivery was not recorded as sent"
                time.sleep(0.2)
            time.sleep(2)  # a few more rounds of the worker: nothing is sent again
            assert len(receiver.requests) == 2
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0
        ids = {r.headers["X-Louzhang-Delivery"] for r in requests}
        assert len(ids) == 1  # the receiver can drop the repeat by its id
        outcomes = [row[0] for row in _sql(
            demo_env, "SELECT outcome FROM notifications_deliveryattempt ORDER BY id")]
        assert outcomes == ["sending", "sent"]  # the killed attempt never finished
        stopped = _sql(demo_env, "SELECT COUNT(*) FROM worker_workerbeat WHERE stopped_at IS NOT NULL")
        assert stopped == [(1,)]  # the one stopped with SIGTERM said so; the killed one could not
    finally:
        receiver.close()


def test_once_runs_what_is_due_and_exits(demo_env: dict[str, str]) -> None:
    receiver = Receiver(script=[(200, {"errcode": 0, "errmsg": "ok"})])
    try:
        run_cli(demo_env, "channel", "add", "群", "--kind", "wecom", "--url",
                f"{receiver.url}/cgi-bin/webhook/send?key=K", "--area", "150202")
        run_cli(demo_env, "channel", "test", "群")
        result = run_cli(demo_env, "worker", "--once")
        assert result.returncode == 0, result.stderr
        assert len(receiver.requests) == 1
        assert receiver.requests[0].json()["text"]["content"].startswith("楼长平台测试消息")
    finally:
        receiver.close()


def test_channel_add_per_the_api_contract(cli_env: dict[str, str]) -> None:
    assert run_cli(cli_env, "init").returncode == 0
    assert run_cli(cli_env, "demo").returncode == 0
    ok = run_cli(cli_env, "channel", "add", "东河区楼长工作群", "--kind", "dingtalk", "--url",
                 "https://oapi.dingtalk.com/robot/send?access_token=SECRET-TOKEN", "--area", "150202",
                 "--role", "warden", "--role", "commander", "--secret-stdin", stdin="SECabc\n")
    assert ok.returncode == 0, ok.stderr
    listing = run_cli(cli_env, "channel", "list").stdout
    assert "东河区楼长工作群\tdingtalk\t150202\twarden,commander\tactive" in listing
    assert "SECRET-TOKEN" not in listing
    for args, message in [
        (("--kind", "wechat"), "invalid choice"),
        (("--kind", "dingtalk"), "signing secret"),
        (("--kind", "wecom", "--area", "999"), "unknown area code"),
        (("--kind", "wecom", "--role", "boss"), "unknown role"),
    ]:
        base = {"--kind": "wecom", "--area": "150202"}
        pairs = dict(zip(args[::2], args[1::2], strict=True))
        base.update(pairs)
        argv = ["channel", "add", f"x-{message}", "--url", "https://example.invalid/x"]
        for key, value in base.items():
            argv += [key, value]
        bad = run_cli(cli_env, *argv)
        assert bad.returncode != 0
        assert message in bad.stderr and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_serve_warns_when_no_worker_has_been_seen(db: None) -> None:
    from django.utils import timezone

    from louzhang.ops.management.commands.serve import _warn_without_worker

    lines: list[str] = []
    assert not _warn_without_worker(lines.append)
    assert "no background worker" in lines[0]
    WorkerBeat.objects.create(worker_id="w1", host="h", pid=1, backend="database", seen_at=timezone.now())
    assert _warn_without_worker(lines.append) and len(lines) == 1


def test_the_redis_backend_runs_the_same_deliveries(demo_env: dict[str, str]) -> None:
    """Several worker machines share one Redis queue (LOUZHANG_TASKS_BACKEND=rq)."""
    import redis

    # a Redis database of this run's own: the SQLite and PostgreSQL runs go side by side
    url = f"redis://127.0.0.1:6379/{7 if connection.vendor == 'sqlite' else 8}"
    redis.Redis.from_url(url).flushdb()
    env = {**demo_env, "LOUZHANG_TASKS_BACKEND": "rq", "REDIS_URL": url}
    receiver = Receiver(script=[(200, {"errcode": 0, "errmsg": "ok"})])
    try:
        assert run_cli(env, "channel", "add", "群", "--kind", "wecom", "--url",
                       f"{receiver.url}/cgi-bin/webhook/send?key=K", "--area", "150202").returncode == 0
        queued = run_cli(env, "channel", "test", "群")
        assert queued.returncode == 0, queued.stderr
        assert redis.Redis.from_url(url).llen("rq:queue:default") == 1  # queued in Redis, not the database
        workers = [_worker(env), _worker(env)]
        try:
            receiver.wait_for(1, timeout=60)
            deadline = time.monotonic() + 30
            while _sql(env, "SELECT state FROM notifications_delivery") != [("sent",)]:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            time.sleep(1.5)
            assert len(receiver.requests) == 1
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                w.wait(timeout=30)
    finally:
        receiver.close()


def test_a_long_task_holds_back_neither_deliveries_nor_the_heartbeat(demo_env: dict[str, str]) -> None:
    receiver = Receiver(script=[(200, {"ok": True})])
    try:
        assert run_cli(demo_env, "channel", "add", "群", "--kind", "webhook", "--url",
                       f"{receiver.url}/hook", "--area", "150202").returncode == 0
        enqueue = ("import django; django.setup(); from tests.slow_tasks import hold; "
                   "hold.enqueue(15)")
        assert subprocess.run([sys.executable, "-c", enqueue], env={**demo_env, "DJANGO_SETTINGS_MODULE": "louzhang.settings"},
                              cwd=ROOT, timeout=60).returncode == 0
        worker = _worker(demo_env)
        try:
            deadline = time.monotonic() + 30
            while _sql(demo_env, "SELECT status FROM django_tasks_database_dbtaskresult") != [("RUNNING",)]:
                assert time.monotonic() < deadline, "the long task was not taken"
                time.sleep(0.1)
            assert run_cli(demo_env, "channel", "test", "群").returncode == 0
            started = time.monotonic()
            receiver.wait_for(1, timeout=10)  # while the long task still runs
            assert time.monotonic() - started < 8
            first_beat = _sql(demo_env, "SELECT seen_at FROM worker_workerbeat")
            time.sleep(3)
            assert _sql(demo_env, "SELECT seen_at FROM worker_workerbeat") != first_beat  # still beating
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
    finally:
        receiver.close()


def test_two_devices_posting_fevers_for_the_same_households_at_once_both_succeed(demo_env: dict[str, str]) -> None:
    """Batches naming the same households in opposite orders, at the same moment: on PostgreSQL
    this deadlocked on the follow-up index (HTTP 500) before rules fired in subject order."""
    import json
    import threading
    import urllib.request

    from tests.conftest import served

    token = run_cli(demo_env, "token", "create", "gate").stdout.strip()
    codes = [row[0] for row in _sql(demo_env, "SELECT p.code FROM gates_householdpass p JOIN areas_area a "
                                              "ON a.id = p.household_id WHERE a.code LIKE '150202001001001-%' "
                                              "ORDER BY a.code")][:150]
    statuses: list[int] = []
    created: list[int] = []

    def post(device: str, order: list[str]) -> None:
        records = [{"client_id": f"{device}-{n}", "gate": "150202001001001-E", "direction": "in",
                    "at": "2020-01-28T08:15:00+08:00", "temperature": 38.5, "pass_code": code}
                   for n, code in enumerate(order)]
        request = urllib.request.Request(f"{url}/api/v1/gate-checks", data=json.dumps({"records": records}).encode(),
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                statuses.append(response.status)
                created.extend(r["status"] == "created" for r in json.loads(response.read())["results"])
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)

    with served(demo_env, workers=2) as url:
        for round_ in range(3):
            threads = [threading.Thread(target=post, args=(f"a{round_}", codes)),
                       threading.Thread(target=post, args=(f"b{round_}", codes[::-1]))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert statuses == [200] * 6
    assert sum(created) == 6 * len(codes)
    # one open fever follow-up per household, however many devices saw the fever
    [(count,)] = _sql(demo_env, "SELECT COUNT(*) FROM followups_followup WHERE kind = 'fever'")
    assert count == len(codes)
