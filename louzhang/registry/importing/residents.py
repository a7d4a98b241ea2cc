"""Importing residents (居民) from a community's spreadsheet.

Every row is validated on its own; a bad row is written to the rejects file with its row number,
column and reason, and the good rows are kept. Rows are written in batches, each in one
transaction, so an interrupted import leaves whole rows only; running it again completes it.
People are matched by ID number: importing the same file again changes nothing, a corrected file
updates the people it names. Buildings, units and households named by the rows are created under
their compound when missing; the compound itself must exist.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from louzhang.areas.jurisdiction import Jurisdiction, jurisdiction_for
from louzhang.areas.models import Area, Level, build_path
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone
from louzhang.registry.addresses import HouseholdAddress, household_address, parse_address
from louzhang.registry.importing.tables import RESIDENT_HEADERS, Table, TableError, open_table
from louzhang.registry.models import Resident

BATCH = 5000
RESIDENCY = {
    "常住": Resident.Residency.PERMANENT, "常住人口": Resident.Residency.PERMANENT,
    "户籍": Resident.Residency.PERMANENT, "本地": Resident.Residency.PERMANENT,
    "暂住": Resident.Residency.TEMPORARY, "暂住人口": Resident.Residency.TEMPORARY,
    "流动": Resident.Residency.TEMPORARY, "流动人口": Resident.Residency.TEMPORARY,
    "租户": Resident.Residency.TENANT, "租住": Resident.Residency.TENANT,
    "出租": Resident.Residency.TENANT,
}
GENDER = {"男": "M", "女": "F", "M": "M", "F": "F", "男性": "M", "女性": "F"}


class ImportFileError(Exception):
    """The file cannot be imported at all; the message names the problem."""


@dataclass
class Rejection:
    row: int
    column: str
    reason: str
    cells: list[Any]


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

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected,
                "rejects_file": self.rejects_file}


@dataclass
class _Row:
    number: int
    cells: list[Any]
    name: str
    gender: str
    birth_date: Any
    id_number: str
    phone: str
    residency: str
    note: str
    compound: Area
    address: HouseholdAddress


class _Reject(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def import_residents(
    path: Path,
    *,
    actor: Any = None,
    compound_code: str | None = None,
    rejects_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import a residents file. `actor` None is the operator (no jurisdiction limit)."""
    started = time.monotonic()
    try:
        table = open_table(path, RESIDENT_HEADERS, {"name", "id_number"})
    except TableError as exc:
        raise ImportFileError(str(exc)) from None
    has_address = "address" in table.columns or {"building", "unit", "room"} <= set(table.columns)
    if not has_address:
        raise ImportFileError(f"{path.name}: needs a 住址 column, or 楼号, 单元 and 门牌号 columns")
    jurisdiction = jurisdiction_for(actor) if actor is not None else Jurisdiction(everything=True, paths=())
    compounds = _Compounds(jurisdiction)
    fixed_compound = None
    if compound_code:
        fixed_compound = compounds.by_code(compound_code)
        if fixed_compound is None:
            raise ImportFileError(f"--compound {compound_code}: no such compound in your jurisdiction")
    elif "compound" not in table.columns:
        raise ImportFileError(f"{path.name}: no 小区 column; give the compound with --compound CODE")

    summary = ImportSummary()
    try:
        _read_rows(table, summary, compounds, fixed_compound, jurisdiction, actor is not None, progress)
    except TableError as exc:
        raise ImportFileError(
            f"{exc} ({summary.created + summary.updated} rows before it were saved; "
            "importing the fixed file again completes the rest)"
        ) from None
    summary.rejected = len(summary.rejections)
    if summary.rejections:
        target = rejects_path or path.with_name(f"{path.stem}-rejects.csv")
        _write_rejects(target, table, summary.rejections)
        summary.rejects_file = str(target)
    summary.seconds = time.monotonic() - started
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, object_type="registry.import",
        summary=f"{path.name}: {summary.created} created, {summary.updated} updated, "
                f"{summary.rejected} rejected",
        area_path=next((a.path for a in (fixed_compound, compounds.first_used) if a), ""),
        detail=summary.as_dict(),
    )
    return summary


