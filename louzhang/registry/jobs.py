"""Imports uploaded in the web UI: kept on disk, run by the worker, progress on the job row.

A job is run by a task that takes its id; running it again (a worker killed half way) starts
the import again from the top, which is safe: imports are idempotent.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.registry.importing.engine import ImportFileError
from louzhang.registry.importing.residents import import_residents
from louzhang.registry.importing.vehicles import import_vehicles
from louzhang.registry.models import ImportJob

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SUFFIXES = (".csv", ".xlsx")
#: progress is written to the job every this many rows
PROGRESS_EVERY = 2000
IMPORTERS = {ImportJob.Kind.RESIDENTS: import_residents, ImportJob.Kind.VEHICLES: import_vehicles}


class UploadError(Exception):
    """An upload that cannot be accepted; the message says why."""


def _jobs_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def import_job_create(*, user: Any, kind: str, upload: UploadedFile, compound_code: str = "") -> ImportJob:
    if kind not in ImportJob.Kind.values:
        raise UploadError(_("Choose what the file holds: residents or vehicles."))
    name = Path(upload.name or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadError(_("%(file)s: use a .csv or .xlsx file") % {"file": name})
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        raise UploadError(_("%(file)s is larger than 50 MB: split it or ask the operator to use "
                            "`louzhang import`") % {"file": name})
    if not upload.size:
        raise UploadError(_("%(file)s is empty") % {"file": name})
    folder = _jobs_dir() / uuid.uuid4().hex
    folder.mkdir(parents=True)
    target = folder / f"upload{suffix}"
    with target.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind, user=user, original_name=name[:200], compound_code=compound_code.strip()[:64],
            stored_path=str(target.relative_to(settings.VAR_DIR)),
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from louzhang.registry.tasks import run_import_job

    run_import_job.enqueue(job_id)


def _count_rows(path: Path) -> int:
    """About how many rows the file has, for the progress bar (header rows included)."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True)
            return int(book.worksheets[0].max_row or 0)
        except Exception:  # a damaged file: the import itself says what is wrong
            return 0
    with path.open("rb") as handle:
        return sum(1 for _line in handle)


def import_job_run(*, job_id: int) -> str:
    """Run one job (again, from the top, if a worker died during it)."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if job.finished:
        return job.state
    path = Path(settings.VAR_DIR) / job.stored_path
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.RUNNING, started_at=timezone.now(), processed=0,
        total_rows=_count_rows(path), error="",
    )
    seen = 0

    def progress(rows: int) -> None:
        nonlocal seen
        seen += rows
        if seen >= PROGRESS_EVERY:
            ImportJob.objects.filter(pk=job.pk).update(processed=F("processed") + seen)
            seen = 0

    rejects = path.with_name("rejects.csv")
    try:
        summary = IMPORTERS[ImportJob.Kind(job.kind)](
            path, actor=job.user, compound_code=job.compound_code or None, rejects_path=rejects,
            progress=progress,
        )
    except ImportFileError as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.FAILED, error=str(exc)[:2000], finished_at=timezone.now())
        return ImportJob.State.FAILED
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.DONE, processed=summary.read, created=summary.created,
        updated=summary.updated, unchanged=summary.unchanged, rejected=summary.rejected,
        rejects_path=str(rejects.relative_to(settings.VAR_DIR)) if summary.rejects_file else "",
        finished_at=timezone.now(),
    )
    return ImportJob.State.DONE


def import_jobs_of(user: Any) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(user=user).order_by("-created_at")


def access_import_job(user: Any, pk: int) -> ImportJob:
    """The job, if it is the user's own; "not found" otherwise."""
    from django.http import Http404

    try:
        return import_jobs_of(user).get(pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404("no such import") from None
