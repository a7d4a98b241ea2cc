"""`louzhang backup` and `louzhang restore`: a consistent copy of the whole database while it runs,
restored into an empty database (API.md, "Command line").

A backup is one tar file, self-describing:

- `manifest.json` (first): the format, Louzhang's version, the engine, when it was made, the
  migrations applied, the rows of every table, and the size and SHA-256 of the database copy;
- the database copy: `database.sqlite3` (SQLite's online backup API, one read transaction, so
  consistent while the server and the worker write in WAL mode) or `database.pgdump`
  (`pg_dump --format=custom` of a snapshot exported by the transaction that counted the rows, so
  the counts are those of the dump).

It is written beside FILE under a temporary name and renamed into place: a crash never leaves a
half backup under FILE's name. Restoring refuses, changing nothing, a database that holds data,
another engine's backup, a file that is not a backup or is damaged, and a backup of a newer
schema than this code knows; it restores only into a database that is empty and was never
initialised, or was freshly initialised (`louzhang init`) and holds nothing else — no rows but
those the migrations write, no table, view or function Louzhang did not make. After restoring
it checks the row counts against the manifest and migrates forward a backup of an older schema.

When the restore itself fails: on SQLite the database file is as it was (the copy is written in
one transaction of the target); on PostgreSQL the freshly initialised, empty schema is dropped
before `pg_restore` runs in one transaction, so a failed restore leaves the database with no
tables at all (nothing else was in it): fix the cause and restore again, or run `louzhang init`.

The database copy in the tar is mode 0600, like the backup file: unpacked with `tar x`, it is
readable by its owner only.

What is outside the database (the data keys, the secret key, the environment, uploaded files,
import and export files, collected static files, the demo log-ins file) is not in a backup:
`NOT_INCLUDED` says so wherever a backup is made or restored.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.db import connection

import louzhang

FORMAT = "louzhang-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
#: what a backup does not hold: it lives outside the database
NOT_INCLUDED = (
    "the data key that encrypts channel secrets (LOUZHANG_DATA_KEY / LOUZHANG_DATA_KEY_FILE, "
    "or var/data.key) and the retired keys beside it (var/data.key.retired, needed for a backup "
    "made before a rotation): without them the restored channels cannot send",
    "uploaded files: tip photos (var/media)",
    "import, export and report files (var/imports, var/exports, var/reports): the restored jobs "
    "name files that are not there unless copied back",
    "the secret key (SECRET_KEY / SECRET_KEY_FILE, or var/secret_key): without it log-in sessions end",
    "the environment (DATABASE_URL, REDIS_URL, channel and other settings)",
    "collected static files (recreated by `louzhang init`)",
    "the demo log-ins file (var/demo_logins.json)",
)
#: rows a freshly initialised database holds, written by the migrations themselves: Django's
#: bookkeeping and the reference data seeded by data migrations (the key regions). A database
#: with rows in no other table is empty.
SEEDED_BY_MIGRATIONS = frozenset({
    "django_migrations", "django_content_type", "auth_permission", "checkpoints_keyregion",
})
_CHUNK = 1 << 20
Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup cannot be made or restored; the message is the one line an operator reads."""


@dataclass
class BackupSummary:
    path: Path
    engine: str
    created_at: str
    tables: dict[str, int]
    size: int
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "engine": self.engine, "created_at": self.created_at,
                "tables": len(self.tables), "rows": self.rows, "bytes": self.size,
                "seconds": round(self.seconds, 2), "not_included": list(NOT_INCLUDED)}


@dataclass
class RestoreSummary:
    path: Path
    engine: str
    created_at: str
    louzhang_version: str
    tables: dict[str, int]
    migrated: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "engine": self.engine, "created_at": self.created_at,
                "louzhang_version": self.louzhang_version, "tables": len(self.tables),
                "rows": self.rows, "migrated": self.migrated, "seconds": round(self.seconds, 2),
                "not_included": list(NOT_INCLUDED)}


