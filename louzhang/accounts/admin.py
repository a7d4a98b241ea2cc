from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from louzhang.accounts.models import ApiToken, Grant, User
from louzhang.audit.admin_mixins import AuditedModelAdmin


class GrantInline(admin.TabularInline):
    model = Grant
    raw_id_fields = ["area", "police_unit"]
    extra = 0


@admin.register(User)
class LouzhangUserAdmin(AuditedModelAdmin, UserAdmin):
    inlines = [GrantInline]
    list_display = ["username", "display_name", "police_unit", "is_active", "last_login"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("Louzhang", {"fields": ["display_name", "phone", "police_unit"]}),
    ]


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "token_hash", "created_at", "last_used_at", "last_used_ip"]
    exclude: list[str] = []

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # tokens are shown once: create them with `louzhang token create`
