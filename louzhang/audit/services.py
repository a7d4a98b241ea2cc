"""Writing to the audit log."""

from __future__ import annotations

from typing import Any

from louzhang.audit.models import AuditEvent
from louzhang.core.middleware import current_request_context


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_id: str | int = "",
    summary: str = "",
    area_path: str = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event. The client address comes from the current request when not given."""
    if ip is None:
        context = current_request_context()
        ip = context.ip if context else None
    user = actor if actor is not None and getattr(actor, "pk", None) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_username=getattr(actor, "username", "") or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:300],
        area_path=area_path,
        ip=ip,
        detail=detail or {},
    )
