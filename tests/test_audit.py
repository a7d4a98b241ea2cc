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
