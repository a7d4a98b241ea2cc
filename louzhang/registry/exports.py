"""Exporting the registry to XLSX: exactly what the user may see, masked as on the pages, and
every export written to the audit log."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook

from louzhang.accounts.policy import present
from louzhang.areas.jurisdiction import scope
from louzhang.areas.models import Area
from louzhang.audit.models import AuditEvent
from louzhang.registry.care import care_text
from louzhang.registry.models import Resident

HEADERS = ["小区", "楼号", "单元", "户", "姓名", "性别", "出生日期", "身份证号", "手机号", "人员类型", "关怀标签",
           "备注"]


def export_residents(user: Any, area: Area) -> bytes:
    """Residents under `area` within the user's jurisdiction, as an XLSX workbook.

    Text cells only for numbers (ID numbers, phones), so Excel never turns them into 1.50207E+17.
    """
    residents = list(
        scope(Resident.objects.filter(household__path__subtree=area.path), user)
        .select_related("household__parent__parent__parent")
        .order_by("household__path", "-is_head", "birth_date")
    )
    shown = present(user, residents, path_of=lambda r: r.household.path,
                    purpose=AuditEvent.Action.EXPORT, audit_under=area.path)
    if not any(p.full for p in shown):  # masked exports are audited too
        from louzhang.audit.services import audit_record

        audit_record(actor=user, action=AuditEvent.Action.EXPORT, object_type="registry.resident",
                     area_path=area.path, summary=f"{len(residents)} registry.resident (masked)",
                     detail={"count": len(residents)})
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title="居民")
    sheet.append(HEADERS)
    for person in shown:
        r: Resident = person.obj
        household = r.household
        unit = household.parent
        building = unit.parent if unit else None
        compound = building.parent if building else None
        sheet.append([
            compound.name if compound else "", building.name if building else "",
            unit.name if unit else "", household.name, person["name"], r.get_gender_display(),
            r.birth_date.isoformat(), person["id_number"], person["phone"],
            r.get_residency_display(), care_text(person["care_tags"]), r.note,
        ])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
