"""What every benchmark does first: a fresh database of its own, migrated, Django set up."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def fresh_database(database_url: str | None, prefix: str) -> Path:
    """Set up Django on an empty database: a new SQLite file under a temporary var/ directory, or
    the PostgreSQL database named in `database_url`, dropped and recreated. Returns var/."""
    var = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["LOUZHANG_VAR_DIR"] = str(var)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        _recreate_postgres(database_url)
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "louzhang.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return var


def _recreate_postgres(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = f"host={parsed.hostname} port={parsed.port or 5432} user={parsed.username} dbname=postgres"
    if parsed.password:
        admin += f" password={parsed.password}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """`fn()` run `repeat` times: the median and the 99th percentile, in milliseconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.99) - 1, 0)]
