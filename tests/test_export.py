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
