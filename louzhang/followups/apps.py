from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "louzhang.followups"
    label = "followups"
    verbose_name = _("Follow-ups")

    def ready(self) -> None:
        from louzhang.followups import periodic  # noqa: F401  (registers the escalation sweep)
