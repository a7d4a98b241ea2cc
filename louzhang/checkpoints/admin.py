from django.contrib import admin

from louzhang.checkpoints.models import Checkpoint


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "road", "area", "operating_unit"]
    raw_id_fields = ["area", "operating_unit"]
