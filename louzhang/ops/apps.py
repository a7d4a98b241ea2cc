from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations commands: `louzhang init`, `serve`, and `flush` (which may empty the audit log)."""

    name = "louzhang.ops"
    label = "ops"
    verbose_name = _("Operations")
