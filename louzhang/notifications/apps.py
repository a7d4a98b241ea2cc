from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "louzhang.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from django.conf import settings

        from louzhang.env import ConfigurationError
        from louzhang.notifications import periodic  # noqa: F401  (registers the outbox sweep)
        from louzhang.notifications.policy import parse_allowance

        try:  # a mistyped allowance must stop the start, not silently allow nothing (or more)
            parse_allowance(settings.LOUZHANG_CHANNEL_ALLOW)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
