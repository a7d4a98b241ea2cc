"""Log-ins and log-outs go to the audit log (Django's auth signals are the only hook there)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from louzhang.accounts.throttle import account_failed, account_succeeded
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditEvent.Action.LOGIN, object_type="accounts.user",
                 object_id=user.pk)
    account_succeeded(user.get_username())


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action=AuditEvent.Action.LOGOUT, object_type="accounts.user",
                     object_id=user.pk)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(actor=None, action=AuditEvent.Action.LOGIN_FAILED, object_type="accounts.user",
                 summary=username, detail={"username": username})
    # a wrong password slows the account from every address; a try refused before its password
    # was checked (this address locked out, the account waiting) is not one
    if not (getattr(request, "axes_locked_out", False) or getattr(request, "louzhang_login_slowed", False)):
        account_failed(username)
