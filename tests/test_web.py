"""Pages as officers use them: home per role, the area tree, households, masking, audit."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from louzhang.audit.models import AuditEvent
from louzhang.registry.models import Resident
from tests.conftest import (
    BAOLI,
    BAOLI_1,
    BAOLI_34,
    BAOLI_34_2_6W,
    BAOTOU,
    DALAT,
    DONGHE,
    FUGUI,
    FUGUI_1,
    JIUYUAN,
    ORDOS,
    web_client,
)


def area_page(client, code):
    return client.get(f"/areas/{code}/")


@pytest.mark.django_db
def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get(f"/areas/{BAOLI}/").status_code == 302


@pytest.mark.django_db
def test_warden_home_lists_own_buildings_with_household_counts(warden):
    page = web_client(warden).get("/").content.decode()
    assert "保利百合" in page and "7号楼" in page and "34号楼" in page
    assert "1号楼" not in re.sub(r"3[1-6]号楼", "", page)  # only buildings 7 and 31–36
    assert "富贵佳园" not in page and "九原区" not in page
    # 34号楼: 2 units × 6 floors × 2 doors
    assert re.search(r"34号楼.*?24 户", page, re.S)


@pytest.mark.django_db
def test_commander_home_shows_the_city_and_today_figures(commander):
    page = web_client(commander).get("/").content.decode()
    assert "包头市" in page and "东河区" in page and "九原区" in page
    assert 'hx-get="/dashboard/today/"' in page
    assert "鄂尔多斯市" not in page


@pytest.mark.django_db
def test_checkpoint_officer_home_lists_the_checkpoint(checkpoint_officer):
    page = web_client(checkpoint_officer).get("/").content.decode()
    assert "达拉特旗进城检查站" in page and "DLT-CP1" in page


@pytest.mark.parametrize(
    ("username", "allowed", "foreign"),
    [
        ("warden", [BAOLI, BAOLI_34, BAOLI_34_2_6W], [JIUYUAN, FUGUI, FUGUI_1, BAOLI_1, DALAT]),
        ("warden_jy", [FUGUI, FUGUI_1], [DONGHE, BAOLI, BAOLI_34_2_6W, ORDOS]),
        ("gate", [BAOLI, BAOLI_1, BAOLI_34_2_6W], [FUGUI, FUGUI_1, "150203"]),
        ("unit_rep", [BAOLI_34_2_6W], [f"{BAOLI_34}-1", BAOLI_1, FUGUI]),
        ("health", [DONGHE, BAOLI_34_2_6W], [JIUYUAN, FUGUI_1, ORDOS]),
        ("checkpoint", [DALAT], [BAOTOU, BAOLI, FUGUI]),
        ("commander", [BAOTOU, BAOLI_34_2_6W, FUGUI_1], [ORDOS, DALAT]),
    ],
)
@pytest.mark.django_db
def test_pages_stop_at_the_jurisdiction(username, allowed, foreign, django_user_model):
    client = web_client(django_user_model.objects.get(username=username))
    for code in allowed:
        assert area_page(client, code).status_code == 200, code
    for code in foreign:
        assert area_page(client, code).status_code == 404, code


@pytest.mark.django_db
def test_compound_page_lists_only_own_buildings_for_a_warden(warden):
    page = area_page(web_client(warden), BAOLI).content.decode()
    assert "34号楼" in page and f"/areas/{BAOLI_1}/" not in page


@pytest.mark.django_db
def test_household_page_masks_by_role(warden, gate, commander, unit_rep):
    members = list(Resident.objects.filter(household__code=BAOLI_34_2_6W).exclude(phone=""))
    assert members, "demo household 34号楼二单元6楼西户 has residents with phones"
    person = members[0]

    warden_page = area_page(web_client(warden), BAOLI_34_2_6W).content.decode()
    assert person.id_number in warden_page and person.phone in warden_page
    assert person.name in warden_page

    for viewer in (gate, unit_rep):
        page = area_page(web_client(viewer), BAOLI_34_2_6W).content.decode()
        assert person.name not in page and person.name[0] + "*" * (len(person.name) - 1) in page
        assert person.id_number not in page and person.phone not in page
        assert person.id_number[:4] + "*" * 10 + person.id_number[-4:] in page
        assert person.phone[:3] + "****" + person.phone[-4:] in page

    commander_page = area_page(web_client(commander), BAOLI_34_2_6W).content.decode()
    assert person.phone in commander_page and person.id_number not in commander_page


@pytest.mark.django_db
def test_full_views_are_audited_masked_views_are_not(warden, gate):
    gate_client, client = web_client(gate), web_client(warden)  # log-ins are audited too
    before = AuditEvent.objects.count()
    area_page(gate_client, BAOLI_34_2_6W)
    assert AuditEvent.objects.count() == before
    client.get(f"/areas/{BAOLI_34_2_6W}/", REMOTE_ADDR="10.20.30.40")
    event = AuditEvent.objects.latest("id")
    assert event.action == AuditEvent.Action.VIEW and event.actor == warden
    assert event.object_type == "registry.resident" and event.ip == "10.20.30.40"
    ids = {str(r.pk) for r in Resident.objects.filter(household__code=BAOLI_34_2_6W)}
    assert set(event.detail["ids"]) == ids
    assert event.area_path.endswith(f"/{BAOLI_34_2_6W}/")


@pytest.mark.django_db
def test_commander_browses_audit_of_own_jurisdiction_only_in_words(commander, warden, station_kde):
    web_client(warden).get(f"/areas/{BAOLI_34_2_6W}/")
    event = AuditEvent.objects.latest("id")
    page = web_client(commander).get("/audit/").content.decode()
    row = re.search(rf'<tr data-event="{event.pk}">(.*?)</tr>', page, re.S).group(1)
    # who by name, what in words, where as a place: no log-in name, no model label, no number
    assert f"<td data-actor>{warden.display_name}</td>" in row and warden.display_name != warden.username
    people = list(Resident.objects.filter(household__code=BAOLI_34_2_6W))
    assert "registry" not in page and "resident" not in row and event.object_id not in row
    assert ">warden<" not in page
    what = re.search(r"<td data-what>(.*?)</td>", row, re.S).group(1)
    assert any(p.name in what for p in people)  # a commander sees names
    assert re.search(r"<td data-where>东河区 保利百合 34号楼 \S+ \S+</td>", row), row
    # the 库都尔 station commander sees no 包头 events
    other = web_client(station_kde).get("/audit/").content.decode()
    assert f'data-event="{event.pk}"' not in other and "保利百合" not in other
    # a warden has no audit log page
    assert web_client(warden).get("/audit/").status_code == 404


@pytest.mark.django_db
def test_the_audit_log_names_the_person_of_a_single_view_and_masks_as_the_role_requires(commander, warden):
    from louzhang.access.masking import present

    person = Resident.objects.filter(household__code=BAOLI_34_2_6W).first()
    present(warden, [person], path_of=lambda r: r.household.path)  # one resident seen in full
    event = AuditEvent.objects.latest("id")
    assert event.object_type == "registry.resident" and event.object_id == str(person.pk)
    client = web_client(commander)
    client.cookies["django_language"] = "en"
    page = client.get("/audit/").content.decode()
    row = re.search(rf'<tr data-event="{event.pk}">(.*?)</tr>', page, re.S).group(1)
    assert f"<td data-what>resident {person.name}</td>" in row
    assert f"<td data-actor>{warden.display_name}</td>" in row


@pytest.mark.django_db
def test_ui_is_chinese_whatever_the_phone_asks_and_english_when_chosen(warden):
    client = web_client(warden)
    assert "我的工作" in client.get("/").content.decode()
    # an English-set phone still gets Chinese: log-in page and pages alike
    english_phone = {"Accept-Language": "en-US,en;q=0.9"}
    assert "我的工作" in client.get("/", headers=english_phone).content.decode()
    login = Client().get("/accounts/login/", headers=english_phone)
    assert login["Content-Language"] == "zh-hans" and 'lang="zh-hans"' in login.content.decode()
    # the user picks English with the language switch; it stays chosen, whatever the phone asks
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert switched.status_code == 302
    assert "My work" in client.get("/").content.decode()
    assert "My work" in client.get("/", headers={"Accept-Language": "zh-CN"}).content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "我的工作" in client.get("/", headers=english_phone).content.decode()
    # the HTTP API answers a program in the language it asks for
    assert Client().get("/api/v1/areas", headers=english_phone)["Content-Language"] == "en"


@pytest.mark.django_db
def test_security_headers(warden):
    response = web_client(warden).get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_static_assets_are_local(warden):
    page = web_client(warden).get("/").content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', page)


@pytest.mark.django_db
def test_admin_is_for_superusers_only(commander, django_user_model):
    commander.is_staff = True
    commander.save(update_fields=["is_staff"])
    assert web_client(commander).get("/admin/").status_code == 302
    root = django_user_model.objects.create_superuser("root", password="x" * 12)
    assert web_client(root).get("/admin/").status_code == 200


@pytest.mark.django_db
def test_counts_above_the_grants_only_count_the_granted_parts(warden):
    """东河区 seen by the warden of 7 buildings: 7 × 24 households, not the district's 864."""
    page = area_page(web_client(warden), DONGHE).content.decode()
    assert "168 户" in page and "864" not in page
    compound = area_page(web_client(warden), BAOLI).content.decode()
    assert compound.count("24 户") == 7
