from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObservationConfig(AppConfig):
    name = "louzhang.observation"
    label = "observation"
    verbose_name = _("Home observation")

    def ready(self) -> None:
        from louzhang.observation import periodic, rules  # noqa: F401  (registers rules and the sweep)
