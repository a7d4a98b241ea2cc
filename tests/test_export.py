"""Exporting residents to Excel: what the user may see, masked by role, audited."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from louzhang.audit.models import AuditEvent
from louzhang.registry.models import Resident
from tests.conftest import BAOLI, BAOLI_34, DONGHE, FUGUI, web_client


def rows(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    return values[0], values[1:]


@pytest.mark.django_db
def test_warden_exports_own_buildings_in_full(warden):
    header, data = rows(web_client(warden).get(f"/areas/{BAOLI}/residents.xlsx"))
    id_col, phone_col = header.index("身份证号"), header.index("手机号")
    expected = Resident.objects.filter(household__path__contains=f"/{BAOLI}-34/").count()
    assert sum(1 for r in data if r[1] == "34号楼") == expected
    assert {r[1] for r in data} <= {"7号楼", "31号楼", "32号楼", "33号楼", "34号楼", "35号楼", "36号楼"}
    assert all(isinstance(r[id_col], str) and len(r[id_col]) == 18 and "*" not in r[id_col] for r in data)
    event = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).latest("id")
    assert event.actor == warden and event.area_path.endswith(f"/{BAOLI}/")
    assert len(event.detail["ids"]) == len(data)
    assert all("*" not in (r[phone_col] or "") for r in data)


@pytest.mark.django_db
def test_gate_staff_export_is_masked_and_audited(gate):
    person = Resident.objects.filter(household__path__contains=f"/{BAOLI_34}/").exclude(phone="").first()
    header, data = rows(web_client(gate).get(f"/areas/{BAOLI_34}/residents.xlsx"))
    flat = [str(v) for r in data for v in r]
    assert person.id_number not in flat and person.phone not in flat and person.name not in flat
    assert person.id_number[:4] + "*" * 10 + person.id_number[-4:] in flat
    event = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).latest("id")
    assert event.actor == gate and "masked" in event.summary


@pytest.mark.django_db
def test_export_stops_at_the_jurisdiction(warden, commander):
    assert web_client(warden).get(f"/areas/{FUGUI}/residents.xlsx").status_code == 404
    assert web_client(warden).get(f"/areas/{BAOLI}-1/residents.xlsx").status_code == 404
    # districts are too large for a request; per compound only
    assert web_client(commander).get(f"/areas/{DONGHE}/residents.xlsx").status_code == 404


@pytest.mark.django_db
def test_a_district_is_exported_in_the_background_for_its_commander_only(commander, warden, worker):
    from louzhang.registry.models import ExportJob

    client = web_client(commander)
    response = client.post(f"/areas/{DONGHE}/residents.xlsx")
    job = ExportJob.objects.get(user=commander)
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert 'data-state="queued"' in client.get(f"/exports/{job.pk}/").content.decode()
    expected = Resident.objects.filter(household__path__contains=f"/{DONGHE}/").count()
    assert job.total == expected
    worker.run()
    page = client.get(f"/exports/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-state="done"' in page and "hx-trigger" not in page
    download = client.get(f"/exports/{job.pk}/residents.xlsx")
    sheet = load_workbook(BytesIO(b"".join(download.streaming_content))).active
    data = list(sheet.iter_rows(values_only=True))[1:]
    assert len(data) == expected
    id_col = list(sheet.iter_rows(values_only=True))[0].index("身份证号")
    assert all("*" in r[id_col] for r in data)  # commanders do not see ID numbers in full
    event = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, actor=commander).latest("id")
    assert event.detail["count"] == expected and event.area_path.endswith(f"/{DONGHE}/")
    # nobody else can open or download it
    assert web_client(warden).get(f"/exports/{job.pk}/").status_code == 404
    assert web_client(warden).get(f"/exports/{job.pk}/residents.xlsx").status_code == 404
    # a warden exporting the district gets the people of their own buildings, nobody else
    assert web_client(warden).post(f"/areas/{DONGHE}/residents.xlsx").status_code == 302
    worker.run()
    own = ExportJob.objects.get(user=warden)
    mine = Resident.objects.filter(household__parent__parent__grants__user=warden).count()
    assert own.state == "done" and own.processed == own.total == mine < expected


# --- every cell we write is data, never a formula ----------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/","x")', "=cmd|' /C calc'!A0", "+SUM(1,2)", "@SUM(1)",
            "-2+3", "=1+1"]


def _formula_residents(tmp_path, warden):
    """Residents of 34号楼 whose names and notes were typed as formulas."""
    import csv as csv_module

    from louzhang.demo.city import make_id_number
    from louzhang.registry.importing.residents import import_residents

    path = tmp_path / "formulas.csv"
    numbers = [make_id_number("150202", __import__("datetime").date(1966, 6, 6), 700 + n) for n in range(len(FORMULAS))]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv_module.writer(handle)
        writer.writerow(["姓名", "身份证号", "小区", "住址", "备注"])
        for formula, number in zip(FORMULAS, numbers, strict=True):
            writer.writerow([formula, number, "保利百合", "34号楼二单元3楼西户", formula])
        writer.writerow(['=HYPERLINK("http://evil.example/","bad id")', "1", "保利百合", "34号楼二单元3楼西户", "@SUM(1)"])
    summary = import_residents(path, actor=warden, rejects_path=tmp_path / "rejects.csv")
    assert (summary.created, summary.rejected) == (len(FORMULAS), 1)
    return summary


def _cells(content: bytes):
    book = load_workbook(BytesIO(content))  # not read-only: data_type says what Excel would see
    return [cell for row in book.active.iter_rows() for cell in row]


@pytest.mark.django_db
def test_names_typed_as_formulas_are_exported_as_text(tmp_path, warden, gate, commander):
    _formula_residents(tmp_path, warden)
    full = _cells(web_client(warden).get(f"/areas/{BAOLI}/residents.xlsx").content)
    assert not [c.coordinate for c in full if c.data_type == "f"]
    values = {c.value for c in full}
    assert set(FORMULAS) <= values  # shown exactly as typed, as text
    for user, where in ((gate, BAOLI_34), (commander, BAOLI)):
        assert not [c.coordinate for c in _cells(web_client(user).get(f"/areas/{where}/residents.xlsx").content)
                    if c.data_type == "f"]
    # the gate sees names masked: "=HYPERLINK(…)" as "=****…", text and not a broken formula
    masked = _cells(web_client(gate).get(f"/areas/{BAOLI_34}/residents.xlsx").content)
    assert any(isinstance(c.value, str) and c.value.startswith("=*") and c.data_type == "s" for c in masked)


@pytest.mark.django_db
def test_the_rejects_file_never_holds_a_live_formula(tmp_path, warden):
    import csv as csv_module

    summary = _formula_residents(tmp_path, warden)
    with open(summary.rejects_file, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv_module.reader(handle))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(\"http://evil.example/\",\"bad id\")" in cells and "'@SUM(1)" in cells


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("张三", "张三"), ("a=b", "a=b"), (-1, -1), (3.5, 3.5), (None, ""),
])
def test_csv_cells_are_neutralised_the_owasp_way(value, written):
    from louzhang.core.sheets import csv_cell

    assert csv_cell(value) == written
