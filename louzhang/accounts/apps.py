from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "louzhang.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from louzhang.accounts import receivers  # noqa: F401  (log-in audit)

