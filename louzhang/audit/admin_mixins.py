"""Changes made through Django admin reach the audit log like any other change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record


def area_path_of(obj: Any) -> str:
    """Follow the model's `jurisdiction_path` (e.g. "household__path") to the area path."""
    route = getattr(type(obj), "jurisdiction_path", None)
    value: Any = obj
    for part in (route or "").split("__") if route else []:
        value = getattr(value, part, None)
        if value is None:
            return ""
    return value if isinstance(value, str) else ""


class AuditedModelAdmin(admin.ModelAdmin):
    def _audit(self, request: Any, obj: Any, action: str, message: Any = "") -> None:
        audit_record(
            actor=request.user, action=action, object_type=obj._meta.label_lower,
            object_id=obj.pk, summary=str(obj), area_path=area_path_of(obj),
            detail={"via": "admin", "message": str(message)[:500]},
        )

    def log_addition(self, request: Any, obj: Any, message: Any) -> Any:
        self._audit(request, obj, AuditEvent.Action.CREATE, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request: Any, obj: Any, message: Any) -> Any:
        self._audit(request, obj, AuditEvent.Action.CHANGE, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: Any, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, obj, AuditEvent.Action.DELETE)
        return super().log_deletions(request, queryset)
