from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BreakglassConfig(AppConfig):
    name = "louzhang.breakglass"
    label = "breakglass"
    verbose_name = _("Look-ups outside the jurisdiction")
