"""Plain batched SQL for the hot paths (imports, device ingest), where the ORM's per-object cost
would dominate once validation is done."""

from __future__ import annotations

from typing import Any

from django.db import connection


def insert(model: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Plain batched INSERT of `rows` (values ready for the database) into `model`'s table.

    A row whose unique key another writer has just inserted (the same person, car, household or
    device record) is skipped, not an error: that writer stored the same thing, and importing or
    sending again reconciles any difference.
    """
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING", rows  # noqa: S608
        )
