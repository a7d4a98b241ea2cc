"""People on post in Django admin: officers' registry data and their log-in; duty status,
response levels and recalls change only through the services (history, recalls, the loop),
so they are read-only here."""

from django.contrib import admin

from louzhang.audit.admin_mixins import AuditedModelAdmin
from louzhang.duty.models import Officer, Recall, ResponseLevel


@admin.register(Officer)
class OfficerAdmin(AuditedModelAdmin):
    list_display = ["badge_number", "name", "unit", "category", "post", "status", "status_since", "user"]
    list_filter = ["category", "status"]
    search_fields = ["badge_number", "name"]
    raw_id_fields = ["unit", "user"]
    readonly_fields = ["status", "status_since"]


class _ReadOnly(AuditedModelAdmin):
    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ResponseLevel)
class ResponseLevelAdmin(_ReadOnly):
    list_display = ["area", "level", "started_at", "set_by", "ended_at"]
    list_filter = ["level"]


@admin.register(Recall)
class RecallAdmin(_ReadOnly):
    list_display = ["officer", "response", "sent_at", "due_at", "acknowledged_at", "on_post_at", "ended_at"]
