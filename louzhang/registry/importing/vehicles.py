"""Importing residents' vehicles (车辆) from a community's spreadsheet.

Vehicles are matched by plate: importing again changes nothing, a corrected file updates the
cars it names. An owner given by ID number must be a registered resident of the importer's
jurisdiction; without it, the owner's name and phone are kept as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from louzhang.access.jurisdiction import Jurisdiction
from louzhang.areas.models import Area
from louzhang.core.sql import insert
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone
from louzhang.identifiers.plates import parse_plate
from louzhang.registry.importing.engine import (
    Compounds,
    Importer,
    ImportSummary,
    Rejection,
    RowRejected,
    cell,
    checked,
    keep_registered,
    now_for_db,
    open_for_import,
    run_and_finish,
    run_update,
    text,
)
from louzhang.registry.importing.tables import VEHICLE_HEADERS, Table
from louzhang.registry.models import Resident, Vehicle

_FIELDS = ("vehicle_type", "owner_id", "owner_name", "owner_phone", "compound_id", "note")


@dataclass
class _Row:
    number: int
    cells: list[Any]
    plate: str
    vehicle_type: str
    owner_id_number: str
    owner_name: str
    owner_phone: str
    compound: Area
    note: str


def import_vehicles(
    path: Path,
    *,
    actor: Any = None,
    compound_code: str | None = None,
    rejects_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
    name: str | None = None,
) -> ImportSummary:
    table, jurisdiction, compounds, fixed = open_for_import(
        path, VEHICLE_HEADERS, {"plate"}, actor=actor, compound_code=compound_code,
        name=name,
    )
    importer: Importer[_Row] = Importer(
        kind="vehicles", table=table, key=lambda row: row.plate, key_column="车牌号",
        validate=lambda number, cells: _validate(number, cells, table, compounds, fixed),
        write=lambda rows, summary: _write(rows, summary, jurisdiction, actor is not None, _kept(table)),
        progress=progress,
    )
    return run_and_finish(importer, path=path, actor=actor, rejects_path=rejects_path,
                          area=lambda: fixed or compounds.first_used)


def _validate(
    number: int, cells: list[Any], table: Table, compounds: Compounds, fixed: Area | None
) -> _Row:
    plate = checked("车牌号", parse_plate, cell(cells, table, "plate")).plate
    owner_id = ""
    if text(cell(cells, table, "owner_id_number")):
        owner_id = checked("车主身份证号", parse_id_number, cell(cells, table, "owner_id_number")).number
    phone = ""
    if text(cell(cells, table, "owner_phone")):
        phone = checked("车主电话", normalise_phone, text(cell(cells, table, "owner_phone")))
    name = text(cell(cells, table, "owner_name"))[:50]
    if not owner_id and not name:
        raise RowRejected("车主", _("give the owner's ID number, or at least the owner's name"))
    compound = compounds.resolve_with(fixed, text(cell(cells, table, "compound")))
    return _Row(number, cells, plate, text(cell(cells, table, "vehicle_type"))[:30], owner_id, name, phone,
                compound, text(cell(cells, table, "note"))[:200])


def _kept(table: Table) -> list[int]:
    """Positions in _FIELDS of the fields the file has no column for (kept as registered)."""
    missing = [name for name, columns in (
        ("vehicle_type", ["vehicle_type"]), ("owner_id", ["owner_id_number", "owner_name"]),
        ("owner_name", ["owner_name"]), ("owner_phone", ["owner_phone"]), ("note", ["note"]),
    ) if not any(c in table.columns for c in columns)]
    return [_FIELDS.index(name) for name in missing]


def _write(
    rows: list[_Row], summary: ImportSummary, jurisdiction: Jurisdiction, scoped: bool, kept: list[int]
) -> None:
    owners = {
        number: (pk, path) for pk, number, path in Resident.objects.filter(
            id_number__in=[r.owner_id_number for r in rows if r.owner_id_number]
        ).values_list("id", "id_number", "household__path")
    }
    existing = {
        v[1]: v for v in Vehicle.objects.filter(plate__in=[r.plate for r in rows])
        .values_list("id", "plate", *_FIELDS, "owner__household__path", "compound__path")
    }
    now = now_for_db()
    to_create: list[tuple[Any, ...]] = []
    to_update: list[tuple[Any, ...]] = []
    for row in rows:
        owner = owners.get(row.owner_id_number)
        if row.owner_id_number and (owner is None or not jurisdiction.covers(owner[1])):
            summary.rejections.append(_rejection(row, "车主身份证号",
                                                 _("owner is not a registered resident of your jurisdiction")))
            continue
        # a warden registers the cars of their own residents, or any car of a compound they hold
        if scoped and not (owner or jurisdiction.covers(row.compound.path)):
            summary.rejections.append(_rejection(row, "小区", _("give the owner's ID number: the compound is not wholly yours")))
            continue
        values: tuple[Any, ...] = (row.vehicle_type, owner[0] if owner else None, row.owner_name, row.owner_phone,
                  row.compound.pk, row.note)
        current = existing.get(row.plate)
        if current is None:
            to_create.append((row.plate, *values, now, now))
            continue
        # a car already registered may be changed by who holds its compound or its owner's home
        if scoped and not (jurisdiction.covers(current[-1])
                           or (current[-2] and jurisdiction.covers(current[-2]))):
            summary.conflicts.append(row.plate)
            summary.rejections.append(_rejection(
                row, "车牌号", _("cannot be registered from your jurisdiction; ask the police station")))
            continue
        values = keep_registered(values, current[2:-2], kept)
        if tuple(current[2:-2]) == values:
            summary.unchanged += 1
        else:
            to_update.append((*values, now, current[0]))
    insert(Vehicle, ["plate", *_FIELDS, "registered_at", "updated_at"], to_create)
    run_update(Vehicle, [*_FIELDS, "updated_at"], to_update)
    summary.created += len(to_create)
    summary.updated += len(to_update)


def _rejection(row: _Row, column: str, reason: str) -> Rejection:
    return Rejection(row.number, column, reason, row.cells)
