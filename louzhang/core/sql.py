"""Plain batched SQL for the hot paths (imports, device ingest), where the ORM's per-object cost
would dominate once validation is done."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
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


def insert_returning(model: Any, columns: list[str], rows: list[tuple[Any, ...]],
                     returning: list[str]) -> list[tuple[Any, ...]]:
    """Like `insert`, in as few statements as the database takes (PostgreSQL: one, of arrays
    unnested; SQLite: multi-row VALUES up to its parameter limit), returning the `returning`
    columns of the rows stored (a row skipped for a conflict is not returned)."""
    if not rows:
        return []
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(c) for c in columns)
    back = ", ".join(ops.quote_name(c) for c in returning)
    if connection.vendor == "postgresql":
        # one array per column, unnested into rows: PostgreSQL plans 14 parameters at once
        # instead of 7,000 (a multi-row VALUES of 500 rows took three times as long)
        fields = {f.attname: f for f in model._meta.concrete_fields}
        arrays = ", ".join(f"%s::{fields[c].db_type(connection)}[]" for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) "  # noqa: S608
                f"ON CONFLICT DO NOTHING RETURNING {back}",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return list(cursor.fetchall())
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per_statement = max(1, _max_parameters() // len(columns))
    stored: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([marks] * len(chunk))} "  # noqa: S608
                f"ON CONFLICT DO NOTHING RETURNING {back}",
                [value for row in chunk for value in row],
            )
            stored.extend(cursor.fetchall())
    return stored


def _max_parameters() -> int:
    """Bound parameters one statement may carry: SQLite's compiled limit (32,766 since 3.32;
    Django assumes the old 999), PostgreSQL's wire protocol 65,535."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return int(connection.features.max_query_params or 65_535)


def db_datetime(value: datetime) -> Any:
    """An aware datetime as the database column takes it: what Django's
    `adapt_datetimefield_value` gives (naive UTC text on SQLite, the value itself on PostgreSQL),
    without its per-call checks — it is called once per record on the ingest paths."""
    if connection.vendor == "sqlite":
        return str(value.astimezone(UTC).replace(tzinfo=None))
    return value


def update_later(model: Any, column: str, values: dict[int, datetime]) -> None:
    """Set the datetime `column` of each row of `model` (by primary key) to its value in
    `values`, where the row holds none yet or an earlier one (a car's last sighting): the rows
    in key order, on PostgreSQL in one statement of arrays unnested, on SQLite (no round trips
    to save) in one executemany."""
    if not values:
        return
    ops = connection.ops
    table, pk = ops.quote_name(model._meta.db_table), ops.quote_name(model._meta.pk.column)
    field = model._meta.get_field(column)
    name = ops.quote_name(field.column)
    keys = sorted(values)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET {name} = v.value FROM unnest(%s::{model._meta.pk.db_type(connection)}[], "  # noqa: S608
                f"%s::{field.db_type(connection)}[]) AS v(key, value) "
                f"WHERE {table}.{pk} = v.key AND ({table}.{name} IS NULL OR {table}.{name} < v.value)",
                [keys, [values[key] for key in keys]],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET {name} = %s WHERE {pk} = %s AND ({name} IS NULL OR {name} < %s)",  # noqa: S608
                [(db_datetime(values[key]), key, db_datetime(values[key])) for key in keys],
            )


def advisory_locks(names: Iterable[str]) -> None:
    """On PostgreSQL, take a transaction-level advisory lock on each of `names` (a stable hash of
    each), all in one order, until the transaction ends: two transactions over the same names
    meet at the first they share and the second waits there. Nothing on SQLite (one writer)."""
    if connection.vendor != "postgresql":
        return
    locks = sorted({int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
                    for name in names})
    if not locks:
        return
    with connection.cursor() as cursor:
        # unnest yields the sorted array in order; a volatile function is evaluated after ORDER BY
        cursor.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k", [locks])