def _read_rows(
    table: Table, summary: ImportSummary, compounds: _Compounds, fixed_compound: Area | None,
    jurisdiction: Jurisdiction, scoped: bool, progress: Callable[[int], None] | None,
) -> None:
    seen: dict[str, int] = {}
    batch: list[_Row] = []
    for number, cells in table.rows:
        if not any(str(c or "").strip() for c in cells):
            continue  # blank line
        summary.read += 1
        try:
            row = _validate(number, cells, table, compounds, fixed_compound, jurisdiction, summary)
            if row.id_number in seen:
                raise _Reject("身份证号", f"same ID number as row {seen[row.id_number]}")
            seen[row.id_number] = number
            batch.append(row)
        except _Reject as exc:
            summary.rejections.append(Rejection(number, exc.column, exc.reason, cells))
        if len(batch) >= BATCH:
            _write(batch, summary, jurisdiction, scoped)
            batch = []
        if progress and summary.read % 500 == 0:
            progress(500)
    if batch:
        _write(batch, summary, jurisdiction, scoped)
    if progress:
        progress(summary.read % 500)


class _Compounds:
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

    def by_name(self, name: str) -> list[Area]:
        if self._names is None:
            self._names = {}
            for area in Area.objects.filter(level=Level.COMPOUND).only("id", "code", "name", "path"):
                if self.jurisdiction.navigable(area.path):
                    self._names.setdefault(area.name, []).append(area)
        return self._names.get(name, [])


def _cell(cells: list[Any], table: Table, field_name: str) -> Any:
    index = table.columns.get(field_name)
    if index is None or index >= len(cells):
        return None
    return cells[index]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _validate(
    number: int, cells: list[Any], table: Table, compounds: _Compounds, fixed: Area | None,
    jurisdiction: Jurisdiction, summary: ImportSummary,
) -> _Row:
    name = _text(_cell(cells, table, "name"))
    if not name:
        raise _Reject("姓名", "name is empty")
    if len(name) > 50:
        raise _Reject("姓名", "name longer than 50 characters")
    try:
        identity = parse_id_number(_cell(cells, table, "id_number"))
    except IdentifierError as exc:
        raise _Reject("身份证号", str(exc)) from None
    summary.warnings += len(identity.warnings)
    gender_text = _text(_cell(cells, table, "gender"))
    if gender_text:
        gender = GENDER.get(gender_text.upper())
        if gender is None:
            raise _Reject("性别", f"gender {gender_text!r} is not 男 or 女")
        if gender != identity.gender:
            raise _Reject("性别", f"gender {gender_text} contradicts the ID number")
    phone_raw = _cell(cells, table, "phone")
    phone = ""
    if _text(phone_raw):
        try:
            phone = normalise_phone(phone_raw if not isinstance(phone_raw, int) else str(phone_raw))
        except IdentifierError as exc:
            raise _Reject("手机号", str(exc)) from None
    residency_text = _text(_cell(cells, table, "residency"))
    residency = Resident.Residency.PERMANENT
    if residency_text:
        mapped = RESIDENCY.get(residency_text)
        if mapped is None:
            raise _Reject("人员类型", f"{residency_text!r} is not 常住, 暂住 or 租户")
        residency = mapped
    compound = fixed
    if compound is None:
        compound_text = _text(_cell(cells, table, "compound"))
        if not compound_text:
            raise _Reject("小区", "compound is empty")
        compound = compounds.by_code(compound_text)
        if compound is None:
            named = compounds.by_name(compound_text)
            if len(named) > 1:
                raise _Reject("小区", f"{len(named)} compounds are called {compound_text}: use its code")
            if not named:
                raise _Reject("小区", f"no compound {compound_text!r} in your jurisdiction")
            compound = named[0]
        compounds.first_used = compounds.first_used or compound
    try:
        if "address" in table.columns and _text(_cell(cells, table, "address")):
            address = parse_address(_text(_cell(cells, table, "address")))
        else:
            address = household_address(
                _text(_cell(cells, table, "building")), _text(_cell(cells, table, "unit")),
                None, None, _text(_cell(cells, table, "room")),
            )
    except IdentifierError as exc:
        raise _Reject("住址", str(exc)) from None
    if not jurisdiction.covers(_household_path(compound, address)):
        raise _Reject("住址", "household outside your jurisdiction")
    note = _text(_cell(cells, table, "note"))[:200]
    return _Row(number, cells, name, identity.gender, identity.birth_date, identity.number,
                phone, residency, note, compound, address)


def _codes(compound: Area, address: HouseholdAddress) -> tuple[str, str, str]:
    building = f"{compound.code}-{address.building}"
    unit = f"{building}-{address.unit}"
    return building, unit, f"{unit}-{address.local_code}"


