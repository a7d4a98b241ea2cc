"""An authentication backend that refuses, before any password is checked, a try on an account
that must wait (`accounts.throttle`): the log-in page says so itself (`accounts.forms`); this
catches every other way in (the admin's log-in)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from louzhang.accounts.throttle import must_wait


class AccountThrottleBackend:
    def authenticate(self, request: Any, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> None:
        if username and must_wait(request, username):
            if request is not None:
                request.louzhang_login_slowed = True  # not a wrong password: not counted
            raise PermissionDenied("this account must wait before it is tried again")
        return None

    def get_user(self, user_id: Any) -> None:
        return None
