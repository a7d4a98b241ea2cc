"""The tips of a jurisdiction as a spreadsheet (线索台账): what the officer may see, the
reporter's phone masked (an export never carries it), every cell data — a tip typed as
`=HYPERLINK(…)` stays text — and the export written to the audit log."""

from __future__ import annotations

from typing import IO, Any

from django.db.models import QuerySet
from openpyxl import Workbook

from louzhang.areas.models import Level
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.core.personal import Kind, mask
from louzhang.core.sheets import data_row
from louzhang.tips.models import Tip

HEADERS = ["查询码", "收到时间", "来源", "类别", "小区", "楼栋", "具体位置", "反映内容", "车牌号", "反映人电话",
           "状态", "处理结果", "办结时间", "办结民警"]
#: rows in one export (a city's tips over an emergency are a few tens of thousands)
MAX_ROWS = 100_000


def write_tips(target: IO[bytes], user: Any, tips: QuerySet[Tip]) -> int:
    """`tips` (already scoped to `user`) as an XLSX workbook on `target`; returns how many."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title="线索")
    sheet.append(data_row(sheet, HEADERS))
    count = 0
    rows = tips.select_related("area__parent", "closed_by").order_by("received_at", "pk")[:MAX_ROWS]
    for tip in rows.iterator(chunk_size=2000):
        compound = tip.area if tip.area.level == Level.COMPOUND else tip.area.parent
        building = tip.area if tip.area.level == Level.BUILDING else None
        sheet.append(data_row(sheet, [
            tip.tracking_code, tip.received_at, tip.get_source_display(), tip.get_category_display(),
            compound.name if compound else "", building.name if building else "", tip.place, tip.content,
            tip.plate, mask(Kind.PHONE, tip.contact_phone), tip.get_status_display(), tip.outcome,
            tip.closed_at, str(tip.closed_by) if tip.closed_by else "",
        ]))
        count += 1
    book.save(target)
    audit_record(actor=user, action=AuditEvent.Action.EXPORT, object_type="tips.tip",
                 summary=f"{count} tips", detail={"rows": count})
    return count
