"""The daily report (日报): XLSX and printable page, written by the worker.

A report is about one place (a city … compound, or a police station) and one local day. It is
built once (`report_build`) from the roll-ups only — whatever the millions of records below —
and then written as a workbook (`report_write`) or shown as a page (the same tables):

- the summary sheet (汇总): every figure of `figures.FIGURES` for the place itself — the day,
  the day before, the change, and for events the total since the emergency began;
- one sheet per level below it: a city its districts and its police stations, a district its
  sub-districts, stations and communities, a sub-district its communities and compounds, a
  station the communities of its beat and their compounds.

Each sheet of lines ends in a totals row (合计) that is the sum of the lines above it. Where the
lines do not hold all of the place's figures — records filed at the place itself, officers of
a bureau's or branch's own offices, communities in no station's beat — an "other" line carries
the difference, so that the totals row equals the place's own figures on the summary sheet;
where lines overlap (a community in two stations' beats) the sheet says so under the totals.

Workbooks are written by the worker (`ReportJob`, the web's download button) or by
`louzhang report daily`, always in Chinese, to a temporary file renamed into place when whole.
"""

from __future__ import annotations

import os
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.http import Http404
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.page import PageMargins

from louzhang.areas.models import Area, Level, PoliceUnit
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.core.sheets import data_row
from louzhang.duty.selectors import UnitPlace, police_units
from louzhang.stats import selectors
from louzhang.stats.figures import FIGURES, GROUPS, STATES, Figure
from louzhang.stats.models import AreaDay, ReportJob
from louzhang.stats.rollup import FINEST, rollup_day
from louzhang.stats.selectors import Figures, Place
from louzhang.worker.jobs import JobFailed, job_enqueue, job_progress, job_work

#: the report's language, whoever asks for it: a bureau's 日报 is in Chinese
LANGUAGE = "zh-hans"
#: the report's short words carry the context "daily report" ("Total" is 合计 there)

#: what the sheets of each level are called
LEVEL_TITLES = {
    Level.DISTRICT: pgettext_lazy("daily report", "Districts"),
    Level.SUBDISTRICT: pgettext_lazy("daily report", "Sub-districts and towns"),
    Level.COMMUNITY: pgettext_lazy("daily report", "Communities"),
    Level.COMPOUND: pgettext_lazy("daily report", "Compounds"),
}
STATIONS_TITLE = pgettext_lazy("daily report", "Police stations")


class ReportError(ValueError):
    """A report that cannot be made as asked (a day in the future, an unknown place)."""


# --- what a report holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A figure's column: its header carries the counting unit, e.g. "在岗民警（人）"."""

    key: str
    header: str


@dataclass(frozen=True)
class Group:
    label: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Line:
    name: str
    figures: Figures
    #: the area the line lies in (the sheets two levels down), else ""
    within: str = ""
    #: the line of what lies in none of the others
    other: bool = False


@dataclass(frozen=True)
class Table:
    """One sheet of lines: a level below the place."""

    title: str
    lines: tuple[Line, ...]
    total: Figures
    #: the header of the `within` column, "" when the sheet has none
    within_header: str
    #: what the totals row means
    note: str


@dataclass(frozen=True)
class SummaryRow:
    group: str
    label: str
    key: str
    day: int
    before: int
    change: int
    #: since the emergency began; None for a state (people under observation are not summed)
    to_date: int | None


@dataclass(frozen=True)
class Report:
    place: Place
    day: date
    title: str
    #: 制表单位: the police unit answering for the place, else the place
    unit: str
    made_at: datetime
    #: when the day's figures were last rolled up (None: not yet)
    refreshed_at: datetime | None
    #: the first day of the to-date totals
    since: date
    summary: tuple[SummaryRow, ...]
    groups: tuple[Group, ...]
    tables: tuple[Table, ...]
    #: the summary sheet's column headers and the note under it, the line under the title
    summary_heads: tuple[str, ...]
    summary_note: str
    made: str

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(c for g in self.groups for c in g.columns)

    @property
    def filename(self) -> str:
        return report_filename(self.place, self.day)

    @property
    def lines(self) -> int:
        return sum(len(t.lines) for t in self.tables)


