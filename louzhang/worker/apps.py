from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkerConfig(AppConfig):
    name = "louzhang.worker"
    label = "worker"
    verbose_name = _("Background worker")

    def ready(self) -> None:
        # register the recovery of stuck tasks and of jobs whose worker died
        from louzhang.worker import jobs, recovery  # noqa: F401
