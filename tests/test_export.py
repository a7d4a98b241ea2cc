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
