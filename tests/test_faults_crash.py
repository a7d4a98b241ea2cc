"""Faults survived, with real processes: the server killed (`kill -9` of its whole process group)
in the middle of large gate-check batches, and the disk under SQLite filling up while gates post.

What the ingest promises (`core.ingest.DeviceBatch`): a batch's valid records and everything their
rules write (follow-ups, alerts) are stored in ONE transaction. So a batch cut off by a crash is
stored whole or not at all — never a record without its follow-up, never half a batch — and the
device, which got no answer, sends it again: records stored before are answered `duplicate`
(`client_id`), the others `created`, each stored exactly once."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import BAOLI, ROOT, cli_shell, isolated_env, run_cli

GATE = f"{BAOLI}-E"
BATCH = 800


def slow_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`run_cli` for what takes minutes on a busy machine (creating and loading a database)."""
    return run_cli(env, *args, timeout=900)


_shell = cli_shell


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with isolated_env(tmp_path_factory.mktemp("faults") / "var") as env:
        for args in (("init",), ("demo",)):
            done = slow_cli(env, *args)
            assert done.returncode == 0, done.stderr
        yield env


class Server:
    """`louzhang serve` in a process group of its own, so that the whole group — gunicorn's
    master and its workers — can be killed at once, as the kernel's OOM killer or a power cut
    would."""

    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "louzhang", "serve", "--port", str(port), "--workers", str(workers)],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/api/v1/health", timeout=2)
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.kill()
                    raise AssertionError("louzhang serve did not start") from None
                time.sleep(0.3)

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def serving(env: dict[str, str], workers: int = 2) -> Iterator[Server]:
    server = Server(env, workers)
    try:
        yield server
    finally:
        server.stop()


