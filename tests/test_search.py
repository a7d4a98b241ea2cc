"""Finding a resident by ID number, phone or name — only within the jurisdiction."""

from __future__ import annotations

import pytest

from louzhang.registry.models import Resident
from tests.conftest import BAOLI, FUGUI, web_client


def search(user, q):
    response = web_client(user).get("/search/", {"q": q})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_find_by_id_phone_and_name_in_any_spelling(warden):
    person = Resident.objects.filter(household__path__contains=f"/{BAOLI}-34/").exclude(phone="").first()
    spaced_phone = f"{person.phone[:3]} {person.phone[3:7]} {person.phone[7:]}"
    for query in (person.id_number.lower(), spaced_phone, person.name):
        page = search(warden, query)
        assert person.household.code in page and person.id_number in page, query


@pytest.mark.django_db
def test_nobody_outside_the_jurisdiction_is_found(warden, gate):
    outsider = Resident.objects.filter(household__path__contains=f"/{FUGUI}/").exclude(phone="").first()
    for query in (outsider.id_number, outsider.phone):
        page = search(warden, query)
        assert outsider.household.code not in page and "辖区内没有符合的居民" in page
    # gate staff find people of their compound, masked
    person = Resident.objects.filter(household__path__contains=f"/{BAOLI}-1/").first()
    page = search(gate, person.id_number)
    masked = person.id_number[:4] + "*" * 10 + person.id_number[-4:]
    assert person.household.code in page
    assert f'data-field="id_number">{masked}<' in page  # (the query itself stays in the box)


@pytest.mark.django_db
def test_resident_search_api_is_scoped_masked_and_audited(warden, warden_jy, gate):
    from louzhang.audit.models import AuditEvent
    from louzhang.registry.models import Resident
    from tests.conftest import api_for

    person = Resident.objects.filter(household__code__startswith="150202001001001-34-").exclude(phone="").first()
    person.care_tags = "elderly_alone"
    person.save(update_fields=["care_tags"])
    full = api_for(warden).get("/residents", q=person.id_number).json()
    assert full["count"] == 1
    item = full["items"][0]
    assert item["id_number"] == person.id_number and item["care_tags"] == ["elderly_alone"]
    assert item["household"]["code"] == person.household.code
    assert AuditEvent.objects.filter(actor=warden, object_type="registry.resident").exists()
    assert api_for(warden_jy).get("/residents", q=person.id_number).json() == {"items": [], "count": 0}
    masked = api_for(gate).get("/residents", q=person.phone).json()["items"][0]
    assert masked["id_number"].count("*") == 10 and masked["care_tags"] == ["***"]
    assert "*" in masked["phone"] and masked["name"].endswith("*")
    assert api_for(warden).get("/residents").status_code == 422  # q is required
