"""Fault: PostgreSQL restarted under load — clear errors while it is away, then the same
`louzhang serve` and `louzhang worker` serve and deliver again, with no restart of Louzhang.

The machine's shared PostgreSQL is never touched: the test starts a private cluster of its own
(initdb in a temporary directory, a free port; as the `postgres` system user when run as root,
which initdb requires) and restarts that one. Skipped only when no PostgreSQL server binaries
are installed. It runs the same whatever database the rest of the suite uses.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BAOLI, ROOT, TEST_CHANNEL_ALLOW, run_cli

PG_CTL = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
pytestmark = pytest.mark.skipif(not PG_CTL, reason="no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/pg_ctl) "
                                                  "to start a private cluster")
GATE = f"{BAOLI}-E"  # 保利百合 东门
DB_NAME = "louzhang_load_fault"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A private PostgreSQL cluster: initdb in a temporary directory, started on a free port."""

    def __init__(self) -> None:
        self.bin = Path(PG_CTL[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="lz-pg-"))
        self.dir.chmod(0o755)
        self.data = self.dir / "data"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8",
                  "--locale", "C")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.dir)
        assert result.returncode == 0, f"{tool} {args}: {result.stdout}\n{result.stderr}"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-o", options, "-w", *args)

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def close(self) -> None:
        try:
            self._ctl("stop", "-m", "immediate")
        except AssertionError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DB_NAME}"

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname={DB_NAME}") as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    c = Cluster()
    try:
        yield c
    finally:
        c.close()


@dataclass
class Answer:
    kind: str  # "api" or "page"
    status: int
    content_type: str
    retry_after: str | None
    body: str
    client_ids: list[str] = field(default_factory=list)


class Traffic:
    """A gate device posting batches and a warden opening her follow-ups, over and over."""

    def __init__(self, base: str, token: str, cookies: httpx.Cookies, passes: list[str]) -> None:
        self.base, self.token, self.cookies, self.passes = base, token, cookies, passes
        self.answers: list[Answer] = []
        self.serial = 0
        self.running = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def batch(self, client: httpx.Client, *, fever: bool = False) -> Answer:
        records: list[dict[str, Any]] = []
        for k in range(5):
            self.serial += 1
            records.append({"client_id": f"fault-{self.serial:06d}", "gate": GATE, "direction": "in",
                            "at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                            "temperature": 38.6 if fever and k == 0 else 36.5,
                            "pass_code": self.passes[self.serial % len(self.passes)]})
        response = client.post(f"{self.base}/api/v1/gate-checks", json={"records": records},
                               headers={"Authorization": f"Bearer {self.token}"})
        answer = Answer("api", response.status_code, response.headers.get("content-type", ""),
                        response.headers.get("retry-after"), response.text)
        if response.status_code == 200:
            results = response.json()["results"]
            assert [r["status"] for r in results] == ["created"] * 5, results
            answer.client_ids = [r["client_id"] for r in records]
        return answer

    def page(self, client: httpx.Client) -> Answer:
        response = client.get(f"{self.base}/followups/")  # the client holds the warden's session
        return Answer("page", response.status_code, response.headers.get("content-type", ""),
                      response.headers.get("retry-after"), response.text)

    def _run(self) -> None:
        with httpx.Client(timeout=30, cookies=self.cookies) as client:
            while self.running:
                self.answers.append(self.batch(client))
                self.answers.append(self.page(client))
                time.sleep(0.05)

    def __enter__(self) -> Traffic:
        self.running = True
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join(timeout=60)


