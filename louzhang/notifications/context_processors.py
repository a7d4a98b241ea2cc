from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from louzhang.notifications.selectors import unread_count


def inbox(request: HttpRequest) -> dict[str, Any]:
    """`unread`: the user's unread notifications, counted only when a page prints it."""
    return {"unread": SimpleLazyObject(lambda: unread_count(request.user))}
