"""What every import shares: reading rows, rejecting bad ones with their reasons, writing the
rejects file, the summary, the audit event. Each kind (residents, vehicles …) supplies a function
that validates one row and one that writes a batch of valid rows."""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.access.jurisdiction import EVERYTHING, Jurisdiction, jurisdiction_for
from louzhang.access.roles import may_import
from louzhang.areas.models import Area, Level
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.core.sheets import clip, csv_row
from louzhang.identifiers import IdentifierError
from louzhang.registry.importing.tables import (
    MAX_COLUMNS,
    Table,
    TableError,
    open_table,
    row_problem,
)

BATCH = 5000
#: what a rejects file (and the memory that holds it until then) keeps of a value or a reason
ECHO_CHARS = 200
REASON_CHARS = 300
logger = logging.getLogger("louzhang.import")
R = TypeVar("R")
T = TypeVar("T")


class ImportFileError(Exception):
    """The file cannot be imported at all; the message names the problem."""


@dataclass
class Rejection:
    """A rejected row: where and why, and its cells as they were — each value cut to
    `ECHO_CHARS` (a rejects file never echoes a huge value in full)."""

    row: int
    column: str
    reason: str
    cells: list[Any]

    def __post_init__(self) -> None:
        self.column = clip(self.column, ECHO_CHARS)
        self.reason = clip(self.reason, REASON_CHARS)
        self.cells = [clip(c, ECHO_CHARS) if isinstance(c, str) else c for c in self.cells[:MAX_COLUMNS]]


@dataclass
class ImportSummary:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects_file: str | None = None
    seconds: float = 0.0
    warnings: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    #: keys (ID numbers, plates) a scoped importer named that are registered elsewhere: audited,
    #: so probing the registry through imports shows up in the log
    conflicts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected,
                "rejects_file": self.rejects_file}


class RowRejected(Exception):
    """Raised by a row validator: which column is wrong and why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class Compounds:
    """Compounds by code and by name, limited to the importer's jurisdiction (a compound a
    warden's grants lead to is usable; rows are then checked household by household)."""

    def __init__(self, jurisdiction: Jurisdiction) -> None:
        self.jurisdiction = jurisdiction
        self._codes: dict[str, Area | None] = {}
        self._names: dict[str, list[Area]] | None = None
        #: the first compound a row named, to file the import's audit event under
        self.first_used: Area | None = None

    def by_code(self, code: str) -> Area | None:
        if code not in self._codes:
            area = Area.objects.filter(code=code, level=Level.COMPOUND).first()
            self._codes[code] = area if area and self.jurisdiction.navigable(area.path) else None
        return self._codes[code]

    def resolve_with(self, fixed: Area | None, name_or_code: str) -> Area:
        """The row's compound; with --compound, a row naming another compound is rejected."""
        if fixed is None:
            return self.resolve(name_or_code)
        if name_or_code and name_or_code not in (fixed.code, fixed.name):
            raise RowRejected("小区", _("row names %(name)s but the import is for %(fixed)s (--compound)") % {"name": name_or_code, "fixed": fixed.name})
        return fixed

    def resolve(self, name_or_code: str) -> Area:
        """The compound a row names, by code or by name; RowRejected (小区) if none or several."""
        if not name_or_code:
            raise RowRejected("小区", _("compound is empty"))
        compound = self.by_code(name_or_code)
        if compound is None:
            named = self.by_name(name_or_code)
            if len(named) > 1:
                raise RowRejected("小区", _("%(n)d compounds are called %(name)s: use its code") % {"n": len(named), "name": name_or_code})
            if not named:
                raise RowRejected("小区", _("no compound %(name)s in your jurisdiction") % {"name": name_or_code})
            compound = named[0]
        self.first_used = self.first_used or compound
        return compound

    def by_name(self, name: str) -> list[Area]:
        if self._names is None:
            self._names = {}
            for area in Area.objects.filter(level=Level.COMPOUND).only("id", "code", "name", "path"):
                if self.jurisdiction.navigable(area.path):
                    self._names.setdefault(area.name, []).append(area)
        return self._names.get(name, [])


def checked(column: str, parse: Callable[[Any], T], value: Any) -> T:
    """`parse(value)`, an IdentifierError becoming the row's rejection in `column`."""
    try:
        return parse(value)
    except IdentifierError as exc:
        raise RowRejected(column, str(exc)) from None


def keep_registered(values: tuple[Any, ...], current: tuple[Any, ...], kept: list[int]) -> tuple[Any, ...]:
    """`values` with the positions in `kept` (fields the file has no column for) taken from the
    registered record `current`, so a file without a phone column does not wipe phones."""
    if not kept:
        return values
    merged = list(values)
    for index in kept:
        merged[index] = current[index]
    return tuple(merged)


def cell(cells: list[Any], table: Table, field_name: str) -> Any:
    """The row's value of a canonical field (None when the file has no such column)."""
    index = table.columns.get(field_name)
    if index is None or index >= len(cells):
        return None
    return cells[index]