def _say(progress: Progress | None, line: str) -> None:
    if progress:
        progress(line)


def engine() -> str:
    """`sqlite` or `postgresql`: the engine of DATABASE_URL."""
    return str(connection.vendor)


# --- reading a database -----------------------------------------------------------------------


def _sqlite_tables(db: sqlite3.Connection) -> list[str]:
    return [name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY name")]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {_quote(table)}")  # noqa: S608 - names from the catalogue
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _migrations(cursor: Any, tables: list[str]) -> list[list[str]]:
    if "django_migrations" not in tables:
        return []
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [[app, name] for app, name in cursor.fetchall()]


def current_tables() -> list[str]:
    """The tables of the database DATABASE_URL names (none when it is not initialised)."""
    with connection.cursor() as cursor:
        if engine() == "postgresql":
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                           "ORDER BY tablename")
            return [name for (name,) in cursor.fetchall()]
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                       "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
        return [name for (name,) in cursor.fetchall()]


def current_counts() -> dict[str, int]:
    """The rows of every table of the database DATABASE_URL names."""
    tables = current_tables()
    with connection.cursor() as cursor:
        return _counts(cursor, tables)


def foreign_objects() -> list[str]:
    """What the database holds that Louzhang's migrations did not make (a table of another
    application, a view, a function): a restore would drop or overwrite it, so it refuses.
    Louzhang's own are its models' tables and what its migrations add beside them, named
    after their app (`audit_maintenance`, the trigger `audit_auditevent_no_update` …)."""
    from django.apps import apps

    ours = set(connection.introspection.django_table_names())
    ours.add("django_migrations")
    prefixes = tuple(f"{config.label}_" for config in apps.get_app_configs())

    def foreign(name: str) -> bool:
        return name not in ours and not name.startswith(prefixes)

    found: list[tuple[str, str]] = [("table", t) for t in current_tables()]
    with connection.cursor() as cursor:
        if engine() == "postgresql":
            cursor.execute("""
                SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                       ELSE 'sequence' END, c.relname
                FROM pg_class c
                WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('v','m','S')
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e','a','i'))""")
            found += [(kind, name) for kind, name in cursor.fetchall()]
            cursor.execute("""
                SELECT 'function', p.proname FROM pg_proc p
                WHERE p.pronamespace = current_schema()::regnamespace
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""")
            found += [(kind, name) for kind, name in cursor.fetchall()]
        else:
            cursor.execute("SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger')")
            found += [(kind, name) for kind, name in cursor.fetchall()]
    return sorted(f"{kind} {name}" for kind, name in found if foreign(str(name)))


def tables_with_data() -> dict[str, int]:
    """The tables that make the database not empty, with their rows (see SEEDED_BY_MIGRATIONS)."""
    return {t: n for t, n in current_counts().items() if n and t not in SEEDED_BY_MIGRATIONS}


# --- PostgreSQL's client tools ----------------------------------------------------------------


def _pg_params() -> tuple[str, dict[str, str]]:
    """A libpq connection string for DATABASE_URL and the environment to run a client tool in
    (the password goes there, never on a command line)."""
    from psycopg.conninfo import make_conninfo

    params = connection.settings_dict
    options = {k: str(v) for k, v in (params.get("OPTIONS") or {}).items()
               if k in {"sslmode", "sslrootcert", "sslcert", "sslkey", "options"}}
    conninfo = make_conninfo(
        "", dbname=params["NAME"], user=params.get("USER") or None, host=params.get("HOST") or None,
        port=str(params["PORT"]) if params.get("PORT") else None, **options)
    env = dict(os.environ)
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = str(params["PASSWORD"])
    return conninfo, env


