from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class SuperuserAdminSite(AdminSite):
    """Django admin is for superusers only: officers work through the app's own pages."""

    site_header = _("Louzhang administration")
    site_title = _("Louzhang")

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


class LouzhangAdminConfig(AdminConfig):
    default_site = "louzhang.core.admin_site.SuperuserAdminSite"