def text(value: Any) -> str:
    """A cell as text: stripped, an XLSX whole number without its ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def ids_by_code(codes: Iterable[str]) -> dict[str, int]:
    """Area ids by code: one plain query (the ORM's per-value cost shows on 2,000-code batches)."""
    codes = list(codes)
    if not codes:
        return {}
    table = connection.ops.quote_name(Area._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT code, id FROM {table} WHERE code IN ({', '.join(['%s'] * len(codes))})",  # noqa: S608
            codes,
        )
        return dict(cursor.fetchall())


def now_for_db() -> Any:
    """The current time as the ORM would store it (naive UTC text on SQLite)."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


def run_update(model: Any, fields: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Plain batched UPDATE … WHERE id = the last value of each row."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f)} = %s" for f in fields)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)  # noqa: S608


def open_for_import(
    path: Path, headers: dict[str, tuple[str, ...]], required: set[str], *, actor: Any,
    compound_code: str | None, name: str | None = None,
) -> tuple[Table, Jurisdiction, Compounds, Area | None]:
    """The table, the importer's jurisdiction and compounds, and the compound named by
    --compound; ImportFileError when the file as a whole cannot be used, or when `actor` (None:
    the operator) may not import at all. `name`: the file's name as the user knows it."""
    if actor is not None and not may_import(actor):
        raise ImportFileError(_("%(user)s may not import: imports are for wardens and commanders")
                              % {"user": actor.get_username()})
    try:
        table = open_table(path, headers, required, name=name)
    except TableError as exc:
        raise ImportFileError(str(exc)) from None
    jurisdiction = jurisdiction_for(actor) if actor is not None else EVERYTHING
    compounds = Compounds(jurisdiction)
    fixed = None
    if compound_code:
        fixed = compounds.by_code(compound_code)
        if fixed is None:
            raise ImportFileError(_("--compound %(code)s: no such compound in your jurisdiction") % {"code": compound_code})
    elif "compound" not in table.columns:
        raise ImportFileError(_("%(file)s: no 小区 column; give the compound with --compound CODE") % {"file": table.name})
    return table, jurisdiction, compounds, fixed


@dataclass
class Importer(Generic[R]):
    """One import run: `validate(number, cells)` returns a row or raises RowRejected;
    `key(row)` identifies it (a second row with the same key is rejected); `write(rows,
    summary)` stores a batch inside a transaction and counts created/updated/unchanged."""

    kind: str
    table: Table
    validate: Callable[[int, list[Any]], R]
    key: Callable[[R], str]
    key_column: str
    write: Callable[[list[R], ImportSummary], None]
    progress: Callable[[int], None] | None = None
    summary: ImportSummary = field(default_factory=ImportSummary)

    def run(self) -> ImportSummary:
        started = time.monotonic()
        try:
            self._rows()
        except TableError as exc:
            raise ImportFileError(_(
                "%(error)s (%(saved)d rows before it were saved; importing the fixed file again "
                "completes the rest)") % {"error": exc, "saved": self.summary.created + self.summary.updated}
            ) from None
        self.summary.rejected = len(self.summary.rejections)
        self.summary.seconds = time.monotonic() - started
        return self.summary

    def _rows(self) -> None:
        seen: dict[str, int] = {}
        batch: list[R] = []
        summary = self.summary
        for number, cells in self.table.rows:
            if not any(str(c or "").strip() for c in cells):
                continue  # blank line
            summary.read += 1
            try:
                problem = row_problem(cells)
                if problem:
                    raise RowRejected(*problem)
                row = self.validate(number, cells)
                key = self.key(row)
                if key in seen:
                    raise RowRejected(self.key_column, _("same %(column)s as row %(row)d") % {"column": self.key_column, "row": seen[key]})
                seen[key] = number
                batch.append(row)
                summary.warnings += getattr(row, "warnings", 0)
            except RowRejected as exc:
                summary.rejections.append(Rejection(number, exc.column, exc.reason, cells))
            except (ValueError, TypeError, OverflowError, KeyError) as exc:
                # a cell no validator foresaw must cost its row, never the whole import
                logger.warning("import %s row %s: %r", self.kind, number, exc)
                summary.rejections.append(Rejection(number, "", _("value not understood (%(error)s)") % {"error": exc.__class__.__name__}, cells))
            if len(batch) >= BATCH:
                self._write(batch)
                batch = []
            if self.progress and summary.read % 500 == 0:
                self.progress(500)
        if batch:
            self._write(batch)
        if self.progress:
            self.progress(summary.read % 500)

    def _write(self, batch: list[R]) -> None:
        with transaction.atomic():
            self.write(batch, self.summary)


def run_and_finish(
    importer: Importer[Any], *, path: Path, actor: Any, rejects_path: Path | None,
    area: Callable[[], Area | None],
) -> ImportSummary:
    """Run, then write the rejects file and the audit event — also when the run stopped half
    way (what was saved before is on record)."""
    try:
        return importer.run()
    finally:
        finish(importer, path=path, actor=actor, rejects_path=rejects_path, area=area())


def finish(
    importer: Importer[Any], *, path: Path, actor: Any, rejects_path: Path | None, area: Area | None
) -> ImportSummary:
    """Write the rejects file and the audit event of a run."""
    summary = importer.summary
    summary.rejected = len(summary.rejections)
    if summary.rejections:
        target = rejects_path or path.with_name(f"{path.stem}-rejects.csv")
        write_rejects(target, importer.table, summary.rejections)
        summary.rejects_file = str(target)
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, object_type=f"registry.import.{importer.kind}",
        summary=f"{clip(importer.table.name, 100)}: {summary.created} created, {summary.updated} updated, "
                f"{summary.rejected} rejected",
        area_path=area.path if area else "",
        detail={**summary.as_dict(), "file": importer.table.name, "conflicts": summary.conflicts[:1000]},
    )
    return summary


def write_rejects(target: Path, table: Table, rejections: list[Rejection]) -> None:
    """The rejected rows as they were, with where and why: fix them and import this file again.
    Every cell is data (`csv_row`: a value typed as a formula does not run when the file is
    opened), each echoed value cut to `ECHO_CHARS`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_row(["原行号", "错误列", "错误原因", *[clip(h, ECHO_CHARS) for h in table.headers]]))
        for r in sorted(rejections, key=lambda r: r.row):
            writer.writerow(csv_row([r.row, r.column, r.reason, *[text(c) for c in r.cells]]))
