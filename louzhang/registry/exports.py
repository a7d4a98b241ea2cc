"""Exporting the registry to XLSX: exactly what the user may see, masked as on the pages, and
every export written to the audit log (one event per export).

A compound is exported in the request; a district or a whole city (hundreds of thousands of
rows) by the worker, into a file the user downloads when it is ready (`ExportJob`, a job of
`louzhang.worker.jobs`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.http import Http404
from openpyxl import Workbook

from louzhang.access.areas import access_area
from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.access.masking import present
from louzhang.areas.models import Area
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.core.sheets import data_row
from louzhang.registry.care import care_text
from louzhang.registry.models import ExportJob, Resident
from louzhang.worker.jobs import job_enqueue, job_work

HEADERS = ["小区", "楼号", "单元", "户", "姓名", "性别", "出生日期", "身份证号", "手机号", "人员类型", "关怀标签",
           "备注"]
CHUNK = 5000
#: an export event lists the ids shown in full up to this many; beyond, their count
AUDIT_IDS = 10_000


def residents_in(user: Any, area: Area) -> Any:
    return scope(Resident.objects.filter(household__path__subtree=area.path), user)


def write_residents(target: IO[bytes], user: Any, area: Area,
                    progress: Callable[[int], None] | None = None) -> int:
    """Residents under `area` within the user's jurisdiction, as an XLSX workbook on `target`;
    returns how many. Every cell is data (`data_row`: a name typed as `=HYPERLINK(…)` stays
    text), text cells for numbers (ID numbers, phones), so Excel never turns them into
    1.50207E+17. Streamed in chunks: memory stays flat for a whole city."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title="居民")
    sheet.append(data_row(sheet, HEADERS))
    queryset = (residents_in(user, area).select_related("household__parent__parent__parent")
                .order_by("household__path", "-is_head", "birth_date", "id"))
    count = 0
    full_ids: list[int] = []
    full_count = 0
    chunk: list[Resident] = []

    def flush() -> None:
        nonlocal full_count
        for person in present(user, chunk, path_of=lambda r: r.household.path, record=False):
            r: Resident = person.obj
            if person.full:
                full_count += 1
                if len(full_ids) < AUDIT_IDS:
                    full_ids.append(r.pk)
            household = r.household
            unit = household.parent
            building = unit.parent if unit else None
            compound = building.parent if building else None
            sheet.append(data_row(sheet, [
                compound.name if compound else "", building.name if building else "",
                unit.name if unit else "", household.name, person["name"], r.get_gender_display(),
                r.birth_date.isoformat(), person["id_number"], person["phone"],
                r.get_residency_display(), care_text(person["care_tags"]), r.note,
            ]))
        if progress:
            progress(len(chunk))
        chunk.clear()

    for resident in queryset.iterator(chunk_size=CHUNK):
        chunk.append(resident)
        count += 1
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    masked = "" if full_count else " (masked)"
    audit_record(
        actor=user, action=AuditEvent.Action.EXPORT, object_type="registry.resident",
        area_path=area.path, summary=f"{count} registry.resident{masked}",
        detail={"count": count, "full": full_count, "ids": [str(i) for i in full_ids],
                "ids_complete": full_count <= AUDIT_IDS},
    )
    book.save(target)
    return count


def export_residents(user: Any, area: Area) -> bytes:
    """A compound (or smaller) exported in the request."""
    buffer = BytesIO()
    write_residents(buffer, user, area)
    return buffer.getvalue()


# --- exports of large areas, in the background ------------------------------------------------


def export_job_create(*, user: Any, code: str) -> ExportJob:
    """Queue an export of the area `code` as `user` sees it (masked as on the pages); "not
    found" for an area the user cannot reach."""
    area = access_area(user, code)
    with transaction.atomic():
        job = ExportJob.objects.create(user=user, area=area, total=residents_in(user, area).count())
        job_enqueue(job)
    return job


@job_work(ExportJob)
def export_job_work(job: ExportJob, progress: Callable[[int], None]) -> Mapping[str, Any]:
    """Write the file: a new one each time the job is taken up."""
    folder = Path(settings.VAR_DIR) / "exports" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / "residents.xlsx"
    with path.open("wb") as handle:
        count = write_residents(handle, job.user, job.area, progress=progress)
    return {"processed": count, "file_path": str(path.relative_to(settings.VAR_DIR))}


def access_export_job(user: Any, pk: int) -> ExportJob:
    """The job, if the user asked for it and still reaches its area; "not found" otherwise."""
    job = ExportJob.objects.select_related("area").filter(pk=pk, user=user).first()
    if job is None or not jurisdiction_for(user).navigable(job.area.path):
        raise Http404("no such export")
    return job
