from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "louzhang.registry"
    label = "registry"
    verbose_name = _("Population registry")

    def ready(self) -> None:
        # register the work of the import and export jobs with the worker
        from louzhang.registry import exports, imports  # noqa: F401
