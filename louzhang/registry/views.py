"""Uploading a community's spreadsheet and following its import."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from louzhang.access.roles import may_import
from louzhang.core.downloads import attachment
from louzhang.core.views import forbidden_is_missing
from louzhang.registry.forms import ImportForm
from louzhang.registry.imports import (
    UploadError,
    access_import_job,
    import_job_create,
    import_jobs_of,
)


@login_required
@forbidden_is_missing
def imports(request: HttpRequest) -> HttpResponse:
    if not may_import(request.user):
        raise Http404("imports are for wardens and commanders")
    form = ImportForm()
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = import_job_create(user=request.user, kind=form.cleaned_data["kind"],
                                        upload=form.cleaned_data["file"],
                                        compound_code=form.cleaned_data["compound"])
            except UploadError as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("import", pk=job.pk)
    return render(request, "registry/imports.html", {
        "jobs": import_jobs_of(request.user)[:20], "form": form,
    })


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
