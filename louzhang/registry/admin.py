from django.contrib import admin

from louzhang.audit.admin_mixins import AuditedModelAdmin
from louzhang.registry.models import Resident, Vehicle


@admin.register(Resident)
class ResidentAdmin(AuditedModelAdmin):
    list_display = ["name", "gender", "birth_date", "household", "residency"]
    search_fields = ["name", "id_number"]
    raw_id_fields = ["household"]


@admin.register(Vehicle)
class VehicleAdmin(AuditedModelAdmin):
    list_display = ["plate", "vehicle_type", "compound", "owner", "registered_at", "left_city_at"]
    search_fields = ["plate"]
    raw_id_fields = ["owner", "compound"]
