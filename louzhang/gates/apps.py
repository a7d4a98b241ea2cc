from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatesConfig(AppConfig):
    name = "louzhang.gates"
    label = "gates"
    verbose_name = _("Compound gates")

    def ready(self) -> None:
        from louzhang.gates import rules  # noqa: F401  (registers the gate rules)
