from django.contrib import admin

from louzhang.areas.models import Area, PoliceUnit
from louzhang.audit.admin_mixins import AuditedModelAdmin


@admin.register(Area)
class AreaAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "level", "path"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    readonly_fields = ["path"]

    # codes and parents make up `path`: the tree is built through services (the demo, imports),
    # never edited by hand here
    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(PoliceUnit)
class PoliceUnitAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "kind", "parent", "area"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent", "area", "communities"]
