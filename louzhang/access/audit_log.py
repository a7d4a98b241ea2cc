"""Reading the audit log: a commander sees the events of their jurisdiction."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import COMMANDING
from louzhang.audit.models import AuditEvent


def audit_events_for(user: Any) -> QuerySet[AuditEvent]:
    """Events about objects in the user's commander jurisdiction; events tied to no area
    (log-ins, tokens) only for superusers."""
    events = AuditEvent.objects.all()
    jurisdiction = jurisdiction_for(user, roles=COMMANDING)
    if jurisdiction.everything:
        return events
    return events.exclude(area_path="").filter(jurisdiction.q("area_path"))

