from datetime import date

from django.db import migrations


def seed(apps, schema_editor):
    """The key regions of January 2020: 湖北省 and 武汉市."""
    KeyRegion = apps.get_model("checkpoints", "KeyRegion")
    if not KeyRegion.objects.exists():
        KeyRegion.objects.create(name="湖北省", division_prefixes=["42"], plate_prefixes=["鄂"],
                                 starts_on=date(2020, 1, 1), risk="high")
        KeyRegion.objects.create(name="武汉市", division_prefixes=["4201"], plate_prefixes=["鄂A"],
                                 starts_on=date(2020, 1, 1), risk="high")


class Migration(migrations.Migration):
    dependencies = [("checkpoints", "0002_key_regions_inspections")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
