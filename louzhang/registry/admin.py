from django.contrib import admin

from louzhang.audit.admin_mixins import AuditedModelAdmin
from louzhang.registry.models import Resident


@admin.register(Resident)
class ResidentAdmin(AuditedModelAdmin):
    list_display = ["name", "gender", "birth_date", "household", "residency"]
    search_fields = ["name", "id_number"]
    raw_id_fields = ["household"]
