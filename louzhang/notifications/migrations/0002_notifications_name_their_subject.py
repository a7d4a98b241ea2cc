"""Notifications and deliveries name what they are about ("followup:17") instead of holding a
foreign key to follow-ups: the delivery service knows nothing of the closed loop above it.
Inbox links become pages of the site ("/followups/17/"); group chats get full addresses."""

from django.db import migrations, models


def name_the_subjects(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Delivery = apps.get_model("notifications", "Delivery")
    for model in (Notification, Delivery):
        for pk, followup_id in model.objects.filter(followup__isnull=False).values_list("pk", "followup_id").iterator():
            model.objects.filter(pk=pk).update(about=f"followup:{followup_id}")
    for pk, followup_id in Notification.objects.filter(followup__isnull=False).values_list("pk", "followup_id").iterator():
        Notification.objects.filter(pk=pk).update(link=f"/followups/{followup_id}/")


def link_the_followups(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Delivery = apps.get_model("notifications", "Delivery")
    for model in (Notification, Delivery):
        for pk, about in model.objects.filter(about__startswith="followup:").values_list("pk", "about").iterator():
            model.objects.filter(pk=pk).update(followup_id=int(about.split(":", 1)[1]))


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0001_inbox_channels_outbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification", name="about",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            model_name="delivery", name="about",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.RunPython(name_the_subjects, link_the_followups),
        migrations.RemoveField(model_name="notification", name="followup"),
        migrations.RemoveField(model_name="delivery", name="followup"),
    ]