def _server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def pg_tool(name: str) -> str:
    """The path of `pg_dump` / `pg_restore`, checked to be at least the server's major version."""
    path = shutil.which(name)
    server = _server_major()
    advice = (f"install the PostgreSQL {server} client tools (Debian: apt install postgresql-client-{server}) "
              f"and put them on PATH")
    if path is None:
        raise BackupError(f"{name} not found: {advice}")
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,  # noqa: S603 - our own tool path
                             check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackupError(f"{name} --version failed ({exc}): {advice}") from None
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    if found is None:
        raise BackupError(f"{name} --version said {out.strip()!r}, not a version: {advice}")
    if int(found.group(1)) < server:
        raise BackupError(f"{name} is version {found.group(1)}, older than the server ({server}): {advice}")
    return path


def _run_tool(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed arguments
    if done.returncode != 0:
        message = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise BackupError(f"{what} failed: {message or f'exit status {done.returncode}'}")


# --- making a backup --------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_sqlite(copy: Path) -> tuple[dict[str, int], list[list[str]]]:
    """The online backup of the live database into `copy`, in one step: one read transaction,
    so the copy is the database at one moment while writers go on (WAL). A step-wise backup
    would start again whenever another connection writes, and might never end."""
    connection.ensure_connection()
    live: sqlite3.Connection = connection.connection
    target = sqlite3.connect(copy)
    try:
        live.backup(target, pages=-1)
        # a plain rollback-journal file: no -wal/-shm beside it when it is opened again
        target.execute("PRAGMA journal_mode=DELETE")
        cursor = target.cursor()
        tables = _sqlite_tables(target)
        return _counts(cursor, tables), _migrations(cursor, tables)
    finally:
        target.close()


def _dump_postgresql(copy: Path) -> tuple[dict[str, int], list[list[str]]]:
    """`pg_dump` of a snapshot exported by the transaction that counts the rows: the dump and
    the manifest's counts are the same moment of the database."""
    import psycopg

    tool = pg_tool("pg_dump")
    conninfo, env = _pg_params()
    with psycopg.connect(conninfo, password=env.get("PGPASSWORD")) as db:
        db.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        db.read_only = True
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            row = cursor.fetchone()
            assert row is not None
            snapshot = str(row[0])
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                           "ORDER BY tablename")
            tables = [name for (name,) in cursor.fetchall()]
            counts, migrations = _counts(cursor, tables), _migrations(cursor, tables)
            # the snapshot lives as long as this transaction: pg_dump runs inside it
            _run_tool([tool, "--format=custom", f"--snapshot={snapshot}", "--no-password",
                       f"--file={copy}", f"--dbname={conninfo}"], env, "pg_dump")
        db.rollback()
    return counts, migrations


def _owner_only(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """A member unpacked by `tar x` readable by its owner only (personal data)."""
    info.mode = 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _target(path: Path) -> Path:
    path = path.expanduser()
    if path.is_dir():
        raise BackupError(f"{path}: is a folder, not a file")
    if not path.parent.is_dir():
        raise BackupError(f"{path}: the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise BackupError(f"{path}: no permission to write there")
    return path


def backup_create(path: Path, *, progress: Progress | None = None) -> BackupSummary:
    """A backup of the whole database DATABASE_URL names, written to `path`."""
    started = time.monotonic()
    path = _target(path)
    kind = engine()
    if kind not in MEMBERS:
        raise BackupError(f"cannot back up a {kind} database")
    if not current_tables():
        raise BackupError("the database is not initialised: nothing to back up (run `louzhang init`)")
    member = MEMBERS[kind]
    with tempfile.TemporaryDirectory(prefix=f".{path.name}.", dir=path.parent) as work:
        copy = Path(work) / member
        _say(progress, f"copying the {ENGINE_NAMES[kind]} database …")
        counts, migrations = _copy_sqlite(copy) if kind == "sqlite" else _dump_postgresql(copy)
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "louzhang_version": louzhang.__version__, "engine": kind, "created_at": created_at,
            "migrations": migrations, "tables": counts,
            "database": {"name": member, "bytes": copy.stat().st_size, "sha256": _sha256(copy)},
            "not_included": list(NOT_INCLUDED),
        }
        _say(progress, f"{len(counts)} tables, {sum(counts.values()):,} rows; writing {path.name} …")
        partial = Path(work) / "backup.partial"
        body = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
        with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(body))
            tar.add(copy, arcname=member, recursive=False, filter=_owner_only)
        with partial.open("rb") as f:
            os.fsync(f.fileno())
        partial.chmod(0o600)  # personal data: readable by its owner only
        os.replace(partial, path)
    size = path.stat().st_size
    return BackupSummary(path=path, engine=kind, created_at=created_at, tables=counts, size=size,
                         seconds=time.monotonic() - started)


