"""The plain-SQL helpers of the ingest hot path agree with what the ORM would write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from louzhang.accounts.models import User
from louzhang.core.sql import db_datetime, insert_returning
from louzhang.gates.models import Gate, GateRecord
from tests.conftest import BAOLI

pytestmark = pytest.mark.django_db
COLUMNS = ["gate_id", "client_id", "recorded_by_id", "direction", "at", "temperature", "method",
           "visitor_name", "visitor_phone", "visitor_id_number", "visitor_reason", "visiting", "created_at"]


@pytest.mark.parametrize("value", [
    datetime(2020, 1, 28, 8, 15, tzinfo=timezone(timedelta(hours=8))),
    datetime(2020, 1, 28, 8, 15, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
    datetime(2020, 1, 27, 23, 59, 59, tzinfo=UTC),
    datetime(2020, 1, 28, 1, 0, tzinfo=timezone(timedelta(hours=-5))),
])
def test_db_datetime_is_what_django_stores(value: datetime) -> None:
    assert db_datetime(value) == connection.ops.adapt_datetimefield_value(value)


def test_insert_returning_returns_only_the_rows_it_stored(gate: User) -> None:
    east = Gate.objects.get(code=f"{BAOLI}-E")
    columns = COLUMNS
    now = db_datetime(datetime.now(UTC))

    def row(client_id: str) -> tuple[object, ...]:
        return (east.pk, client_id, gate.pk, "in", now, "36.5", "forehead", "访客", "", "", "", "", now)

    first = insert_returning(GateRecord, columns, [row("a"), row("b")], ["client_id", "id"])
    assert sorted(c for c, _ in first) == ["a", "b"]
    # another writer stored "b" first: only "c" comes back, and "b" is not stored twice
    again = insert_returning(GateRecord, columns, [row("b"), row("c")], ["client_id", "id"])
    assert [c for c, _ in again] == ["c"]
    assert GateRecord.objects.filter(recorded_by=gate).count() == 3
    assert dict(first)["a"] == GateRecord.objects.get(client_id="a").pk


def test_insert_returning_splits_what_one_statement_cannot_carry(gate: User, monkeypatch: pytest.MonkeyPatch) -> None:
    import louzhang.core.sql

    monkeypatch.setattr(louzhang.core.sql, "_max_parameters", lambda: 30)  # two rows a statement
    east = Gate.objects.get(code=f"{BAOLI}-E")
    now = db_datetime(datetime.now(UTC))
    rows = [(east.pk, f"r{n}", gate.pk, "out", now, "36.6", "wrist", "访客", "", "", "", "", now)
            for n in range(5)]
    stored = insert_returning(GateRecord, COLUMNS, rows, ["client_id"])
    assert sorted(stored) == [(f"r{n}",) for n in range(5)]
