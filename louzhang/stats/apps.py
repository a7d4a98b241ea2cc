from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "louzhang.stats"
    label = "stats"
    verbose_name = _("Figures and the daily report")

    def ready(self) -> None:
        # registers the periodic roll-up, the report's job work and the summaries' delivery
        from louzhang.stats import delivery, reporting, tasks  # noqa: F401