# --- reading a backup -------------------------------------------------------------------------


@contextmanager
def _opened(path: Path) -> Iterator[tuple[tarfile.TarFile, dict[str, Any]]]:
    """The backup's tar and its manifest, checked to be a backup Louzhang can read."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    not_backup = f"{path}: not a Louzhang backup (or damaged)"
    try:
        tar = tarfile.open(path, "r:gz")
    except (tarfile.TarError, EOFError, OSError, zlib.error):
        raise BackupError(not_backup) from None
    try:
        try:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise BackupError(not_backup)
            raw = tar.extractfile(first)
            assert raw is not None
            manifest = json.loads(raw.read(1 << 24))
        except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError):
            raise BackupError(not_backup) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError(not_backup)
        if manifest.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"{path}: backup format {manifest.get('format_version')} is not one this "
                              f"Louzhang ({louzhang.__version__}) reads; restore it with a newer Louzhang")
        yield tar, manifest
    finally:
        tar.close()


def backup_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the backup at `path` (checked to be one)."""
    with _opened(path) as (_tar, manifest):
        return manifest


def _unknown_migrations(applied: list[list[str]]) -> list[str]:
    """The backup's migrations this code does not have: it was made by a newer schema."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [f"{app}.{name}" for app, name in applied if (app, name) not in known]


def _extract(tar: tarfile.TarFile, manifest: dict[str, Any], into: Path, path: Path) -> Path:
    """The database copy, written to `into` and checked against the manifest's size and SHA-256."""
    damaged = f"{path}: the backup is damaged or truncated (its database copy does not match the manifest)"
    described = manifest.get("database") or {}
    name = described.get("name")
    try:
        member = next((m for m in iter(tar.next, None) if m.name == name and m.isfile()), None)
        if member is None:
            raise BackupError(damaged)
        source: IO[bytes] | None = tar.extractfile(member)
        assert source is not None
        digest = hashlib.sha256()
        size = 0
        target = into / str(name)
        with target.open("wb") as out:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    except (tarfile.TarError, EOFError, OSError, zlib.error):
        raise BackupError(damaged) from None
    if size != described.get("bytes") or digest.hexdigest() != described.get("sha256"):
        raise BackupError(damaged)
    return target


# --- restoring --------------------------------------------------------------------------------


def _restore_sqlite(copy: Path) -> None:
    """The copy's pages written into the database file through the backup API, in one step and
    one transaction of the target (whatever the target held — an initialised, empty schema —
    is replaced)."""
    name = str(connection.settings_dict["NAME"])
    connection.close()
    source = sqlite3.connect(copy)
    target = sqlite3.connect(name, timeout=30)
    try:
        source.backup(target, pages=-1)
    finally:
        source.close()
        target.close()