def report_filename(place: Place, day: date) -> str:
    return f"日报_{place.name}_{day.isoformat()}.xlsx"


def date_text(day: date) -> str:
    return _("%(year)d-%(month)02d-%(day)02d") % {"year": day.year, "month": day.month, "day": day.day}


def time_text(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def header(figure: Figure) -> str:
    return _("%(label)s (%(unit)s)") % {"label": capfirst(str(figure.label)), "unit": figure.unit}


def in_groups() -> list[Figure]:
    """The figures in the order of `FIGURES`, those of a group together (the group where its
    first figure stands)."""
    by_group: dict[str, list[Figure]] = {}
    for figure in FIGURES:
        by_group.setdefault(figure.group, []).append(figure)
    return [figure for figures in by_group.values() for figure in figures]


def _groups() -> tuple[Group, ...]:
    by_group: dict[str, list[Column]] = {}
    for figure in in_groups():
        by_group.setdefault(figure.group, []).append(Column(figure.key, header(figure)))
    return tuple(Group(str(GROUPS.get(name, "")), tuple(columns)) for name, columns in by_group.items())


# --- which place, which day ------------------------------------------------------------------


def report_place(key: str) -> Place:
    """The place named `key` (an area code, or `station:<code>`), whoever may see it: for the
    operator's command line. ReportError when there is none."""
    if key.startswith("station:"):
        code = key.removeprefix("station:")
        for unit in police_units().values():
            if unit.code == code and unit.kind == PoliceUnit.Kind.STATION:
                if not unit.communities:
                    raise ReportError(_("police station %(code)s has no communities in its beat")
                                      % {"code": code})
                return selectors.station_place(unit)
        raise ReportError(_("no police station with the code %(code)s") % {"code": code})
    area = Area.objects.filter(code=key, level__lte=FINEST).first()
    if area is None:
        raise ReportError(_("no area (city … compound) with the code %(code)s") % {"code": key})
    return selectors.area_place(area)


def only_city() -> Place:
    """The place of a report asked for without an area: the one city. ReportError when there
    are several (or none)."""
    cities = list(Area.objects.filter(parent__isnull=True, level__lte=FINEST).order_by("code")[:2])
    if len(cities) != 1:
        raise ReportError(_("there are several cities: say which with --area CODE") if cities
                          else _("there is no area yet: load the areas first"))
    return selectors.area_place(cities[0])


def report_day_check(day: date) -> date:
    """`day` if a report can be made for it: not in the future, not before the emergency."""
    if day > selectors.today():
        raise ReportError(_("%(day)s is in the future") % {"day": day.isoformat()})
    start: date = settings.LOUZHANG_EMERGENCY_START_DATE
    if day < start:
        raise ReportError(_("%(day)s is before the emergency began (%(start)s)")
                          % {"day": day.isoformat(), "start": start.isoformat()})
    return day


def report_rollup(day: date) -> bool:
    """Roll the day up from the records when it never was (a past day the worker did not see):
    the report reads only roll-ups. True when it did."""
    if selectors.refreshed_at(day) is not None:
        return False
    rollup_day(day)
    return True


# --- building the report ---------------------------------------------------------------------


def _unit_name(place: Place) -> str:
    if place.is_station:
        return place.name
    unit = (PoliceUnit.objects.filter(area_id=place.area_ids[0])
            .exclude(kind=PoliceUnit.Kind.STATION).order_by("kind", "code").first())
    return unit.name if unit else place.name


def _plan(place: Place, units: dict[int, UnitPlace]) -> list[tuple[str, list[tuple[Place, str]], str]]:
    """The sheets below the place: (title, [(line's place, the area it lies in)], the header of
    the "within" column)."""

    def titled(places: list[Place]) -> str:
        return str(LEVEL_TITLES.get(Level(places[0].level), "")) if places else ""

    def below(places: list[Place]) -> list[tuple[Place, str]]:
        return [(child, parent.name) for parent in places for child in selectors.children(parent, units)]

    first = selectors.children(place, units)
    plan: list[tuple[str, list[tuple[Place, str]], str]] = []
    if first:
        plan.append((titled(first), [(p, "") for p in first], ""))
    if not place.is_station and place.level in (Level.CITY, Level.DISTRICT):
        plan.append((str(STATIONS_TITLE), [(s, "") for s in selectors.stations_in(place, units)], ""))
    if first and (place.is_station or place.level in (Level.DISTRICT, Level.SUBDISTRICT)):
        second = below(first)
        if second:
            plan.append((titled([second[0][0]]), second, titled(first)))
    return [sheet for sheet in plan if sheet[1]]


def _sum(rows: Iterable[Figures]) -> Figures:
    out = selectors.zero()
    for figures in rows:
        for key, value in figures.items():
            out[key] += value
    return out


def _table(place: Place, title: str, lines: list[Line], own: Figures, within_header: str) -> Table:
    """The sheet's lines, with the line of what lies in none of them when that is not nothing,
    and the totals row."""
    listed = _sum(line.figures for line in lines)
    rest = {key: own[key] - listed[key] for key in own}
    if all(v >= 0 for v in rest.values()):
        if any(rest.values()):
            lines = [*lines, Line(_("Other: %(place)s itself and what lies in none of the lines above")
                                  % {"place": place.name}, rest, other=True)]
        note = _("Total: the sum of the lines above; it equals the figures of %(place)s on the "
                 "summary sheet.") % {"place": place.name}
    else:
        note = _("Total: the sum of the lines above; some of the lines overlap (an area in more "
                 "than one of them), so it differs from the figures of %(place)s on the summary "
                 "sheet.") % {"place": place.name}
    return Table(title, tuple(lines), _sum(line.figures for line in lines), within_header, note)


def _to_date(place: Place, first: date, last: date) -> Figures:
    """Events summed over the days from `first` to `last`, read `MAX_DAYS` at a time."""
    days: list[tuple[date, Figures]] = []
    while first <= last:
        upto = min(last, first + timedelta(days=selectors.MAX_DAYS - 1))
        days.extend(selectors.series(place, first, upto))
        first = upto + timedelta(days=1)
    return selectors.total(days)


def report_build(place: Place, day: date, *, progress: Callable[[int], None] | None = None,
                 now: datetime | None = None) -> Report:
    """The report of `place` for `day`, in the active language, from the roll-ups."""
    now = now or timezone.now()
    units = police_units()
    (_before, before), (_day, own) = selectors.series(place, day - timedelta(days=1), day)
    start: date = settings.LOUZHANG_EMERGENCY_START_DATE
    first = AreaDay.objects.filter(area_id__in=list(place.area_ids), day__gte=start,
                                   day__lte=day).aggregate(m=Min("day"))["m"] or day
    to_date = _to_date(place, first, day)
    summary = tuple(
        SummaryRow(str(GROUPS.get(f.group, "")), header(f), f.key, own[f.key], before[f.key],
                   own[f.key] - before[f.key], None if f.key in STATES else to_date[f.key])
        for f in in_groups()
    )
    if progress:
        progress(1)
    tables = []
    for title, places, within_header in _plan(place, units):
        lines = [Line(p.name, figures, within)
                 for (p, within), figures in zip(places, selectors.figures_of_many([p for p, _w in places], day),
                                                 strict=True)]
        tables.append(_table(place, title, lines, own, within_header))
        if progress:
            progress(len(places))
    title = _("%(place)s epidemic prevention daily report (%(date)s)") % {
        "place": place.name, "date": date_text(day)}
    unit = _unit_name(place)
    refreshed = selectors.refreshed_at(day)
    heads = (pgettext("daily report", "Category"), pgettext("daily report", "Item"), pgettext("daily report", "This day"),
             pgettext("daily report", "The day before"), pgettext("daily report", "Change"),
             _("Since %(date)s") % {"date": date_text(first)})
    note = _("Change: this day less the day before. Since %(date)s: the events of every day from "
             "%(date)s to this day added up; a figure that is a state at the end of the day "
             "(officers, people under observation, open follow-ups …) is not added up.") % {
        "date": date_text(first)}
    return Report(place, day, title, unit, now, refreshed, first, summary, _groups(), tuple(tables),
                  heads, note, _made(unit, now, refreshed))


def _made(unit: str, now: datetime, refreshed: datetime | None) -> str:
    made = _("Made by: %(unit)s    Made at: %(at)s") % {"unit": unit, "at": time_text(now)}
    if refreshed is None:
        return made + "    " + _("The figures of this day have not been rolled up yet.")
    return made + "    " + _("Figures as of %(at)s") % {"at": time_text(refreshed)}


def report_size(place: Place) -> int:
    """How many steps writing the report takes (its lines, and one for the summary)."""
    return 1 + sum(len(places) for _t, places, _w in _plan(place, police_units()))


# --- the workbook ------------------------------------------------------------------------------

THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="E8EEF4")
TOTAL_FILL = PatternFill("solid", fgColor="F4F4F4")
TITLE_FONT = Font(bold=True, size=16)
BOLD = Font(bold=True)
SMALL = Font(size=9, color="555555")
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center")
WRAP = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
COUNT = "#,##0"
CHANGE = "+#,##0;-#,##0;0"
#: the widest a header column grows before its text wraps (characters of width 1)
HEADER_WRAP = 12
A4 = "9"


