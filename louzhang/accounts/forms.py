"""The log-in form: Django's, slowed per account (`accounts.throttle`) before any password is
checked, and saying truthfully how long to wait."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from louzhang.accounts.throttle import must_wait


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "slowed": _("Too many wrong passwords for this account: try again in %(seconds)s seconds. "
                    "On a phone this account has logged in on before, there is no wait."),
    }

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        wait = must_wait(self.request, username)
        if wait and AxesProxyHandler.is_locked(self.request, {"username": username}):
            wait = 0  # this address is locked out for longer: its own page says so
        if wait:
            self.wait_seconds = wait
            raise forms.ValidationError(self.error_messages["slowed"], code="slowed",
                                        params={"seconds": wait})
        return super().clean()
