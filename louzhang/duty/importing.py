"""Importing officers (民警、辅警) from the bureau's spreadsheet: `louzhang import officers FILE`.

The registry's import engine does the reading (CSV in UTF-8 with or without BOM or GB18030, or
XLSX; the header row found by its names; columns in any order), the rejects file with each bad
row's number, column and reason, the summary and the audit event. Here: the headers, one row's
checks and the writing.

- Headers: `警号`, `姓名`, `派出所`/`所属单位` (a police unit's name or code), `手机号`,
  `类别` (民警/辅警), `职务`. 警号, 姓名 and the unit are required.
- Officers are matched by badge number (警号): importing again changes nothing, a corrected
  file updates the officers it names; a field the file has no column for keeps what is
  registered. A new officer starts "off duty".
- With an importing user (`--as`), a row for a unit they do not command, or for an officer
  registered with such a unit, is rejected (without saying which unit that is).
- **Log-in**: an officer is linked to the user whose user name is their badge number (when
  neither is linked yet) — the bureau names officers' log-ins by badge number; any other
  link is made by hand (admin, or the demo).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from louzhang.accounts.models import User
from louzhang.core.sql import insert_returning
from louzhang.duty.models import DutyStatus, Officer, StatusChange
from louzhang.duty.selectors import UnitPlace, police_units, units_commanded
from louzhang.identifiers.phones import normalise_phone
from louzhang.registry.importing.engine import (
    Importer,
    ImportFileError,
    ImportSummary,
    Rejection,
    RowRejected,
    cell,
    checked,
    keep_registered,
    now_for_db,
    run_and_finish,
    run_update,
    text,
)
from louzhang.registry.importing.tables import Table, TableError, open_table

#: canonical field -> the header names bureaus use for it (compared after normalising)
OFFICER_HEADERS: dict[str, tuple[str, ...]] = {
    "badge_number": ("警号", "警员编号", "警号编码"),
    "name": ("姓名", "名字", "民警姓名", "人员姓名"),
    "unit": ("派出所", "所属单位", "单位", "所属派出所", "工作单位", "所在单位"),
    "phone": ("手机号", "手机号码", "联系电话", "电话", "工作电话"),
    "category": ("类别", "人员类别", "身份", "人员身份"),
    "post": ("职务", "岗位", "职位"),
}
CATEGORY = {
    "民警": Officer.Category.POLICE, "警察": Officer.Category.POLICE, "正式民警": Officer.Category.POLICE,
    "辅警": Officer.Category.AUXILIARY, "协警": Officer.Category.AUXILIARY,
    "警务辅助人员": Officer.Category.AUXILIARY,
    "police": Officer.Category.POLICE, "auxiliary": Officer.Category.AUXILIARY,
}
_BADGE = re.compile(r"^[0-9A-Za-z-]{1,20}$")
#: the columns compared and written, in this order
_FIELDS = ("name", "unit_id", "category", "post", "work_phone")


@dataclass
class _Row:
    number: int
    cells: list[Any]
    badge_number: str
    name: str
    unit: UnitPlace
    category: str
    post: str
    phone: str


class _Units:
    """Police units by code and by name, limited to those the importer commands (all for the
    operator): a unit outside is "not found", exactly like one that does not exist."""

    def __init__(self, actor: Any) -> None:
        every = police_units()
        self.usable = every if actor is None else units_commanded(actor)
        self._codes = {u.code.upper(): u for u in self.usable.values()}
        self._names: dict[str, list[UnitPlace]] = {}
        for unit in self.usable.values():
            self._names.setdefault(unit.name, []).append(unit)
        self.first_used: UnitPlace | None = None

    def resolve(self, name_or_code: str) -> UnitPlace:
        if not name_or_code:
            raise RowRejected("派出所", _("police unit is empty"))
        unit = self._codes.get(name_or_code.upper())
        if unit is None:
            named = self._names.get(name_or_code, [])
            if len(named) > 1:
                raise RowRejected("派出所", _("%(n)d police units are called %(name)s: use its code")
                                  % {"n": len(named), "name": name_or_code})
            if not named:
                raise RowRejected("派出所", _("no police unit %(name)s in your jurisdiction")
                                  % {"name": name_or_code})
            unit = named[0]
        self.first_used = self.first_used or unit
        return unit


def import_officers(
    path: Path,
    *,
    actor: Any = None,
    compound_code: str | None = None,
    rejects_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import the officers of `path` as `actor` (None: the operator, every unit)."""
    if compound_code:
        raise ImportFileError(_("--compound is for residents and vehicles, not officers"))
    if actor is not None and not units_commanded(actor):
        raise ImportFileError(_("%(user)s may not import officers: they are imported by commanders")
                              % {"user": actor.get_username()})
    try:
        table = open_table(path, OFFICER_HEADERS, {"badge_number", "name", "unit"})
    except TableError as exc:
        raise ImportFileError(str(exc)) from None
    units = _Units(actor)
    kept = _kept(table)
    importer: Importer[_Row] = Importer(
        kind="officers", table=table, key=lambda row: row.badge_number, key_column="警号",
        validate=lambda number, cells: _validate(number, cells, table, units),
        write=lambda rows, summary: _write(rows, summary, units, actor is not None, kept),
        progress=progress,
    )
    return run_and_finish(importer, path=path, actor=actor, rejects_path=rejects_path,
                          area=lambda: _place(units.first_used))