def _drop_schema_objects() -> None:
    """An initialised but empty PostgreSQL database's tables, views, sequences and functions
    dropped, so that the dump restores into a clean schema (nothing but an empty schema is
    lost: the caller checked that no table holds data)."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relkind, c.relname FROM pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r','p','v','m','S')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e','a','i'))
        """)
        relations = cursor.fetchall()
        cursor.execute("""
            SELECT p.oid::regprocedure::text FROM pg_proc p
            WHERE p.pronamespace = current_schema()::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
        """)
        functions = [name for (name,) in cursor.fetchall()]
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    with connection.cursor() as cursor:
        for kind, name in sorted(relations, key=lambda r: "vmrpS".index(r[0])):
            cursor.execute(f"DROP {kinds[kind]} IF EXISTS {_quote(name)} CASCADE")
        for function in functions:
            cursor.execute(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    connection.close()


def _restore_postgresql(copy: Path) -> None:
    tool = pg_tool("pg_restore")
    initialised = bool(current_tables())
    if initialised:
        # committed before pg_restore runs (it cannot take part in this transaction): the caller
        # checked that this is a freshly initialised, empty schema and nothing else
        _drop_schema_objects()
    conninfo, env = _pg_params()
    connection.close()
    # one transaction: a restore that fails restores nothing
    try:
        _run_tool([tool, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
                   "--no-password", f"--dbname={conninfo}", str(copy)], env, "pg_restore")
    except BackupError as exc:
        if not initialised:
            raise
        raise BackupError(f"{exc}; nothing was restored, and the database's empty initialised schema "
                          "was dropped before: it holds no tables now (run `louzhang init`, or "
                          "restore again once the cause is fixed)") from None


def backup_restore(path: Path, *, progress: Progress | None = None) -> RestoreSummary:
    """The backup at `path` restored into the (empty) database DATABASE_URL names."""
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    started = time.monotonic()
    path = path.expanduser()
    kind = engine()
    with _opened(path) as (tar, manifest):
        theirs = str(manifest.get("engine"))
        if theirs != kind:
            raise BackupError(
                f"{path}: a {ENGINE_NAMES.get(theirs, theirs)} backup; this database is "
                f"{ENGINE_NAMES.get(kind, kind)} (DATABASE_URL): restore it into a "
                f"{ENGINE_NAMES.get(theirs, theirs)} database")
        unknown = _unknown_migrations(manifest.get("migrations") or [])
        if unknown:
            raise BackupError(
                f"{path}: made by a newer Louzhang ({manifest.get('louzhang_version')}, schema "
                f"{', '.join(unknown[:3])}{' …' if len(unknown) > 3 else ''}) than this one "
                f"({louzhang.__version__}): upgrade Louzhang, then restore")
        full = tables_with_data()
        if full:
            named = ", ".join(f"{t} ({n})" for t, n in sorted(full.items(), key=lambda i: (-i[1], i[0]))[:3])
            raise BackupError(
                f"the database is not empty ({len(full)} tables hold rows: {named}{' …' if len(full) > 3 else ''}); "
                "restore only into an empty database")
        foreign = foreign_objects()
        if foreign:
            raise BackupError(
                f"the database holds what Louzhang did not make ({', '.join(foreign[:3])}"
                f"{' …' if len(foreign) > 3 else ''}), which restoring would drop; restore only into "
                "a database that is empty or freshly initialised by `louzhang init`")
        where = Path(str(connection.settings_dict["NAME"])).parent if kind == "sqlite" else None
        with tempfile.TemporaryDirectory(prefix=".louzhang-restore.", dir=where) as work:
            _say(progress, f"checking {path.name} …")
            copy = _extract(tar, manifest, Path(work), path)
            _say(progress, f"restoring the {ENGINE_NAMES[kind]} database of {manifest.get('created_at')} …")
            if kind == "sqlite":
                _restore_sqlite(copy)
            else:
                _restore_postgresql(copy)
    connection.close()
    expected: dict[str, int] = {str(k): int(v) for k, v in (manifest.get("tables") or {}).items()}
    found = current_counts()
    wrong = [f"{t}: {found.get(t, 'missing')} rows, the backup says {n}"
             for t, n in expected.items() if found.get(t) != n]
    if wrong:
        raise BackupError(f"restored, but the rows differ from the backup's: {'; '.join(wrong[:3])}")
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    migrated = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
    if migrated:
        _say(progress, f"migrating the restored database forward ({len(migrated)} migrations) …")
        call_command("migrate", interactive=False, verbosity=0)
    return RestoreSummary(path=path, engine=kind, created_at=str(manifest.get("created_at")),
                          louzhang_version=str(manifest.get("louzhang_version")), tables=expected,
                          migrated=migrated, seconds=time.monotonic() - started)