def _household_path(compound: Area, address: HouseholdAddress) -> str:
    building, unit, household = _codes(compound, address)
    return f"{compound.path}{building}/{unit}/{household}/"


def _insert(model: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Plain batched INSERT: validation is done, and the ORM's per-object cost would dominate."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _ids_by_code(codes: Iterable[str]) -> dict[str, int]:
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


def _ensure_households(rows: Iterable[_Row]) -> dict[str, int]:
    """Household ids by code, creating missing buildings, units and households."""
    wanted: dict[str, tuple[Area, HouseholdAddress]] = {}
    for row in rows:
        wanted[_codes(row.compound, row.address)[2]] = (row.compound, row.address)
    existing = _ids_by_code(wanted)
    missing = {code: v for code, v in wanted.items() if code not in existing}
    if not missing:
        return existing
    # (code, name, level, parent code or id, path, ordinal) per level, parents first
    levels: list[dict[str, tuple[str, int, Any, str, int]]] = [{}, {}, {}]
    for compound, address in missing.values():
        b_code, u_code, h_code = _codes(compound, address)
        b_path = build_path(compound, b_code)
        u_path = f"{b_path}{u_code}/"
        levels[0][b_code] = (f"{address.building}号楼", Level.BUILDING, compound.pk, b_path,
                             _ordinal(address.building))
        levels[1][u_code] = (_unit_name(address.unit), Level.UNIT, b_code, u_path, address.unit)
        levels[2][h_code] = (address.name, Level.HOUSEHOLD, u_code, f"{u_path}{h_code}/",
                             address.floor * 100 + address.door)
    ids: dict[str, int] = {}
    for areas in levels:
        known = _ids_by_code(areas)
        new = [
            (code, name, level, parent if isinstance(parent, int) else ids[parent], path, ordinal)
            for code, (name, level, parent, path, ordinal) in areas.items() if code not in known
        ]
        _insert(Area, ["code", "name", "level", "parent_id", "path", "ordinal"], new)
        ids.update(known)
        ids.update(_ids_by_code(n[0] for n in new))
    existing.update({code: ids[code] for code in missing})
    return existing


def _ordinal(building: str) -> int:
    digits = "".join(c for c in building if c.isdigit())
    return int(digits) if digits else 0


def _unit_name(unit: int) -> str:
    numerals = "零一二三四五六七八九十"
    return f"{numerals[unit]}单元" if unit <= 10 else f"{unit}单元"


_FIELDS = ("name", "gender", "birth_date", "phone", "household_id", "residency", "note")


def _write(rows: list[_Row], summary: ImportSummary, jurisdiction: Jurisdiction, scoped: bool) -> None:
    now = timezone.now()
    with transaction.atomic():
        households = _ensure_households(rows)
        existing = {
            r[1]: r for r in Resident.objects.filter(id_number__in=[row.id_number for row in rows])
            .values_list("id", "id_number", *_FIELDS, "household__path")
        }
        to_create: list[tuple[Any, ...]] = []
        to_update: list[tuple[Any, ...]] = []
        for row in rows:
            values = (row.name, row.gender, row.birth_date, row.phone,
                      households[_codes(row.compound, row.address)[2]], row.residency, row.note)
            person = existing.get(row.id_number)
            if person is None:
                to_create.append((row.id_number, *values, False, now, now))
                continue
            if scoped and not jurisdiction.covers(person[-1]):
                # registered elsewhere: never move or reveal a person outside the importer's area
                summary.rejections.append(Rejection(
                    row.number, "身份证号", "this person is registered outside your jurisdiction", row.cells))
                continue
            if tuple(person[2:-1]) == values:
                summary.unchanged += 1
                continue
            to_update.append((*values, now, person[0]))
        _insert(Resident, ["id_number", *_FIELDS, "is_head", "created_at", "updated_at"], to_create)
        if to_update:
            table = connection.ops.quote_name(Resident._meta.db_table)
            assignments = ", ".join(f"{connection.ops.quote_name(f)} = %s" for f in (*_FIELDS, "updated_at"))
            with connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", to_update)  # noqa: S608
        summary.created += len(to_create)
        summary.updated += len(to_update)


def _write_rejects(target: Path, table: Table, rejections: list[Rejection]) -> None:
    """The rejected rows as they were, with where and why: fix them and import this file again."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["原行号", "错误列", "错误原因", *table.headers])
        for r in sorted(rejections, key=lambda r: r.row):
            writer.writerow([r.row, r.column, r.reason, *[_text(c) for c in r.cells]])
