from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkerConfig(AppConfig):
    name = "louzhang.worker"
    label = "worker"
    verbose_name = _("Background worker")

    def ready(self) -> None:
        from louzhang.worker import recovery  # noqa: F401  (registers the stuck-task recovery)
