"""`louzhang report daily [--date D] [--area CODE] -o FILE.xlsx`: the daily report (日报) of an
area or a police station, written as the web's download button writes it (`stats.reporting`)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import translation

from louzhang.core.commands import LouzhangCommand
from louzhang.stats import selectors
from louzhang.stats.reporting import (
    LANGUAGE,
    ReportError,
    only_city,
    report_audit,
    report_build,
    report_day_check,
    report_place,
    report_rollup,
    report_save,
)


def _day(text: str) -> date:
    today = selectors.today()
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date {text!r}: not a date; give YYYY-MM-DD, today or yesterday") from None


def _target(text: str) -> Path:
    """The file to write, if it can be written: an .xlsx in a folder that exists and we may
    write to (the report itself is written beside it and renamed into place)."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise CommandError(f"-o {text}: is a folder, not a file")
    if path.suffix.lower() != ".xlsx":
        raise CommandError(f"-o {text}: the report is an Excel workbook; name the file *.xlsx")
    folder = path.parent
    if not folder.is_dir():
        raise CommandError(f"-o {text}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CommandError(f"-o {text}: no permission to write there")
    return path


class Command(LouzhangCommand):
    help = ("The daily report (日报) as an Excel workbook: "
            "`louzhang report daily [--date D] [--area CODE] -o FILE.xlsx`.")

    def arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="kind", required=True, metavar="daily")
        daily = sub.add_parser(
            "daily", help="the daily report (日报) of an area or a police station",
            description="Write the daily report (日报) of one day: a summary sheet of the place's "
                        "figures and a sheet for each level below it, in Chinese, from the daily "
                        "roll-ups. A day never rolled up is rolled up from the records first.")
        daily.add_argument(
            "--date", default="today", metavar="D",
            help="the day, YYYY-MM-DD (or today, yesterday); default: today — the 日报 of a day is "
                 "made in its evening, with its figures as they stand (the report says as of when)")
        daily.add_argument(
            "--area", default=None, metavar="CODE",
            help="an area code (city … compound) or station:<code> for a police station; "
                 "default: the city, when there is only one")
        daily.add_argument("-o", "--output", required=True, metavar="FILE.xlsx",
                           help="where to write the workbook (replaced whole once written)")

    def handle(self, *args: Any, **options: Any) -> None:
        day = _day(options["date"])
        path = _target(options["output"])
        try:
            report_day_check(day)
        except ReportError as exc:
            raise CommandError(f"--date: {exc}") from None
        try:
            place = report_place(options["area"]) if options["area"] else only_city()
        except ReportError as exc:
            raise CommandError(f"--area {options['area']}: {exc}" if options["area"] else str(exc)) from None
        if report_rollup(day):
            self.stderr.write(f"the figures of {day.isoformat()} had not been rolled up: rolled up "
                              "from the records now")
        with translation.override(LANGUAGE):
            report = report_build(place, day)
        try:
            report_save(path, report)
        except OSError as exc:
            raise CommandError(f"-o {options['output']}: cannot write: {exc.strerror or exc}") from None
        report_audit(None, report, how="command line")
        sheets = 1 + len(report.tables)
        self.stdout.write(f"{path}: daily report of {place.name} ({place.key}) for {day.isoformat()}, "
                          f"{sheets} sheets, {report.lines} lines")