def width(text: Any) -> int:
    """Display width of a cell's text: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text or ""))


def _letter(n: int) -> str:
    return str(get_column_letter(n))


class _Sheet:
    """A write-only sheet laid out as a bureau's table: title rows, header rows frozen and
    repeated on every printed page, boxed cells, numbers right-aligned, A4 landscape."""

    def __init__(self, book: Workbook, title: str, ncols: int, head_rows: int, frozen_cols: int) -> None:
        sheet = book.create_sheet(title=title[:31])
        assert isinstance(sheet, WriteOnlyWorksheet)
        self.sheet = sheet
        self.ncols = ncols
        self.row = 0
        first_data = 3 + head_rows
        sheet.freeze_panes = f"{_letter(frozen_cols + 1)}{first_data}"
        sheet.print_title_rows = f"3:{2 + head_rows}"
        setup = sheet.page_setup
        setup.orientation = "landscape"
        setup.paperSize = A4
        setup.fitToWidth = 1
        setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_options.horizontalCentered = True
        sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5, header=0.3, footer=0.3)

    def widths(self, columns: Sequence[int]) -> None:
        """Before the first row (a write-only sheet writes its columns first)."""
        for n, w in enumerate(columns, start=1):
            self.sheet.column_dimensions[_letter(n)].width = w + 2

    def merged(self, text: str, *, font: Font | None = None, height: float | None = None,
               alignment: Alignment = LEFT) -> None:
        """A line of text across the table."""
        self.row += 1
        if height:
            self.sheet.row_dimensions[self.row].height = height
        cells = data_row(self.sheet, [text, *[None] * (self.ncols - 1)])
        cells[0].alignment = alignment
        if font:
            cells[0].font = font
        self.sheet.append(cells)
        self.sheet.merged_cells.add(f"A{self.row}:{_letter(self.ncols)}{self.row}")

    def cells(self, values: Sequence[Any], *, formats: Sequence[str | None] = (), head: bool = False,
              total: bool = False, height: float | None = None) -> list[WriteOnlyCell]:
        self.row += 1
        if height:
            self.sheet.row_dimensions[self.row].height = height
        cells = data_row(self.sheet, values)
        for n, cell in enumerate(cells):
            cell.border = BOX
            if head:
                cell.alignment, cell.font, cell.fill = CENTRE, BOLD, HEAD_FILL
            elif isinstance(cell.value, int):
                cell.alignment = RIGHT
                cell.number_format = (formats[n] if n < len(formats) else None) or COUNT
            else:
                cell.alignment = LEFT
            if total:
                cell.font, cell.fill = BOLD, TOTAL_FILL
        return cells

    def append(self, cells: list[WriteOnlyCell]) -> None:
        self.sheet.append(cells)

    def merge(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        if (first_row, first_col) != (last_row, last_col):
            self.sheet.merged_cells.add(f"{_letter(first_col)}{first_row}:{_letter(last_col)}{last_row}")


def _header_height(texts: Iterable[str], widths: Sequence[int]) -> float:
    lines = max((-(-width(t) // max(w, 1)) for t, w in zip(texts, widths, strict=False)), default=1)
    return 15.0 * max(1, lines) + 4


def _summary_sheet(book: Workbook, report: Report) -> None:
    heads = list(report.summary_heads)
    cols = [max(width(r.group) for r in report.summary), max(width(r.label) for r in report.summary),
            10, 10, 10, 14]
    cols = [max(c, min(width(h), HEADER_WRAP)) for c, h in zip(cols, heads, strict=True)]
    cols[0] = min(cols[0], 16)
    sheet = _Sheet(book, pgettext("daily report", "Summary"), len(heads), 1, 2)
    sheet.widths(cols)
    sheet.merged(report.title, font=TITLE_FONT, height=30, alignment=CENTRE)
    sheet.merged(report.made, font=SMALL)
    sheet.append(sheet.cells(heads, head=True, height=_header_height(heads, cols)))
    group_rows: list[tuple[int, int]] = []
    previous = None
    for row in report.summary:
        at = sheet.row + 1
        if row.group != previous:
            group_rows.append((at, at))
        else:
            group_rows[-1] = (group_rows[-1][0], at)
        cells = sheet.cells([row.group if row.group != previous else None, row.label, row.day,
                             row.before, row.change, row.to_date],
                            formats=[None, None, COUNT, COUNT, CHANGE, COUNT])
        cells[0].alignment = CENTRE
        sheet.append(cells)
        previous = row.group
    for first, last in group_rows:
        sheet.merge(first, 1, last, 1)
    sheet.merged(report.summary_note, font=SMALL, alignment=WRAP, height=30)


def _table_sheet(book: Workbook, report: Report, table: Table) -> None:
    fixed = [pgettext("daily report", "No."), table.title] + ([table.within_header] if table.within_header else [])
    columns = report.columns
    ncols = len(fixed) + len(columns)
    names = [line.name for line in table.lines] + [pgettext("daily report", "Total")]
    cols = [4, max(width(n) for n in names)] + (
        [max(width(line.within) for line in table.lines)] if table.within_header else [])
    cols = [max(c, min(width(h), HEADER_WRAP)) for c, h in zip(cols, fixed, strict=True)]
    cols[1] = min(cols[1], 40)
    for column in columns:
        digits = max(len(f"{v:,}") for v in [table.total[column.key], 0])
        cols.append(max(digits, min(width(column.header), HEADER_WRAP), 6))
    sheet = _Sheet(book, table.title, ncols, 2, len(fixed))
    sheet.widths(cols)
    sheet.merged(report.title, font=TITLE_FONT, height=30, alignment=CENTRE)
    sheet.merged(report.made, font=SMALL)
    # two header rows: the groups over their figures, then each figure with its unit
    groups: list[Any] = [*fixed]
    spans = []
    for group in report.groups:
        spans.append((len(groups) + 1, len(groups) + len(group.columns)))
        groups.extend([group.label] + [None] * (len(group.columns) - 1))
    sheet.append(sheet.cells(groups, head=True, height=20))
    heads = [c.header for c in columns]
    sheet.append(sheet.cells([*[None] * len(fixed), *heads], head=True,
                             height=_header_height(heads, cols[len(fixed):])))
    for n in range(1, len(fixed) + 1):
        sheet.merge(sheet.row - 1, n, sheet.row, n)
    for first, last in spans:
        sheet.merge(sheet.row - 1, first, sheet.row - 1, last)
    number = 0
    for line in table.lines:
        number += 0 if line.other else 1
        values: list[Any] = [None if line.other else number, line.name]
        if table.within_header:
            values.append(line.within)
        cells = sheet.cells(values + [line.figures[c.key] for c in columns])
        cells[0].alignment = CENTRE
        sheet.append(cells)
    values = [None, pgettext("daily report", "Total")] + ([""] if table.within_header else [])
    sheet.append(sheet.cells(values + [table.total[c.key] for c in columns], total=True))
    sheet.merged(table.note, font=SMALL, alignment=WRAP, height=30)


def report_write(target: IO[bytes], report: Report) -> None:
    """The report as an XLSX workbook on `target`: every cell data, never a formula; its own
    words in Chinese (build the report under `translation.override(LANGUAGE)` too)."""
    book = Workbook(write_only=True)
    with translation.override(LANGUAGE):
        _summary_sheet(book, report)
        for table in report.tables:
            _table_sheet(book, report, table)
    book.save(target)


def report_save(path: Path, report: Report) -> None:
    """Write the workbook to `path` whole or not at all: into a temporary file beside it,
    renamed over `path` once written."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with temporary.open("xb") as handle:
            report_write(handle, report)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def report_audit(actor: Any, report: Report, *, how: str) -> None:
    place = report.place
    audit_record(
        actor=actor, action=AuditEvent.Action.EXPORT, object_type="stats.report",
        object_id=place.key, area_path=place.paths[0] if len(place.paths) == 1 else "",
        summary=f"daily report {place.key} {report.day.isoformat()} ({how})",
        detail={"place": place.key, "name": place.name, "day": report.day.isoformat(),
                "paths": list(place.paths)},
    )


