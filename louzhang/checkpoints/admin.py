from django.contrib import admin

from louzhang.audit.admin_mixins import AuditedModelAdmin
from louzhang.checkpoints.models import Checkpoint


@admin.register(Checkpoint)
class CheckpointAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "road", "area", "operating_unit"]
    raw_id_fields = ["area", "operating_unit"]
