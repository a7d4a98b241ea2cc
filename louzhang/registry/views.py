"""Uploading a community's spreadsheet and following its import."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from louzhang.access.roles import may_import
from louzhang.core.downloads import attachment
from louzhang.registry.jobs import UploadError, access_import_job, import_job_create, import_jobs_of
from louzhang.registry.models import ImportJob


def _may_import(request: HttpRequest) -> None:
    if not may_import(request.user):
        raise Http404("imports are for wardens and commanders")


@login_required
def imports(request: HttpRequest) -> HttpResponse:
    _may_import(request)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise UploadError(_no_file())
            job = import_job_create(user=request.user, kind=request.POST.get("kind", ""),
                                    upload=upload, compound_code=request.POST.get("compound", ""))
        except UploadError as exc:
            error = str(exc)
        else:
            return redirect("import", pk=job.pk)
    return render(request, "registry/imports.html", {
        "jobs": import_jobs_of(request.user)[:20], "kinds": ImportJob.Kind.choices, "error": error,
    })


def _no_file() -> str:
    from django.utils.translation import gettext as _

    return _("Choose a file to upload.")


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = access_import_job(request.user, pk)
    template = "registry/_import_progress.html" if request.headers.get("HX-Request") else "registry/import.html"
    return render(request, template, {"job": job})


@login_required
def import_rejects(request: HttpRequest, pk: int) -> FileResponse:
    job = access_import_job(request.user, pk)
    if not job.rejects_path:
        raise Http404("no rejected rows")
    return attachment(Path(settings.VAR_DIR) / job.rejects_path,
                      f"{Path(job.original_name).stem}-错误行.csv", "text/csv; charset=utf-8")
