"""Reading the audit log: a commander sees the events of their jurisdiction."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from louzhang.accounts.models import Role
from louzhang.areas.jurisdiction import jurisdiction_for
from louzhang.audit.models import AuditEvent


def audit_events_for(user: Any) -> QuerySet[AuditEvent]:
    """Events about objects in the user's commander jurisdiction; events tied to no area
    (log-ins, tokens) only for superusers."""
    events = AuditEvent.objects.all()
    jurisdiction = jurisdiction_for(user, roles=[Role.COMMANDER])
    if jurisdiction.everything:
        return events
    return events.exclude(area_path="").filter(jurisdiction.q("area_path"))


def can_browse_audit(user: Any) -> bool:
    return not jurisdiction_for(user, roles=[Role.COMMANDER]).is_empty
