"""Creating users, granting roles and issuing API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from louzhang.accounts.models import ApiToken, Grant, Role, User
from louzhang.areas.models import Area, PoliceUnit
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record

TOKEN_PREFIX = "lz_"  # noqa: S105  (marks our tokens; not a secret)


class AccountError(Exception):
    """A user or token request that cannot be carried out; the message says why."""


def resolve_scopes(codes: Sequence[str]) -> list[Area | PoliceUnit]:
    """Area codes, or police unit codes (a station's beat), in the order given."""
    if not codes:
        raise AccountError("at least one --area is required")
    found: list[Area | PoliceUnit] = []
    areas = {a.code: a for a in Area.objects.filter(code__in=codes)}
    units = {u.code: u for u in PoliceUnit.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in areas and c not in units]
    if unknown:
        raise AccountError(f"unknown area code: {', '.join(unknown)}")
    ambiguous = [c for c in codes if c in areas and c in units]
    if ambiguous:
        raise AccountError(f"code names both an area and a police unit: {', '.join(ambiguous)}")
    for code in dict.fromkeys(codes):
        found.append(areas.get(code) or units[code])
    return found


def user_create(
    *,
    username: str,
    role: str,
    area_codes: Sequence[str],
    password: str | None = None,
    display_name: str = "",
    phone: str = "",
    police_unit: PoliceUnit | None = None,
    actor: Any = None,
    check_password: bool = True,
) -> User:
    """Create a user holding `role` over each of the areas; all or nothing."""
    if role not in Role.values:
        raise AccountError(f"unknown role {role!r}: choose from {', '.join(Role.values)}")
    if not username or len(username) > 150:
        raise AccountError("username must be 1 to 150 characters")
    scopes = resolve_scopes(area_codes)
    if User.objects.filter(username=username).exists():
        raise AccountError(f"user {username!r} already exists")
    user = User(username=username, display_name=display_name, phone=phone, police_unit=police_unit)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise AccountError(
            "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        ) from None
    if password:
        if check_password:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise AccountError("password: " + " ".join(exc.messages)) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            _save_user_with_grants(user, role, scopes, actor)
    except IntegrityError:  # created by someone else between the check and the save
        raise AccountError(f"user {username!r} already exists") from None
    return user


def _save_user_with_grants(
    user: User, role: str, scopes: list[Area | PoliceUnit], actor: Any
) -> None:
    user.save()
    for scope in scopes:
        grant_role(user=user, role=role, scope=scope, actor=actor)
    first = scopes[0]
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, object_type="accounts.user",
        object_id=user.pk, summary=f"{user.username} {role}",
        area_path=first.path if isinstance(first, Area) else first.area.path,
        detail={"role": role, "areas": [s.code for s in scopes]},
    )


def grant_role(*, user: User, role: str, scope: Area | PoliceUnit, actor: Any = None) -> Grant:
    if role not in Role.values:
        raise AccountError(f"unknown role {role!r}")
    if isinstance(scope, Area):
        grant, _ = Grant.objects.get_or_create(user=user, role=role, area=scope, starts_at=None, ends_at=None)
    else:
        grant, _ = Grant.objects.get_or_create(user=user, role=role, police_unit=scope, starts_at=None,
                                               ends_at=None)
    forget_grants(user)
    return grant


def forget_grants(user: Any) -> None:
    """Drop what this request remembered of the user's grants (after a grant changes): what
    is read from grants is kept on the user object under `_lz_` keys for one request."""
    for key in [k for k in user.__dict__ if k.startswith("_lz_")]:
        del user.__dict__[key]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_create(*, user: User, name: str = "", actor: Any = None) -> tuple[ApiToken, str]:
    """A new token; the plain value is returned once and never stored."""
    if not user.is_active:
        raise AccountError(f"user {user.username!r} is not active")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, prefix=plain[:10], token_hash=_hash(plain)
        )
        audit_record(
            actor=actor, action=AuditEvent.Action.TOKEN_CREATE, object_type="accounts.apitoken",
            object_id=token.pk, summary=f"{user.username} {token.prefix}",
        )
    return token, plain


def token_revoke(*, token: ApiToken, actor: Any = None) -> bool:
    """Revoke a token; False if it was revoked already (two admins at once: one wins)."""
    with transaction.atomic():
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if changed:
            audit_record(
                actor=actor, action=AuditEvent.Action.TOKEN_REVOKE,
                object_type="accounts.apitoken", object_id=token.pk,
                summary=f"{token.user.username} {token.prefix}",
            )
    return bool(changed)


def token_authenticate(plain: str, *, ip: str | None = None) -> User | None:
    """The active user a token belongs to, or None for an unknown or revoked token."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash(plain), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    touch_every = timedelta(seconds=settings.LOUZHANG_TOKEN_TOUCH_SECONDS)
    if token.last_used_at is None or now - token.last_used_at >= touch_every:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
    return token.user
