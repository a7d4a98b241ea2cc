"""`louzhang backup` / `louzhang restore`, as an operator runs them, on the engine the suite runs on:
a backup taken while a gate keeps posting records through a live `louzhang serve` restores into a
fresh database holding exactly the source as of the backup — every table, row for row — and the
restored database serves; what cannot be restored is refused, with the target left as it was."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import BAOLI, cli_shell, isolated_env, run_cli, served

GATE = f"{BAOLI}-E"
#: a table's rows as the test compares them: its count and a hash of its rows in order, each
#: restricted to the ids the other side holds (`limits`) when given
HASH_TABLES = """
import hashlib, json
from django.db import connection
from louzhang.ops.backups import current_tables
limits = json.loads({limits!r})
out = {{}}
with connection.cursor() as cursor:
    for table in current_tables():
        q = connection.ops.quote_name(table)
        cursor.execute(f"SELECT * FROM {{q}} LIMIT 0")
        columns = [c[0] for c in cursor.description]
        where, params = "", []
        if table in limits and "id" in columns:
            where, params = " WHERE id <= %s", [limits[table]]
        order = ", ".join(str(i + 1) for i in range(len(columns)))
        cursor.execute(f"SELECT * FROM {{q}}{{where}} ORDER BY {{order}}", params)
        digest, n = hashlib.sha256(), 0
        for row in cursor.fetchall():
            digest.update(repr(tuple(row)).encode())
            n += 1
        top = None
        if "id" in columns:
            cursor.execute(f"SELECT id FROM {{q}} LIMIT 1")
            first = cursor.fetchone()
            if first is not None and isinstance(first[0], int):
                cursor.execute(f"SELECT max(id) FROM {{q}}")
                top = cursor.fetchone()[0]
        out[table] = [n, digest.hexdigest(), top]
print(json.dumps(out))
"""


def slow_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`run_cli` for what takes minutes on a busy machine (creating and loading a database)."""
    return run_cli(env, *args, timeout=900)


_shell = cli_shell


def _tables(env: dict[str, str], limits: dict[str, int] | None = None) -> dict[str, list[Any]]:
    return json.loads(_shell(env, HASH_TABLES.format(limits=json.dumps(limits or {}))))


def _counts(env: dict[str, str]) -> dict[str, int]:
    return json.loads(_shell(env, "import json; from louzhang.ops.backups import current_counts; "
                                  "print(json.dumps(current_counts()))"))


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A database of its own with the demo city loaded (once for the module: loading it is slow)."""
    with isolated_env(tmp_path_factory.mktemp("source") / "var") as env:
        for args in (("init",), ("demo",)):
            done = slow_cli(env, *args)
            assert done.returncode == 0, done.stderr
        yield env


@pytest.fixture
def empty_target(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A fresh database nobody initialised."""
    with isolated_env(tmp_path / "target") as env:
        yield env