def post(url: str, token: str, records: list[dict[str, Any]], timeout: float = 120) -> tuple[int, Any, dict[str, str]]:
    """(status, body, headers) of a batch sent to `POST /api/v1/gate-checks`."""
    request = urllib.request.Request(
        f"{url}/api/v1/gate-checks", data=json.dumps({"records": records}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)


def _passes(env: dict[str, str]) -> list[str]:
    return json.loads(_shell(env, (
        "import json; from louzhang.gates.models import HouseholdPass;"
        f"print(json.dumps(list(HouseholdPass.objects.filter(household__code__startswith='{BAOLI}-34-')"
        ".order_by('code').values_list('code', flat=True)[:20])))")))


def batch(name: str, passes: list[str], size: int = BATCH, fever_every: int = 0) -> list[dict[str, Any]]:
    now = timezone.localtime().replace(microsecond=0)
    return [{"client_id": f"{name}-{i:04d}", "gate": GATE, "direction": "in",
             "at": (now - timedelta(seconds=i)).isoformat(),
             "temperature": 38.2 if fever_every and i % fever_every == 0 else 36.5,
             "pass_code": passes[i % len(passes)]} for i in range(size)]


def _stored(env: dict[str, str], prefixes: list[str]) -> dict[str, Any]:
    """Per batch: its records stored (and how many distinct client_ids), and for the whole
    database the fever follow-ups and their counted repeats."""
    return json.loads(_shell(env, (
        "import json; from django.db.models import Sum; from louzhang.gates.models import GateRecord;"
        "from louzhang.followups.models import FollowUp;"
        f"prefixes = {prefixes!r};"
        "q = lambda p: GateRecord.objects.filter(client_id__startswith=p + '-');"
        "f = FollowUp.objects.filter(kind='fever');"
        "print(json.dumps({'batches': {p: [q(p).count(), q(p).values('client_id').distinct().count()] for p in prefixes},"
        " 'fever_records': GateRecord.objects.filter(temperature__gte=37.3).count(),"
        " 'fever_followups': f.count() + (f.aggregate(r=Sum('repeats'))['r'] or 0)}))")))


def test_a_server_killed_in_the_middle_of_batches_stores_each_whole_or_not_and_the_resend_completes_them(
    demo_env: dict[str, str],
) -> None:
    token = run_cli(demo_env, "token", "create", "gate").stdout.strip()
    passes = _passes(demo_env)
    seed = _stored(demo_env, [])  # the demo's own fever records and follow-ups
    sent: dict[str, list[dict[str, Any]]] = {}
    unanswered = 0
    # cut off at different moments of the request: while it is read, checked, stored
    for attempt, delay in enumerate((0.05, 0.3, 0.7, 1.2)):
        name = f"kill{attempt}"
        sent[name] = batch(name, passes, fever_every=7)
        server = Server(demo_env)
        answer: list[Any] = []

        def send(records: list[dict[str, Any]] = sent[name], url: str = server.url,
                 answer: list[Any] = answer) -> None:
            try:
                answer.append(post(url, token, records))
            except OSError as exc:  # the connection died with the server
                answer.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(delay)
        server.kill()
        sender.join(60)
        unanswered += not answer or isinstance(answer[0], Exception)
    assert unanswered, "every batch was answered before the kill: nothing was cut off"

    # nothing half-stored: each batch whole (with every follow-up its fevers opened) or absent
    before = _stored(demo_env, list(sent))
    for name, (count, distinct) in before["batches"].items():
        assert count in (0, BATCH), (name, count)
        assert distinct == count
    assert sum(v[0] for v in before["batches"].values()) < BATCH * len(sent)  # something to resend
    # every fever stored opened (or was counted on) a follow-up in the same transaction
    assert before["fever_followups"] - seed["fever_followups"] == before["fever_records"] - seed["fever_records"]

    with serving(demo_env) as server:
        for name, records in sent.items():
            status, body, _headers = post(server.url, token, records)
            assert status == 200
            statuses = {r["status"] for r in body["results"]}
            stored_before = before["batches"][name][0]
            assert statuses == ({"duplicate"} if stored_before else {"created"}), name

    after = _stored(demo_env, list(sent))
    assert all(v == [BATCH, BATCH] for v in after["batches"].values())  # each exactly once
    assert after["fever_followups"] - seed["fever_followups"] == after["fever_records"] - seed["fever_records"]
    assert after["fever_records"] - seed["fever_records"] == len(sent) * len(range(0, BATCH, 7))


# --- the disk full under SQLite ---------------------------------------------------------------


@contextmanager
def small_file_system(size_mb: int) -> Iterator[Path]:
    """A tmpfs of `size_mb` MB mounted on a temporary folder (as root), unmounted afterwards."""
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="louzhang-full-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(where)],  # noqa: S607
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        where.rmdir()
        pytest.skip(f"this machine does not let the test mount a small file system: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)  # noqa: S607
        where.rmdir()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the disk under SQLite; PostgreSQL's disk is its server's")
def test_the_disk_full_under_sqlite_answers_503_keeps_what_was_acknowledged_and_recovers_without_a_restart(
    demo_env: dict[str, str], tmp_path: Path,
) -> None:
    token = run_cli(demo_env, "token", "create", "gate").stdout.strip()
    passes = _passes(demo_env)
    source = Path(demo_env["LOUZHANG_VAR_DIR"]) / "louzhang.sqlite3"
    size_mb = source.stat().st_size // 2**20 + 8
    with small_file_system(size_mb) as disk:
        database = disk / "louzhang.sqlite3"
        with sqlite3.connect(source) as live, sqlite3.connect(database) as copy:
            live.backup(copy)
        env = {**demo_env, "DATABASE_URL": f"sqlite:///{database}"}
        # the disk filled by something else, all but a few hundred kB
        filler = disk / "filler"
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        filler.write_bytes(b"\0" * max(free - 400_000, 0))

        acknowledged: list[str] = []
        full: tuple[int, Any, dict[str, str]] | None = None
        refused: list[dict[str, Any]] = []
        with serving(env, workers=1) as server:
            for n in range(200):
                records = batch(f"full{n}", passes, size=200)
                status, body, headers = post(server.url, token, records)
                if status == 200:
                    acknowledged += [r["client_id"] for r, a in zip(records, body["results"], strict=True)
                                     if a["status"] == "created"]
                    continue
                full, refused = (status, body, headers), records
                break
            assert full is not None, "the disk never filled"
            status, body, headers = full
            assert status == 503, body
            assert headers["Content-Type"].startswith("application/problem+json")
            assert body["status"] == 503 and "full" in body["detail"]
            assert int(headers["Retry-After"]) > 0
            assert acknowledged, "nothing was stored before the disk filled"

            filler.unlink()  # space freed; the same server, not restarted
            status, body, _headers = post(server.url, token, refused)
            assert status == 200
            assert {r["status"] for r in body["results"]} == {"created"}
            status, body, _headers = post(server.url, token, batch("after", passes, size=200))
            assert status == 200 and {r["status"] for r in body["results"]} == {"created"}

        stored = set(json.loads(_shell(env, (
            "import json; from louzhang.gates.models import GateRecord;"
            "print(json.dumps(list(GateRecord.objects.filter(client_id__startswith='full')"
            ".values_list('client_id', flat=True))))"))))
        assert set(acknowledged) <= stored  # nothing acknowledged was lost
        assert {r["client_id"] for r in refused} <= stored
        assert len(stored) == len(acknowledged) + len(refused)
