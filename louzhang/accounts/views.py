"""The log-in page (Django's view with the slowed form): a device that logged in is remembered,
and a try that must wait answers 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from louzhang.accounts.forms import LoginForm
from louzhang.accounts.throttle import remember_device


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        remember_device(self.request, response, form.get_user().get_username())
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        wait = getattr(form, "wait_seconds", 0)
        if wait:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response
