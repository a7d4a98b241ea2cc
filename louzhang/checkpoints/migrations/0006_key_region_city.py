"""Key regions get the city whose list they are on; none: the operator's list, for every city.

The regions there are (the seeded 湖北省 and 武汉市, any a command centre added) applied in every
city until now, so they all become the operator's: nothing a checkpoint flagged yesterday goes
unflagged today. A city's command centre adds its own from now on.
"""

import django.db.models.deletion
from django.db import migrations, models


def existing_regions_are_the_operators(apps, schema_editor):
    KeyRegion = apps.get_model("checkpoints", "KeyRegion")
    KeyRegion.objects.update(city=None)


class Migration(migrations.Migration):

    dependencies = [
        ("areas", "0001_initial"),
        ("checkpoints", "0005_key_region_observation_days"),
    ]

    operations = [
        migrations.AddField(
            model_name="keyregion",
            name="city",
            field=models.ForeignKey(blank=True, limit_choices_to={"level": 1}, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="areas.area", verbose_name="city"),
        ),
        migrations.RunPython(existing_regions_are_the_operators, migrations.RunPython.noop),
    ]
