"""Importing residents (居民) from a community's spreadsheet.

Every row is validated on its own; a bad row is written to the rejects file with its row number,
column and reason, and the good rows are kept. Rows are written in batches, each in one
transaction, so an interrupted import leaves whole rows only; running it again completes it.
People are matched by ID number: importing the same file again changes nothing, a corrected file
updates the people it names. Buildings, units and households named by the rows are created under
their compound when missing; the compound itself must exist.

A flat is found however its address is written (34-2-601, 34号楼二单元601室 …: one household
code). A side (6楼西户) and a room number (601室) are not the same code, and which room a side
is differs from town to town: a row naming a flat one way on a floor of a unit whose flats are
recorded the other way is rejected, saying how that floor is recorded, rather than adding the
same flat a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from louzhang.access.jurisdiction import Jurisdiction
from louzhang.areas.models import Area, Level, build_path
from louzhang.core.paths import AreaPath
from louzhang.core.sql import insert
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone
from louzhang.registry.addresses import (
    HouseholdAddress,
    household_address,
    parse_address,
    recorded_local,
)
from louzhang.registry.care import parse_care_tags
from louzhang.registry.importing.engine import (
    Compounds,
    Importer,
    ImportFileError,
    ImportSummary,
    Rejection,
    RowRejected,
    cell,
    checked,
    ids_by_code,
    keep_registered,
    now_for_db,
    open_for_import,
    run_and_finish,
    run_update,
    text,
)
from louzhang.registry.importing.tables import RESIDENT_HEADERS, Table
from louzhang.registry.models import Resident

RESIDENCY = {
    "常住": Resident.Residency.PERMANENT, "常住人口": Resident.Residency.PERMANENT,
    "户籍": Resident.Residency.PERMANENT, "本地": Resident.Residency.PERMANENT,
    "暂住": Resident.Residency.TEMPORARY, "暂住人口": Resident.Residency.TEMPORARY,
    "流动": Resident.Residency.TEMPORARY, "流动人口": Resident.Residency.TEMPORARY,
    "租户": Resident.Residency.TENANT, "租住": Resident.Residency.TENANT,
    "出租": Resident.Residency.TENANT,
}
GENDER = {"男": "M", "女": "F", "M": "M", "F": "F", "男性": "M", "女性": "F"}


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
    care_tags: str
    compound: Area
    address: HouseholdAddress
    warnings: int
    #: building, unit and household codes, worked out once
    codes: tuple[str, str, str]


def import_residents(
    path: Path,
    *,
    actor: Any = None,
    compound_code: str | None = None,
    rejects_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
    name: str | None = None,
) -> ImportSummary:
    """Import a residents file. `actor` None is the operator (no jurisdiction limit)."""
    table, jurisdiction, compounds, fixed = open_for_import(
        path, RESIDENT_HEADERS, {"name", "id_number"}, actor=actor, compound_code=compound_code,
        name=name,
    )
    if not ("address" in table.columns or {"building", "unit", "room"} <= set(table.columns)):
        raise ImportFileError(_("%(file)s: needs a 住址 column, or 楼号, 单元 and 门牌号 columns") % {"file": table.name})
    scoped = actor is not None
    importer: Importer[_Row] = Importer(
        kind="residents", table=table, key=lambda row: row.id_number, key_column="身份证号",
        validate=lambda number, cells: _validate(number, cells, table, compounds, fixed, jurisdiction),
        write=lambda rows, summary: _write(rows, summary, jurisdiction, scoped, _kept(table)),
        progress=progress,
    )
    return run_and_finish(importer, path=path, actor=actor, rejects_path=rejects_path,
                          area=lambda: fixed or compounds.first_used)


def _validate(
    number: int, cells: list[Any], table: Table, compounds: Compounds, fixed: Area | None,
    jurisdiction: Jurisdiction,
) -> _Row:
    name = text(cell(cells, table, "name"))
    if not name:
        raise RowRejected("姓名", _("name is empty"))
    if len(name) > 50:
        raise RowRejected("姓名", _("name longer than 50 characters"))
    identity = checked("身份证号", parse_id_number, cell(cells, table, "id_number"))
    gender_text = text(cell(cells, table, "gender"))
    if gender_text:
        gender = GENDER.get(gender_text.upper())
        if gender is None:
            raise RowRejected("性别", _("gender %(text)s is not 男 or 女") % {"text": gender_text})
        if gender != identity.gender:
            raise RowRejected("性别", _("gender %(text)s contradicts the ID number") % {"text": gender_text})
    phone_raw = cell(cells, table, "phone")
    phone = ""
    if text(phone_raw):
        phone = checked("手机号", normalise_phone, str(phone_raw) if isinstance(phone_raw, int) else phone_raw)
    residency_text = text(cell(cells, table, "residency"))
    residency = Resident.Residency.PERMANENT
    if residency_text:
        mapped = RESIDENCY.get(residency_text)
        if mapped is None:
            raise RowRejected("人员类型", _("%(text)s is not 常住, 暂住 or 租户") % {"text": residency_text})
        residency = mapped
    compound = compounds.resolve_with(fixed, text(cell(cells, table, "compound")))
    try:
        if "address" in table.columns and text(cell(cells, table, "address")):
            address = parse_address(text(cell(cells, table, "address")))
        else:
            address = household_address(
                text(cell(cells, table, "building")), text(cell(cells, table, "unit")),
                None, None, text(cell(cells, table, "room")),
            )
    except IdentifierError as exc:
        raise RowRejected("住址", str(exc)) from None
    codes = _codes(compound, address)
    if not jurisdiction.covers(AreaPath(compound.path).child(codes[0]).child(codes[1]).child(codes[2])):
        raise RowRejected("住址", _("household outside your jurisdiction"))
    note = text(cell(cells, table, "note"))
    if len(note) > 200:
        raise RowRejected("备注", _("note longer than 200 characters"))
    care_tags = checked("关怀标签", parse_care_tags, cell(cells, table, "care_tags"))
    return _Row(number, cells, name, identity.gender, identity.birth_date, identity.number,
                phone, residency, note, care_tags, compound, address, len(identity.warnings), codes)


def _written_as_recorded(rows: list[_Row], summary: ImportSummary) -> list[_Row]:
    """The rows, without those that would add a flat as a side (6楼西户) on a floor of its unit
    recorded by room numbers (601室), or the other way round — those are rejected, naming how
    the floor is recorded. Flats already registered, and floors recorded one way only, pass."""
    existing = ids_by_code({row.codes[2] for row in rows})
    new = [row for row in rows if row.codes[2] not in existing]
    if not new:
        return rows
    #: (unit code, floor) -> {is a side: names of its households}
    floors: dict[tuple[str, int], dict[bool, list[str]]] = {}
    recorded = (Area.objects.filter(level=Level.HOUSEHOLD, parent__code__in={row.codes[1] for row in new})
                .values_list("parent__code", "code", "name"))
    for unit_code, code, name in recorded:
        local = recorded_local(code)
        if local is not None:
            floors.setdefault((unit_code, local[0]), {}).setdefault(local[1], []).append(name)
    kept = []
    for row in rows:
        if row.codes[2] not in existing:
            on_floor = floors.setdefault((row.codes[1], row.address.floor), {})
            other = on_floor.get(not row.address.side)
            if other:
                summary.rejections.append(Rejection(
                    row.number, "住址",
                    _("%(flat)s: floor %(floor)d of this unit is recorded as %(recorded)s; write "
                      "the flat the same way, so that it is not registered twice")
                    % {"flat": row.address.name, "floor": row.address.floor,
                       "recorded": "、".join(sorted(set(other))[:6])},
                    row.cells))
                continue
            on_floor.setdefault(row.address.side, []).append(row.address.name)
            existing[row.codes[2]] = 0  # the next row for this flat needs no check
        kept.append(row)
    return kept


def _codes(compound: Area, address: HouseholdAddress) -> tuple[str, str, str]:
    building = f"{compound.code}-{address.building}"
    unit = f"{building}-{address.unit}"
    return building, unit, f"{unit}-{address.local_code}"


def _ensure_households(rows: Iterable[_Row]) -> dict[str, int]:
    """Household ids by code, creating missing buildings, units and households."""
    wanted: dict[str, tuple[Area, HouseholdAddress]] = {}
    for row in rows:
        wanted[row.codes[2]] = (row.compound, row.address)
    existing = ids_by_code(wanted)
    missing = {code: v for code, v in wanted.items() if code not in existing}
    if not missing:
        return existing
    # (code, name, level, parent code or id, path, ordinal) per level, parents first
    levels: list[dict[str, tuple[str, int, Any, str, int]]] = [{}, {}, {}]
    for compound, address in missing.values():
        b_code, u_code, h_code = _codes(compound, address)
        b_path = build_path(compound, b_code)
        u_path = b_path.child(u_code)
        levels[0][b_code] = (f"{address.building}号楼", Level.BUILDING, compound.pk, b_path,
                             _ordinal(address.building))
        levels[1][u_code] = (_unit_name(address.unit), Level.UNIT, b_code, u_path, address.unit)
        levels[2][h_code] = (address.name, Level.HOUSEHOLD, u_code, u_path.child(h_code),
                             address.floor * 100 + address.door)
    ids: dict[str, int] = {}
    for areas in levels:
        known = ids_by_code(areas)
        new = [
            (code, name, level, parent if isinstance(parent, int) else ids[parent], path, ordinal)
            for code, (name, level, parent, path, ordinal) in areas.items() if code not in known
        ]
        insert(Area, ["code", "name", "level", "parent_id", "path", "ordinal"], new)
        ids.update(known)
        ids.update(ids_by_code(n[0] for n in new))
    existing.update({code: ids[code] for code in missing})
    return existing


def _ordinal(building: str) -> int:
    digits = "".join(c for c in building if c.isdigit())
    return int(digits) if digits else 0


def _unit_name(unit: int) -> str:
    numerals = "零一二三四五六七八九十"
    return f"{numerals[unit]}单元" if unit <= 10 else f"{unit}单元"


_FIELDS = ("name", "gender", "birth_date", "phone", "household_id", "residency", "note", "care_tags")


def _kept(table: Table) -> list[int]:
    """Positions in _FIELDS of the optional fields the file has no column for: a file without a
    phone column must not wipe the phones already registered."""
    optional = {"phone": "phone", "residency": "residency", "note": "note", "care_tags": "care_tags"}
    return [_FIELDS.index(f) for f, column in optional.items() if column not in table.columns]


def _write(
    rows: list[_Row], summary: ImportSummary, jurisdiction: Jurisdiction, scoped: bool, kept: list[int]
) -> None:
    now = now_for_db()
    existing = {
        r[1]: r for r in Resident.objects.filter(id_number__in=[row.id_number for row in rows])
        .values_list("id", "id_number", *_FIELDS, "household__path")
    }
    if scoped:
        # a person registered outside the importer's area is never moved, overwritten or
        # located (the attempt is audited), and no household is made for that row
        kept_rows = []
        for row in rows:
            person = existing.get(row.id_number)
            if person is not None and not jurisdiction.covers(person[-1]):
                summary.conflicts.append(row.id_number)
                summary.rejections.append(Rejection(
                    row.number, "身份证号",
                    _("cannot be registered from your jurisdiction; ask the police station"),
                    row.cells))
            else:
                kept_rows.append(row)
        rows = kept_rows
    rows = _written_as_recorded(rows, summary)
    households = _ensure_households(rows)
    to_create: list[tuple[Any, ...]] = []
    to_update: list[tuple[Any, ...]] = []
    for row in rows:
        values = (row.name, row.gender, row.birth_date, row.phone,
                  households[row.codes[2]], row.residency, row.note,
                  row.care_tags)
        person = existing.get(row.id_number)
        if person is None:
            to_create.append((row.id_number, *values, False, now, now))
            continue
        values = keep_registered(values, person[2:-1], kept)
        if tuple(person[2:-1]) == values:
            summary.unchanged += 1
            continue
        to_update.append((*values, now, person[0]))
    insert(Resident, ["id_number", *_FIELDS, "is_head", "created_at", "updated_at"], to_create)
    run_update(Resident, [*_FIELDS, "updated_at"], to_update)
    summary.created += len(to_create)
    summary.updated += len(to_update)