class GateDevice(threading.Thread):
    """A gate posting batches of records (normal temperatures: no rule fires) until stopped;
    `acknowledged` counts the records the server answered `created`."""

    def __init__(self, url: str, token: str, passes: list[str]) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.passes = url, token, passes
        self.stop = threading.Event()
        self.acknowledged = 0
        self.failures: list[str] = []
        self.batches = 0

    def run(self) -> None:
        now = timezone.localtime().replace(microsecond=0)
        while not self.stop.is_set():
            n = self.batches
            records = [{"client_id": f"bk-{n}-{i}", "gate": GATE, "direction": "in",
                        "at": (now - timedelta(seconds=n * 40 + i)).isoformat(), "temperature": 36.5,
                        "pass_code": self.passes[i % len(self.passes)]} for i in range(40)]
            request = urllib.request.Request(
                f"{self.url}/api/v1/gate-checks", data=json.dumps({"records": records}).encode(),
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    results = json.loads(response.read())["results"]
            except OSError as exc:
                self.failures.append(str(exc))
                return
            self.acknowledged += sum(r["status"] == "created" for r in results)
            self.batches += 1


def _passes(env: dict[str, str]) -> list[str]:
    return json.loads(_shell(env, (
        "import json; from louzhang.gates.models import HouseholdPass;"
        f"print(json.dumps(list(HouseholdPass.objects.filter(household__code__startswith='{BAOLI}-34-')"
        ".order_by('code').values_list('code', flat=True)[:10])))")))


def _keys_of(source_env: dict[str, str], target_env: dict[str, str]) -> None:
    """What the backup does not hold, put back as the README tells the operator: the secret key
    and the data key beside the database."""
    into = Path(target_env["LOUZHANG_VAR_DIR"])
    into.mkdir(parents=True, exist_ok=True)
    for name in ("secret_key", "data.key"):
        kept = Path(source_env["LOUZHANG_VAR_DIR"]) / name
        if kept.exists():
            shutil.copy2(kept, into / name)


def test_a_backup_taken_while_a_gate_posts_restores_every_table_as_of_the_backup(
    source: dict[str, str], empty_target: dict[str, str], tmp_path: Path,
) -> None:
    from louzhang.ops.backups import backup_manifest

    token = run_cli(source, "token", "create", "gate").stdout.strip()
    backup = tmp_path / "louzhang.backup"
    with served(source) as url:
        device = GateDevice(url, token, _passes(source))
        device.start()
        deadline = time.monotonic() + 60
        while device.batches < 3 and not device.failures and time.monotonic() < deadline:
            time.sleep(0.1)
        before = device.acknowledged
        made = run_cli(source, "backup", "-o", str(backup), "--json")
        after = device.acknowledged
        while device.acknowledged < after + 80 and not device.failures and time.monotonic() < deadline:
            time.sleep(0.1)
        device.stop.set()
        device.join(60)
    assert not device.failures
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert summary["file"] == str(backup) and summary["engine"] == connection.vendor
    assert "secret key" in " ".join(summary["not_included"])
    assert not list(tmp_path.glob(".louzhang.backup*"))  # no temporary file left beside it

    manifest = backup_manifest(backup)
    counted = manifest["tables"]
    assert summary["rows"] == sum(counted.values())
    # taken while the gate wrote: between what was acknowledged before and after it ran, and
    # the source went on past it
    in_backup = counted["gates_gaterecord"] - _seed_records(source)
    assert before <= in_backup <= after + 40
    assert device.acknowledged > in_backup

    _keys_of(source, empty_target)
    restored = run_cli(empty_target, "restore", str(backup), "--json")
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["rows"] == sum(counted.values())

    target_tables = _tables(empty_target)
    assert {t: v[0] for t, v in target_tables.items()} == counted
    # the source as of the backup: each table's rows up to the last id the backup holds (the
    # gate's later records are left out); every other row, and every other table, identical
    source_tables = _tables(source, {t: v[2] for t, v in target_tables.items() if v[2] is not None})
    assert source_tables.keys() == target_tables.keys()
    differ = [t for t in target_tables
              if source_tables[t][:2] != target_tables[t][:2] and t not in _TOUCHED_BY_REQUESTS]
    assert differ == []
    assert target_tables["gates_gaterecord"][0] >= before + _seed_records(source) > 0

    # the restored database serves: the gate's token of the source looks its gates up
    assert slow_cli(empty_target, "init").returncode == 0
    with served(empty_target, workers=1) as url:
        request = urllib.request.Request(f"{url}/api/v1/gates?compound={BAOLI}",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            gates = json.loads(response.read())["items"]
    assert GATE in {g["code"] for g in gates}


#: rows a request updates in place (a token's last use): the same rows, another time stamp
_TOUCHED_BY_REQUESTS = {"accounts_apitoken"}


def _seed_records(env: dict[str, str]) -> int:
    return int(_shell(env, "from louzhang.gates.models import GateRecord; "
                           "print(GateRecord.objects.exclude(client_id__startswith='bk-').count())"))


def _repacked(backup: Path, into: Path, **changes: Any) -> Path:
    """The backup with its manifest changed (as another engine or a newer Louzhang writes it)."""
    with tarfile.open(backup, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(into, "w:gz") as tar:
        for member, data in members:
            if member.name == "manifest.json":
                manifest = json.loads(data)
                for key, value in changes.items():
                    manifest[key] = value(manifest[key]) if callable(value) else value
                data = json.dumps(manifest).encode()
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return into


@pytest.fixture(scope="module")
def backup_file(source: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backups") / "source.backup"
    done = run_cli(source, "backup", "-o", str(path))
    assert done.returncode == 0, done.stderr
    assert f"backup written: {path}" in done.stdout and "not in the backup" in done.stdout
    return path


def test_restore_refuses_a_database_that_holds_data_and_leaves_it_as_it_was(
    source: dict[str, str], backup_file: Path,
) -> None:
    before = _counts(source)
    refused = run_cli(source, "restore", str(backup_file))
    assert refused.returncode != 0
    assert "the database is not empty" in refused.stderr and "tables hold rows" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    after = _counts(source)
    assert after == before


def _refusals(backup: Path, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    other = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    named = {"sqlite": "a SQLite backup", "postgresql": "a PostgreSQL backup"}
    raw = backup.read_bytes()
    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(raw[: len(raw) // 2])
    flipped = bytearray(raw)
    flipped[len(raw) * 3 // 4] ^= 0xFF
    corrupt = tmp_path / "corrupt.backup"
    corrupt.write_bytes(bytes(flipped))
    noise = tmp_path / "noise.backup"
    noise.write_bytes(bytes(range(256)) * 64)
    return {
        "other engine": (_repacked(backup, tmp_path / "other.backup", engine=other), named[other]),
        "newer schema": (_repacked(backup, tmp_path / "newer.backup", migrations=lambda m: [
            *m, ["gates", "9999_from_a_newer_louzhang"]]), "made by a newer Louzhang"),
        "truncated": (truncated, "damaged or truncated"),
        "corrupt": (corrupt, "damaged"),
        "random bytes": (noise, "not a Louzhang backup"),
        "missing": (tmp_path / "nothing-here.backup", "no such file"),
    }


def test_restore_refuses_what_it_cannot_restore_and_leaves_the_target_as_it_was(
    backup_file: Path, empty_target: dict[str, str], tmp_path: Path,
) -> None:
    for case, (path, words) in _refusals(backup_file, tmp_path).items():
        refused = run_cli(empty_target, "restore", str(path))
        assert refused.returncode != 0, case
        assert words in refused.stderr, (case, refused.stderr)
        assert len(refused.stderr.strip().splitlines()) == 1, (case, refused.stderr)
    assert _counts(empty_target) == {}  # still nothing: not even a table


def test_a_backup_refuses_a_folder_that_does_not_exist(source: dict[str, str], tmp_path: Path) -> None:
    refused = run_cli(source, "backup", "-o", str(tmp_path / "no" / "such.backup"))
    assert refused.returncode != 0
    assert "does not exist" in refused.stderr


def test_a_backup_says_what_it_leaves_out_and_unpacks_for_its_owner_only(
    source: dict[str, str], backup_file: Path, tmp_path: Path,
) -> None:
    import os
    import stat

    from louzhang.ops.backups import backup_manifest

    left_out = " ".join(backup_manifest(backup_file)["not_included"])
    for words in ("var/media", "tip photos", "var/imports", "var/exports", "var/reports",
                  "var/data.key.retired", "secret key"):
        assert words in left_out, words
    made = run_cli(source, "backup", "-o", str(tmp_path / "again.backup"))
    assert made.returncode == 0, made.stderr
    assert "var/media" in made.stdout and "var/exports" in made.stdout
    with tarfile.open(backup_file, "r:gz") as tar:
        assert {m.name: stat.S_IMODE(m.mode) for m in tar.getmembers()} == {
            "manifest.json": 0o600, tar.getmembers()[1].name: 0o600}
        unpacked = tmp_path / "unpacked"
        unpacked.mkdir()
        old = os.umask(0o022)
        try:
            subprocess.run(["tar", "xzf", str(backup_file), "-C", str(unpacked)], check=True)
        finally:
            os.umask(old)
    for path in unpacked.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def _foreign_table(env: dict[str, str]) -> None:
    sql = "CREATE TABLE their_notes (id integer PRIMARY KEY, note text)"
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)) as conn:
            conn.execute(sql)
    else:
        import sqlite3

        Path(env["LOUZHANG_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(Path(env["LOUZHANG_VAR_DIR"]) / "louzhang.sqlite3") as conn:
            conn.execute(sql)


def test_restore_refuses_a_database_holding_what_louzhang_did_not_make(
    backup_file: Path, empty_target: dict[str, str],
) -> None:
    """An empty table of another application would be dropped (PostgreSQL) or overwritten
    (SQLite) by the restore: refused, and kept."""
    _foreign_table(empty_target)
    refused = run_cli(empty_target, "restore", str(backup_file))
    assert refused.returncode != 0
    assert "table their_notes" in refused.stderr and "did not make" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert _counts(empty_target) == {"their_notes": 0}
