"""Password guesses against one account, slowed whatever address they come from.

The lock-out of django-axes counts per user *and* address: an attacker rotating addresses is
never stopped by it. Here every account also has a count of wrong passwords from anywhere: after
`LOUZHANG_LOGIN_ACCOUNT_FREE_FAILURES` of them, each further try must wait a delay that doubles
with every failure (2 s, 4 s, 8 s …) up to `LOUZHANG_LOGIN_ACCOUNT_MAX_DELAY_SECONDS`. It is a
delay, never a lock: the officer who waits it out logs in with the right password, and a phone
the officer has logged in on before (a signed cookie, `known_device`) does not wait at all — an
attacker cannot keep the warden out of the gate page in an emergency.

The counts live in the cache (Redis with `REDIS_URL`, shared by every process); a successful
log-in clears them; a quiet day forgets them.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache

#: the cookie naming (by a hash) the accounts logged in on this device
DEVICE_COOKIE = "lz_device"
_DEVICE_SALT = "louzhang.accounts.known-device"
_DEVICE_DAYS = 180
_MAX_DEVICE_ACCOUNTS = 5
#: failures older than this (seconds since the last one) are forgotten
_WINDOW = 24 * 3600


def _account(username: str) -> str:
    return hashlib.sha256(username.strip().casefold().encode("utf-8")).hexdigest()[:32]


def _keys(username: str) -> tuple[str, str]:
    account = _account(username)
    return f"lz:login:failures:{account}", f"lz:login:until:{account}"


def delay_after(failures: int) -> int:
    """Seconds the next try waits after `failures` wrong passwords in a row (0: none)."""
    free = settings.LOUZHANG_LOGIN_ACCOUNT_FREE_FAILURES
    if failures < free:
        return 0
    return int(min(settings.LOUZHANG_LOGIN_ACCOUNT_MAX_DELAY_SECONDS, 2 * 2 ** (failures - free)))


def account_wait(username: str) -> int:
    """Whole seconds before the account `username` may be tried again (0: now)."""
    if not username:
        return 0
    until = cache.get(_keys(username)[1])
    if until is None:
        return 0
    return max(0, math.ceil(float(until) - time.time()))


def account_failed(username: str) -> int:
    """Count a wrong password for `username` (from any address); the wait it imposes."""
    if not username:
        return 0
    failures_key, until_key = _keys(username)
    cache.add(failures_key, 0, timeout=_WINDOW)
    try:
        failures = int(cache.incr(failures_key))
    except ValueError:  # expired between add and incr
        cache.set(failures_key, 1, timeout=_WINDOW)
        failures = 1
    cache.touch(failures_key, _WINDOW)
    delay = delay_after(failures)
    if delay:
        cache.set(until_key, time.time() + delay, timeout=delay + 60)
    return delay


def account_succeeded(username: str) -> None:
    cache.delete_many(list(_keys(username)))


# --- devices the account was used on ----------------------------------------------------------


def _device_accounts(request: Any) -> list[str]:
    raw = getattr(request, "COOKIES", {}).get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        value = signing.loads(raw, salt=_DEVICE_SALT, max_age=_DEVICE_DAYS * 86400)
    except signing.BadSignature:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def known_device(request: Any, username: str) -> bool:
    """`username` logged in on this device (browser) before: it does not wait."""
    return bool(username) and _account(username) in _device_accounts(request)


def remember_device(request: Any, response: Any, username: str) -> None:
    """After a log-in: this device is known for `username` from now on."""
    accounts = [a for a in _device_accounts(request) if a != _account(username)]
    accounts = [_account(username), *accounts][:_MAX_DEVICE_ACCOUNTS]
    response.set_cookie(DEVICE_COOKIE, signing.dumps(accounts, salt=_DEVICE_SALT),
                        max_age=_DEVICE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)


def must_wait(request: Any, username: str) -> int:
    """Seconds this try of `username` from this request must wait first (0: none)."""
    if not username or known_device(request, username):
        return 0
    return account_wait(username)
