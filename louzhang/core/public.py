"""Pages that face anyone on the internet (a tip form, a notice board, a warden's card, a
resident's check-in link): counted per client address, kept out of search engines, and in
Chinese whatever the phone's language.

Counters live in the cache (`REDIS_URL`: shared by every server process; without it each
process counts alone).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache

from louzhang.core.middleware import client_ip

#: the language of the public pages: the residents of a Chinese compound read Chinese, whatever
#: their phone is set to
PUBLIC_LANGUAGE = "zh-hans"


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


def rate_wait(scope: str, ident: str, rate: Rate) -> int:
    """Count one request of `ident` against `rate`; the seconds to wait when it is over the
    limit, else 0.

    A sliding window: the requests of the current fixed window plus the previous window's,
    weighted by how much of it still lies within the last `rate.seconds`. A burst that straddles
    two fixed windows is counted whole, not reset at the boundary."""
    now = time.time()
    window = int(now // rate.seconds)
    key = f"lz:rate:{scope}:{ident}:{window}"
    cache.add(key, 0, timeout=2 * rate.seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=2 * rate.seconds + 1)
        count = 1
    previous = int(cache.get(f"lz:rate:{scope}:{ident}:{window - 1}") or 0)
    elapsed = now / rate.seconds - window  # the share of the current window gone, 0..1
    if count + previous * (1 - elapsed) <= rate.limit:
        return 0
    # the next request passes when the previous window's share has shrunk enough for it, or,
    # when this window is full, when this window's own count has aged enough in the next one
    if count < rate.limit and previous:
        free_at = window + 1 - (rate.limit - count - 1) / previous
    else:
        free_at = window + 2 - (rate.limit - 1) / count
    return max(1, math.ceil((free_at - now / rate.seconds) * rate.seconds))


#: requests one address may make to the public pages in a minute (a compound's residents often
#: share one carrier address: generous, but a script is stopped)
PAGE_RATE = Rate(120, 60)


def page_limited(request: HttpRequest, scope: str, rate: Rate) -> HttpResponse | None:
    """Count a request to a public page; when its address is over `rate`, the 429 page saying
    when to try again (with `Retry-After`), else None."""
    wait = rate_wait(scope, address_of(request), rate)
    if not wait:
        return None
    response = render(request, "public/limited.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


def address_of(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def unlisted(response: HttpResponse) -> HttpResponse:
    """Kept out of search engines. (The referrer stays the site's `same-origin`: with
    `no-referrer` a browser posts a form with `Origin: null`, which CSRF refuses.)"""
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


V = TypeVar("V", bound=Callable[..., HttpResponse])


def public_page(view: V) -> V:
    """A page for residents: no log-in, never cached (it may carry a CSRF token), unlisted, in
    Chinese."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        with translation.override(PUBLIC_LANGUAGE):
            request.LANGUAGE_CODE = PUBLIC_LANGUAGE
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        response["Content-Language"] = "zh-Hans"
        return unlisted(response)

    return never_cache(wrapper)  # type: ignore[return-value]
