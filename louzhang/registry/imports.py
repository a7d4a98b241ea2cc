"""Imports uploaded in the web UI: the file kept on disk, imported by the worker as the uploader
(a job of `louzhang.worker.jobs`), the counts and the rejects file on the job row.

Taken up again after a worker died, the import runs from the top, which is safe: imports are
idempotent.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from louzhang.access.roles import may_import
from louzhang.registry.importing.engine import ImportFileError
from louzhang.registry.importing.residents import import_residents
from louzhang.registry.importing.vehicles import import_vehicles
from louzhang.registry.models import ImportJob
from louzhang.worker.jobs import JobFailed, job_enqueue, job_progress, job_work

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SUFFIXES = (".csv", ".xlsx")
#: how long a file's name may be where pages, messages and the audit show it
NAME_CHARS = 100
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')
IMPORTERS = {ImportJob.Kind.RESIDENTS: import_residents, ImportJob.Kind.VEHICLES: import_vehicles}


class UploadError(Exception):
    """An upload that cannot be accepted; the message says why."""


def import_job_create(*, user: Any, kind: str, upload: UploadedFile, compound_code: str = "") -> ImportJob:
    """Keep the upload and queue its import as `user`, who must be a warden or commander
    (`PermissionDenied` otherwise); UploadError for a file that cannot be taken."""
    if not may_import(user):
        raise PermissionDenied("imports are for wardens and commanders")
    if kind not in ImportJob.Kind.values:
        raise UploadError(_("Choose what the file holds: residents or vehicles."))
    name = upload_name(upload.name or "")
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadError(_("%(file)s: use a .csv or .xlsx file") % {"file": name})
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        raise UploadError(_("%(file)s is larger than 50 MB: split it or ask the operator to use "
                            "`louzhang import`") % {"file": name})
    if not upload.size:
        raise UploadError(_("%(file)s is empty") % {"file": name})
    folder = Path(settings.VAR_DIR) / "imports" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    target = folder / f"upload{suffix}"
    with target.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind, user=user, original_name=name, compound_code=compound_code.strip()[:64],
            stored_path=str(target.relative_to(settings.VAR_DIR)),
        )
        job_enqueue(job)
    return job


def upload_name(raw: str) -> str:
    """The name of an uploaded file as pages, messages and the audit show it: without any
    folder (a browser may send `C:\\fakepath\\名单.csv`), without control or invisible
    formatting characters (a right-to-left mark can make `gpj.csv` look like `vsc.jpg`), at most
    `NAME_CHARS` characters with its suffix kept."""
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", raw))[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] not in "CZ" or c == " ").strip(" .")
    if len(name) > NAME_CHARS:
        stem, suffix = Path(name).stem, Path(name).suffix[:10]
        name = f"{stem[:NAME_CHARS - len(suffix) - 1]}…{suffix}"
    return name or "upload"


def _count_rows(path: Path) -> int:
    """About how many rows the file has, for the progress bar (header rows included); 0 when
    it cannot tell. An XLSX file is not opened with openpyxl here (the import checks it before
    it does): the first sheet's first bytes say how many rows it claims."""
    if path.suffix.lower() == ".xlsx":
        try:
            with zipfile.ZipFile(path) as archive, archive.open("xl/worksheets/sheet1.xml") as sheet:
                head = sheet.read(4096)
        except Exception:  # a damaged file, or sheets named otherwise: the import tells
            return 0
        found = _DIMENSION.search(head)
        return int(found.group(1) or 1) if found else 0
    with path.open("rb") as handle:
        return sum(1 for _line in handle)


@job_work(ImportJob)
def import_job_work(job: ImportJob, progress: Callable[[int], None]) -> Mapping[str, Any]:
    """The import, as the uploader; the counts and the rejects file for the job row. A file
    that cannot be imported fails the job with the reason (the page shows it)."""
    path = Path(settings.VAR_DIR) / job.stored_path
    rejects = path.with_name("rejects.csv")
    try:
        job_progress(job, total=_count_rows(path))
        summary = IMPORTERS[ImportJob.Kind(job.kind)](
            path, actor=job.user, compound_code=job.compound_code or None, rejects_path=rejects,
            progress=progress, name=job.original_name,
        )
    except ImportFileError as exc:
        raise JobFailed(str(exc)) from None
    return {
        "processed": summary.read, "created": summary.created, "updated": summary.updated,
        "unchanged": summary.unchanged, "rejected": summary.rejected,
        "rejects_path": str(rejects.relative_to(settings.VAR_DIR)) if summary.rejects_file else "",
    }


def import_jobs_of(user: Any) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(user=user).order_by("-created_at")


def access_import_job(user: Any, pk: int) -> ImportJob:
    """The job, if it is the user's own and they still may import (its rejects file holds ID
    numbers); "not found" otherwise."""
    job = import_jobs_of(user).filter(pk=pk).first() if may_import(user) else None
    if job is None:
        raise Http404("no such import")
    return job
