from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TipsConfig(AppConfig):
    name = "louzhang.tips"
    label = "tips"
    verbose_name = _("Tips from residents")

    def ready(self) -> None:
        from louzhang.tips import rules  # noqa: F401  (registers the tip rule)