def _login(base: str, username: str, password: str) -> httpx.Cookies:
    with httpx.Client(timeout=30) as client:
        form = client.get(f"{base}/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token, form.text[:500]
        response = client.post(f"{base}/accounts/login/", data={
            "csrfmiddlewaretoken": token.group(1), "username": username, "password": password},
            headers={"Referer": f"{base}/accounts/login/"})
        assert response.status_code == 302, response.text[:500]
        return client.cookies


def _assert_unavailable(answer: Answer) -> None:
    """A 503 that says what is wrong: problem+json with Retry-After, or the error page."""
    assert answer.status == 503, (answer.status, answer.body[:500])
    assert answer.retry_after and int(answer.retry_after) > 0
    if answer.kind == "api":
        assert answer.content_type.startswith("application/problem+json")
        problem = json.loads(answer.body)
        assert problem["status"] == 503
        assert "database unavailable" in problem["detail"]
    else:
        assert answer.content_type.startswith("text/html")
        assert 'data-status="503"' in answer.body
        assert "Traceback" not in answer.body


def _until(check: Any, seconds: float) -> float:
    """Seconds until `check()` is true; fails after `seconds`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.2)
    return time.monotonic() - started


def test_postgres_restarted_under_load(cluster: Cluster, tmp_path: Path) -> None:
    import psycopg

    from tests.receiver import Receiver

    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({"DATABASE_URL": cluster.url, "LOUZHANG_VAR_DIR": str(tmp_path / "var"),
                "LOUZHANG_CHANNEL_ALLOW": ",".join(TEST_CHANNEL_ALLOW), "LOUZHANG_WORKER_TICK_SECONDS": "0.5",
                "LOUZHANG_OUTBOX_SWEEP_SECONDS": "1", "LOUZHANG_API_RATE_USER": "1000000/m"})
    for args in (("init",), ("demo",)):
        result = run_cli(env, *args)
        assert result.returncode == 0, result.stderr
    token = run_cli(env, "token", "create", "gate").stdout.strip()
    receiver = Receiver()
    result = run_cli(env, "channel", "add", "fault", "--kind", "webhook", "--url", f"{receiver.url}/hook",
                     "--area", "150202", "--secret-stdin", stdin="s\n")
    assert result.returncode == 0, result.stderr
    passes = [code for code, in cluster.query(
        "SELECT p.code FROM gates_householdpass p JOIN areas_area a ON a.id = p.household_id "
        "WHERE a.code LIKE %s AND p.revoked_at IS NULL ORDER BY p.code LIMIT 20", [f"{BAOLI}-%"])]
    assert passes
    logins = json.loads((tmp_path / "var" / "demo_logins.json").read_text())

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    logs = tmp_path / "logs"
    logs.mkdir()
    server = subprocess.Popen([sys.executable, "-m", "louzhang", "serve", "--port", str(port), "--workers", "2",
                               "--threads", "2"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=(logs / "serve.log").open("w"))
    worker = subprocess.Popen([sys.executable, "-m", "louzhang", "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=(logs / "worker.log").open("w"))
    try:
        _until(lambda: _healthy(base), 60)
        cookies = _login(base, "warden", logins["warden"])
        traffic = Traffic(base, token, cookies, passes)
        with httpx.Client(timeout=30, cookies=cookies) as client:
            # before: stored, shown and delivered (a fever at the gate: a follow-up announced)
            assert traffic.batch(client, fever=True).status == 200
            assert traffic.page(client).status == 200
            receiver.wait_for(1, timeout=60)

            with traffic:
                time.sleep(1)
                cluster.restart()  # pg_ctl restart -m fast, requests in flight
                time.sleep(2)
                cluster.stop()  # away for several seconds
                down = [traffic.batch(client), traffic.page(client)]
                time.sleep(5)
                down += [traffic.batch(client), traffic.page(client)]
                cluster.start()
                back = _until(lambda: traffic.batch(client).status == 200 and traffic.page(client).status == 200, 15)
                time.sleep(1)

            for answer in down:
                _assert_unavailable(answer)
            # every answer under load was served or a clear 503 — never a 500 or a traceback
            assert traffic.answers
            statuses = {a.status for a in traffic.answers}
            assert statuses <= {200, 503}, sorted(statuses)
            for answer in traffic.answers:
                if answer.status == 503:
                    _assert_unavailable(answer)
            assert any(a.status == 503 for a in traffic.answers if a.kind == "api")
            assert any(a.status == 503 for a in traffic.answers if a.kind == "page")

            # what was acknowledged is stored, once
            acknowledged = [c for a in traffic.answers for c in a.client_ids]
            assert acknowledged
            stored = cluster.query("SELECT count(*) FROM gates_gaterecord WHERE client_id = ANY(%s)", [acknowledged])
            assert stored[0][0] == len(acknowledged)

            # the same processes serve and deliver again: a new fever reaches the channel
            delivered = len(receiver.requests)
            assert traffic.batch(client, fever=True).status == 200
            receiver.wait_for(delivered + 1, timeout=30)
        assert server.poll() is None and worker.poll() is None, "a Louzhang process ended"
        assert back < 15
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        receiver.close()
    assert "database unavailable" in (logs / "serve.log").read_text()  # said in the log, without a trace


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