def _place(unit: UnitPlace | None) -> Any:
    from louzhang.areas.models import Area

    return Area.objects.filter(pk=unit.place_id).first() if unit else None


def _validate(number: int, cells: list[Any], table: Table, units: _Units) -> _Row:
    badge = text(cell(cells, table, "badge_number")).upper()
    if not badge:
        raise RowRejected("警号", _("badge number is empty"))
    if not _BADGE.match(badge):
        raise RowRejected("警号", _("badge number %(value)s: letters, digits and - only, at most 20")
                          % {"value": badge[:40]})
    name = text(cell(cells, table, "name"))
    if not name:
        raise RowRejected("姓名", _("name is empty"))
    if len(name) > 50:
        raise RowRejected("姓名", _("name is longer than 50 characters"))
    word = text(cell(cells, table, "category"))
    category = CATEGORY.get(word, CATEGORY.get(word.lower())) if word else Officer.Category.POLICE
    if category is None:
        raise RowRejected("类别", _("category %(value)s: write 民警 or 辅警") % {"value": word[:20]})
    post = text(cell(cells, table, "post"))
    if len(post) > 40:
        raise RowRejected("职务", _("post is longer than 40 characters"))
    phone = ""
    if text(cell(cells, table, "phone")):
        phone = checked("手机号", normalise_phone, text(cell(cells, table, "phone")))
    unit = units.resolve(text(cell(cells, table, "unit")))
    return _Row(number, cells, badge, name, unit, str(category), post, phone)


def _kept(table: Table) -> list[int]:
    """Positions in _FIELDS of the fields the file has no column for (kept as registered)."""
    missing = {"category": "category", "post": "post", "work_phone": "phone"}
    return [_FIELDS.index(name) for name, column in missing.items() if column not in table.columns]


def _write(rows: list[_Row], summary: ImportSummary, units: _Units, scoped: bool, kept: list[int]) -> None:
    badges = [r.badge_number for r in rows]
    existing = {o[1]: o for o in Officer.objects.filter(badge_number__in=badges)
                .values_list("pk", "badge_number", *_FIELDS, "user_id")}
    # log-ins named by a badge number and not linked to an officer yet
    logins = dict(User.objects.filter(username__in=badges, officer__isnull=True).values_list("username", "pk"))
    now = now_for_db()
    to_create: list[tuple[Any, ...]] = []
    to_update: list[tuple[Any, ...]] = []
    for row in rows:
        values: tuple[Any, ...] = (row.name, row.unit.pk, row.category, row.post, row.phone)
        current = existing.get(row.badge_number)
        if current is None:
            to_create.append((row.badge_number, *values, logins.get(row.badge_number),
                              DutyStatus.OFF_DUTY, now, now, now))
            continue
        if scoped and current[3] not in units.usable:
            summary.conflicts.append(row.badge_number)
            summary.rejections.append(Rejection(row.number, "警号", _(
                "registered with another police unit; ask its commander"), row.cells))
            continue
        registered = tuple(current[2:2 + len(_FIELDS)])
        values = keep_registered(values, registered, kept)
        user_id = current[-1] if current[-1] is not None else logins.get(row.badge_number)
        if values == registered and user_id == current[-1]:
            summary.unchanged += 1
        else:
            to_update.append((*values, user_id, now, current[0]))
    created = insert_returning(
        Officer, ["badge_number", *_FIELDS, "user_id", "status", "status_since", "created_at", "updated_at"],
        to_create, returning=["id"])
    StatusChange.objects.bulk_create([
        StatusChange(officer_id=pk, status=DutyStatus.OFF_DUTY, reason=_("imported"))
        for (pk,) in created
    ])
    run_update(Officer, [*_FIELDS, "user_id", "updated_at"], to_update)
    summary.created += len(created)
    summary.unchanged += len(to_create) - len(created)  # stored meanwhile by a twin import
    summary.updated += len(to_update)
