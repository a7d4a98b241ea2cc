from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisinfectionConfig(AppConfig):
    name = "louzhang.disinfection"
    label = "disinfection"
    verbose_name = _("Unit representatives and disinfection")

    def ready(self) -> None:
        from louzhang.disinfection import periodic, rules  # noqa: F401  (registers the rule and the sweep)
        from louzhang.disinfection.schedule import check_settings

        check_settings()  # a bad LOUZHANG_DISINFECTION_* stops start-up, naming the variable
