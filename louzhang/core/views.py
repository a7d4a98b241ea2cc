"""What every page does alike."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import Http404

V = TypeVar("V", bound=Callable[..., Any])


def forbidden_is_missing(view: V) -> V:
    """A service's "not allowed" (`PermissionDenied`) answered as "not found", like the
    `access_*` helpers answer: a page never tells an outsider that something exists."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except PermissionDenied:
            raise Http404("not found") from None

    return wrapped  # type: ignore[return-value]
