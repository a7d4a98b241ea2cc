"""The audit log cannot be rewritten: not through the ORM, not through SQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from louzhang.audit.models import AppendOnlyError, AuditEvent
from louzhang.audit.services import audit_record


@pytest.mark.django_db
def test_orm_refuses_to_change_or_delete(warden):
    event = audit_record(actor=warden, action=AuditEvent.Action.EXPORT, object_type="x")
    event.summary = "nothing happened"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_auditevent SET summary = 'x'", "DELETE FROM audit_auditevent"],
)
@pytest.mark.django_db
def test_database_refuses_raw_changes(warden, statement):
    audit_record(actor=warden, action=AuditEvent.Action.EXPORT, object_type="x")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


@pytest.mark.django_db
def test_log_in_success_and_failure_are_recorded(client, warden):
    warden.set_password("correct-horse-9")
    warden.save()
    client.post("/accounts/login/", {"username": "warden", "password": "wrong-password"},
                REMOTE_ADDR="10.1.2.3")
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).latest("id")
    assert failed.summary == "warden" and failed.ip == "10.1.2.3"
    client.post("/accounts/login/", {"username": "warden", "password": "correct-horse-9"},
                REMOTE_ADDR="10.1.2.3")
    ok = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).latest("id")
    assert ok.actor == warden and ok.ip == "10.1.2.3"


@pytest.mark.django_db
def test_changes_through_django_admin_are_audited(django_user_model):
    from louzhang.registry.models import Resident
    from tests.conftest import BAOLI_34_2_6W, web_client

    root = django_user_model.objects.create_superuser("root", password="x" * 12)
    person = Resident.objects.filter(household__code=BAOLI_34_2_6W).first()
    client = web_client(root)
    form = client.get(f"/admin/registry/resident/{person.pk}/change/")
    assert form.status_code == 200
    response = client.post(f"/admin/registry/resident/{person.pk}/change/", {
        "name": person.name, "gender": person.gender, "birth_date": person.birth_date.isoformat(),
        "id_number": person.id_number, "phone": "13900001111", "household": person.household_id,
        "residency": person.residency, "is_head": "on" if person.is_head else "",
    })
    assert response.status_code == 302, response.content[:2000]
    event = AuditEvent.objects.filter(action=AuditEvent.Action.CHANGE).latest("id")
    assert event.actor == root and event.object_id == str(person.pk)
    assert event.area_path.endswith(f"/{BAOLI_34_2_6W}/") and event.detail["via"] == "admin"


@pytest.mark.django_db(transaction=True)
def test_test_database_can_still_be_emptied_between_transactional_tests():
    """`louzhang flush` (what the test runner uses) empties the log; nothing else can."""
    from django.core.management import call_command

    audit_record(actor=None, action=AuditEvent.Action.EXPORT, object_type="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 0
    # and the guard is back on afterwards
    audit_record(actor=None, action=AuditEvent.Action.EXPORT, object_type="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")


@pytest.mark.django_db
def test_the_tree_cannot_be_edited_in_admin(django_user_model):
    from tests.conftest import web_client

    root = django_user_model.objects.create_superuser("root", password="x" * 12)
    client = web_client(root)
    assert client.get("/admin/areas/area/add/").status_code == 403
    assert client.get("/admin/areas/area/").status_code == 200
