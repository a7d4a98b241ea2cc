from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DutyConfig(AppConfig):
    name = "louzhang.duty"
    label = "duty"
    verbose_name = _("People on post")

    def ready(self) -> None:
        # the recall and uncovered-post rules, and the sweeps the worker's clock runs
        from louzhang.duty import periodic, roster_rules, rules  # noqa: F401
