from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "louzhang.screening"
    label = "screening"
    verbose_name = _("Door-to-door screening")

    def ready(self) -> None:
        from louzhang.screening import rules  # noqa: F401  (registers the visit rules)
