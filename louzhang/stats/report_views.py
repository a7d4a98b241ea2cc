"""The daily report (日报): the download button, the job's page, the printable page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from louzhang.core.downloads import attachment
from louzhang.stats import selectors
from louzhang.stats.reporting import (
    Report,
    ReportError,
    access_report_job,
    report_build,
    report_day_check,
    report_filename,
    report_job_create,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportDayForm(forms.Form):
    date = forms.DateField(label=_("Day"), input_formats=["%Y-%m-%d"],
                           widget=forms.DateInput(attrs={"type": "date"}))

    def clean_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["date"]
        try:
            return report_day_check(day)
        except ReportError as exc:
            raise forms.ValidationError(str(exc)) from None


def _tables(report: Report) -> list[dict[str, Any]]:
    """Each table's lines as the cells of a row, in the columns' order."""
    columns = report.columns
    return [{
        "table": table,
        "lines": [(line, [line.figures[c.key] for c in columns]) for line in table.lines],
        "total": [table.total[c.key] for c in columns],
    } for table in report.tables]


def _summary(report: Report) -> list[tuple[Any, int]]:
    """The summary's rows, each with how many rows its group cell spans (0: under the one above)."""
    rows: list[tuple[Any, int]] = []
    for row in report.summary:
        if rows and row.group == report.summary[len(rows) - 1].group:
            rows.append((row, 0))
            first = next(n for n in range(len(rows) - 1, -1, -1) if rows[n][1])
            rows[first] = (rows[first][0], rows[first][1] + 1)
        else:
            rows.append((row, 1))
    return rows


@login_required
def report_page(request: HttpRequest, key: str) -> HttpResponse:
    """The day's report of a place its commander sees, printable; POST: the Excel workbook,
    written by the worker (then the job's page)."""
    place = selectors.place_for(request.user, key)
    today = selectors.today()
    if request.method == "POST":
        form = ReportDayForm(request.POST)
        if form.is_valid():
            job = report_job_create(user=request.user, key=place.key, day=form.cleaned_data["date"])
            return redirect("report-job", pk=job.pk)
    else:
        form = ReportDayForm(request.GET if "date" in request.GET else {"date": today.isoformat()})
    context: dict[str, Any] = {"place": place, "form": form, "today": today}
    if request.method == "POST" or not form.is_valid():
        return render(request, "stats/report.html", context, status=400)
    report = report_build(place, form.cleaned_data["date"])
    context.update(report=report, summary=_summary(report), tables=_tables(report), day=report.day)
    return render(request, "stats/report.html", context)


@login_required
def report_job(request: HttpRequest, pk: int) -> HttpResponse:
    job, place = access_report_job(request.user, pk)
    template = "stats/_report_progress.html" if request.headers.get("HX-Request") else "stats/report_job.html"
    return render(request, template, {"job": job, "place": place})


@login_required
def report_file(request: HttpRequest, pk: int) -> FileResponse:
    job, place = access_report_job(request.user, pk)
    if job.state != job.State.DONE or not job.file_path:
        raise Http404("not ready")
    return attachment(Path(settings.VAR_DIR) / job.file_path, report_filename(place, job.day), XLSX)


urlpatterns: list[URLPattern] = [
    path("reports/<str:key>/", report_page, name="report"),
    path("reports/jobs/<int:pk>/", report_job, name="report-job"),
    path("reports/jobs/<int:pk>/report.xlsx", report_file, name="report-file"),
]