# --- in the background -------------------------------------------------------------------------


def job_key(job: ReportJob) -> str:
    if job.unit is not None:
        return f"station:{job.unit.code}"
    assert job.area is not None
    return job.area.code


def report_job_create(*, user: Any, key: str, day: date) -> ReportJob:
    """Queue the report of the place `key` for `day`, for a commander of the place; "not found"
    for a place the user does not command."""
    place = selectors.place_for(user, key)
    report_day_check(day)
    with transaction.atomic():
        job = ReportJob.objects.create(
            user=user, day=day, total=report_size(place),
            area=place.area if not place.is_station else None,
            unit_id=place.unit_ids[0] if place.is_station else None,
        )
        job_enqueue(job)
    return job


@job_work(ReportJob)
def report_job_work(job: ReportJob, progress: Callable[[int], None]) -> Mapping[str, Any]:
    """Write the workbook, in Chinese, into a new folder each time the job is taken up."""
    try:
        place = selectors.place_for(job.user, job_key(job))
    except Http404:
        raise JobFailed(_("You no longer command this place.")) from None
    report_rollup(job.day)
    job_progress(job, total=report_size(place))
    with translation.override(LANGUAGE):
        report = report_build(place, job.day, progress=progress)
    folder = Path(settings.VAR_DIR) / "reports" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / "report.xlsx"
    report_save(path, report)
    report_audit(job.user, report, how="web")
    return {"processed": report.lines + 1, "file_path": str(path.relative_to(settings.VAR_DIR))}


def access_report_job(user: Any, pk: int) -> tuple[ReportJob, Place]:
    """The job and its place, if the user asked for it and still commands the place; "not
    found" otherwise."""
    job = ReportJob.objects.select_related("area", "unit").filter(pk=pk, user=user).first()
    if job is None:
        raise Http404("no such report")
    return job, selectors.place_for(user, job_key(job))
