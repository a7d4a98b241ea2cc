"""Writes for notifications: announcing, the outbox, sending, channels.

`announce()` and `alert_raise()` run inside the caller's transaction: the inbox lines and the
outbox rows commit or roll back with the event. `delivery_send()` is what the worker runs for
one delivery: claim it under a lease (pacing the channel), send, record the answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from louzhang.access.holders import holders_over, holders_within
from louzhang.access.roles import may_manage_channels
from louzhang.accounts.models import Role, User
from louzhang.areas.models import Area, Level
from louzhang.audit.services import audit_record
from louzhang.core.crypto import DataKeyError
from louzhang.core.memo import by_path
from louzhang.notifications.models import (
    RESIDENTS,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryAttempt,
    Notification,
)
from louzhang.notifications.policy import Refused, Unreachable, delivery_target
from louzhang.notifications.scrub import scrub as scrub  # re-exported: notices scrub with it
from louzhang.notifications.transports import TRANSPORTS, transport_for
from louzhang.notifications.transports.base import (
    DeliveryError,
    Message,
    Permanent,
    RateLimited,
    Retryable,
    TooLong,
    Transport,
)

logger = logging.getLogger("louzhang.notifications")

@dataclass(frozen=True)
class Recipient:
    user: User
    role: str


def _ancestry(area: Area) -> list[str]:
    return [*area.ancestor_paths(), area.path]


def absolute_link(link: str) -> str:
    """A page of this site as an address that works from a group chat or a phone's SMS app."""
    if not link or "://" in link:
        return link
    return str(settings.LOUZHANG_BASE_URL).rstrip("/") + link


def announce(
    *,
    area: Area,
    recipients: Sequence[Recipient],
    title: str,
    text: str,
    link: str = "",
    about: str = "",
    channels: Sequence[Channel] | None = None,
) -> list[Delivery]:
    """Put a line in each recipient's inbox and queue a delivery on every active channel whose
    area contains `area` (or of `channels`, when given) and which serves one of the recipients'
    roles.

    `link` is the page of what this is about, on this site ("/followups/17/"); group chats and
    text messages get it as a full address (`LOUZHANG_BASE_URL`). `about` names the subject as
    its owner does ("followup:17"), so the lines can be found again.

    Group chats get the text scrubbed of personal numbers and @ the recipients' work phones
    (where the platform can); an SMS gateway gets one message per recipient with a phone.
    """
    title, text = scrub(title), scrub(text)
    unique: dict[tuple[int, str], Recipient] = {(r.user.pk, r.role): r for r in recipients}
    people = {r.user.pk: r.user for r in unique.values()}
    Notification.objects.bulk_create([
        Notification(user=user, about=about, title=title[:200], body=text, link=link)
        for user in people.values()
    ])
    deliveries: list[Delivery] = []
    now = timezone.now()
    for channel in channels_for(area) if channels is None else channels:
        served = {r.user.pk: r.user for r in unique.values() if channel.serves(r.role)}
        if not served:
            continue
        transport = TRANSPORTS[channel.kind]
        base = {"title": title, "text": text, "link": absolute_link(link)}
        if transport.per_recipient:
            for user in served.values():
                if user.phone:
                    deliveries.append(Delivery(channel=channel, about=about, message=base,
                                               recipient=user.phone, enqueued_at=now))
        else:
            mentions = sorted({u.phone for u in served.values() if u.phone}) if transport.mentions else []
            deliveries.append(Delivery(channel=channel, about=about, enqueued_at=now,
                                       message={**base, "mentions": mentions}))
    return _queue(deliveries)


def broadcast(*, area: Area, title: str, text: str, link: str = "", about: str = "") -> list[Delivery]:
    """Queue something meant for residents (a notice, the outcome of a tip) on every active
    channel serving residents (`Channel.serves(RESIDENTS)`) bound to `area` or anywhere inside
    it: one delivery per group chat, in the caller's transaction (the outbox), sent after it
    commits. Nobody's inbox gets a line and nobody is @-mentioned; a transport sending to one
    person at a time (SMS) is skipped — a notice is not texted to residents.

    The text is scrubbed of personal numbers like every message for a group chat; `link` is a
    page of this site ("/p/150202001001001/notices/3/"), sent as a full address."""
    title, text = scrub(title), scrub(text)
    channels = (Channel.objects.filter(is_active=True, area__path__subtree=area.path)
                .order_by("pk"))
    now = timezone.now()
    message = {"title": title, "text": text, "link": absolute_link(link), "mentions": []}
    deliveries = [
        Delivery(channel=channel, about=about, message=dict(message), enqueued_at=now)
        for channel in channels
        if channel.serves(RESIDENTS) and not TRANSPORTS[channel.kind].per_recipient
    ]
    return _queue(deliveries)


def _queue(deliveries: list[Delivery]) -> list[Delivery]:
    """Write `deliveries` to the outbox in the caller's transaction; sent after it commits."""
    created = Delivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in created if d.pk is not None]
    if len(ids) != len(created):  # a backend that does not return ids from bulk inserts
        ids = list(Delivery.objects.filter(uid__in=[d.uid for d in created]).values_list("id", flat=True))
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return created


def channels_for(area: Area) -> list[Channel]:
    """Active channels bound to `area` or an area above it, in the order they were added."""
    return sorted((c for held in by_path("channels_at", _ancestry(area), _read_channels, subtrees_at=Level.COMPOUND).values()
                   for c in held), key=lambda c: c.pk)


def alert_prepare(area: Area, roles: Sequence[str], within: bool = False) -> None:
    """Read what `alert_raise` for `area` will read (see `followups.rules.rules_prepare`)."""
    holders_of(area, roles, within=within)
    channels_for(area)


def _read_channels(exact: list[str], compounds: list[str]) -> Iterator[tuple[str, Channel]]:
    """Active channels bound to the `exact` areas or anywhere below the `compounds`."""
    where = Q(area__path__in=exact)
    for compound in compounds:
        where |= Q(area__path__subtree=compound, area__level__gt=Level.COMPOUND)
    for channel in Channel.objects.filter(where, is_active=True).select_related("area"):
        yield channel.area.path, channel


def holders_of(area: Area, roles: Sequence[str], *, within: bool = False) -> list[Recipient]:
    """Users holding one of `roles` over `area` (by an area grant or a police unit's beat);
    `within`: also anywhere inside it (every warden of a compound's buildings)."""
    holders = holders_within(area, roles) if within else holders_over(area, roles)
    return list({(h.user.pk, h.role): Recipient(h.user, h.role) for h in holders}.values())


def alert_raise(*, area: Area, roles: Sequence[str], title: str, text: str, link: str = "",
                within: bool = False, told: Sequence[Recipient] = ()) -> list[Recipient]:
    """Tell everybody holding `roles` over `area` (a health liaison of a fever …), or with
    `within` over it or anywhere inside it (every warden of a compound), and the channels of
    the area that serve them (`channels_for`: bound to it or above it). Returns who was told.

    `told`: people the same event has told about `area` already (the owner of the follow-up it
    opened): they are not told again, nor is a group chat of the area that served them (it has
    the news), unless it serves somebody of another role; a text-message gateway still texts
    each of the others."""
    already = {r.user.pk for r in told}
    recipients = [r for r in holders_of(area, roles, within=within) if r.user.pk not in already]
    if not recipients:
        return []
    channels = channels_for(area)
    if told:
        told_roles = {r.role for r in told}
        channels = [c for c in channels if TRANSPORTS[c.kind].per_recipient
                    or not any(c.serves(role) for role in told_roles)
                    or any(c.serves(r.role) for r in recipients if r.role not in told_roles)]
    announce(area=area, recipients=recipients, title=title, text=text, link=link, channels=channels)
    return recipients


def _enqueue(ids: Sequence[int]) -> None:
    from louzhang.notifications.tasks import deliver

    for delivery_id in ids:
        try:
            deliver.enqueue(delivery_id)
        except Exception:  # the outbox sweep will queue it again; the row is safe
            logger.exception("could not queue delivery %s", delivery_id)


# --- sending ---------------------------------------------------------------------------------


def _lease() -> timedelta:
    return timedelta(seconds=settings.LOUZHANG_DELIVERY_LEASE_SECONDS)


def backoff(failures: int) -> timedelta:
    """10 s, 20 s, 40 s … at most an hour."""
    return timedelta(seconds=min(3600, 10 * 2 ** max(0, failures - 1)))


_http = threading.local()


def _fresh_client() -> httpx.Client:
    timeout = settings.LOUZHANG_DELIVERY_TIMEOUT_SECONDS
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
                        follow_redirects=False, trust_env=False)


def http_client() -> httpx.Client:
    """One client per thread (connections are kept alive between deliveries)."""
    timeout = settings.LOUZHANG_DELIVERY_TIMEOUT_SECONDS
    cached: tuple[float, httpx.Client] | None = getattr(_http, "client", None)
    if cached is None or cached[0] != timeout:
        client = _fresh_client()
        cached = (timeout, client)
        _http.client = cached
    return cached[1]


def _pace_until(channel: Channel, transport: Transport, now: datetime) -> datetime | None:
    """When the channel may send next, if not now: its platform's limits, counted over the
    requests actually made (by every worker — the channel row is locked while counting)."""
    per_minute, per_second = transport.limits()
    for limit, window in ((per_minute, timedelta(minutes=1)), (per_second, timedelta(seconds=1))):
        if not limit:
            continue
        recent = list(
            DeliveryAttempt.objects.filter(channel=channel, started_at__gt=now - window)
            .order_by("-started_at").values_list("started_at", flat=True)[:limit]
        )
        if len(recent) >= limit:
            return recent[-1] + window
    return None


@dataclass
class _Claim:
    delivery: Delivery
    attempt: DeliveryAttempt
    transport: Transport


def _claim(delivery_id: int, now: datetime) -> _Claim | str:
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update().select_related("channel")
                    .filter(id=delivery_id).first())
        if delivery is None or delivery.state != Delivery.State.PENDING:
            return "finished"
        if delivery.next_attempt_at > now or (delivery.lease_until and delivery.lease_until > now):
            return "not due"
        channel = Channel.objects.select_for_update().get(id=delivery.channel_id)
        if not channel.is_active:
            delivery.state = Delivery.State.DEAD
            delivery.last_error = "channel switched off"
            delivery.save(update_fields=["state", "last_error"])
            return "channel off"
        if channel.paused_until and channel.paused_until > now:
            _reschedule(delivery, channel.paused_until)
            return "channel paused"
        transport = transport_for(channel)
        wait = _pace_until(channel, transport, now)
        if wait is not None:
            _reschedule(delivery, wait)
            return "paced"
        delivery.lease_until = now + _lease()
        delivery.attempts += 1
        delivery.save(update_fields=["lease_until", "attempts"])
        attempt = DeliveryAttempt.objects.create(delivery=delivery, channel=channel, started_at=now)
    return _Claim(delivery, attempt, transport)


def _reschedule(delivery: Delivery, at: datetime) -> None:
    delivery.next_attempt_at = at
    delivery.enqueued_at = None  # the sweep queues it again when it is due
    delivery.save(update_fields=["next_attempt_at", "enqueued_at"])


#: what a delivery waiting for the data key says (the details go to the log)
DATA_KEY_WAIT = ("waiting: the channel's address cannot be decrypted (the data key is missing or "
                 "wrong; `louzhang keys check`)")

#: what a delivery that reached nobody says (the details go to the log, not to the page)
NO_ANSWER = "could not connect, or no answer in time"


def delivery_send(*, delivery_id: int) -> str:
    """Send one delivery if it is due and nobody else holds it; return what happened."""
    now = timezone.now()
    try:
        claim = _claim(delivery_id, now)
    except DataKeyError as exc:
        # the channel's address and secret cannot be decrypted: nothing is sent (certainly not
        # to an empty address) and the delivery waits, saying why, until the key is put right
        logger.error("delivery %s waits: %s", delivery_id, exc)
        Delivery.objects.filter(id=delivery_id, state=Delivery.State.PENDING).update(
            last_error=DATA_KEY_WAIT)
        return "data key"
    if isinstance(claim, str):
        return claim
    delivery, attempt = claim.delivery, claim.attempt
    message = Message.from_json(delivery.message)
    outgoing = claim.transport.build(message, uid=str(delivery.uid), recipient=delivery.recipient,
                                     now_ms=int(timezone.now().timestamp() * 1000))
    error: DeliveryError | None = None
    http_status: int | None = None
    response_text = ""
    try:
        target = delivery_target(delivery.channel.kind, outgoing.url)
        if target.sni:
            # TLS to a checked address under the host's name: a connection of its own, since a
            # pooled one (pooled by address) may carry another host's verified certificate
            with _fresh_client() as client:
                response = client.post(target.url, content=outgoing.body,
                                       headers={**outgoing.headers, "Host": target.host},
                                       extensions={"sni_hostname": target.sni})
        else:
            response = http_client().post(target.url, content=outgoing.body,
                                          headers={**outgoing.headers, "Host": target.host})
        http_status, response_text = response.status_code, response.text[:500]
        claim.transport.interpret(response)
    except DeliveryError as exc:
        error = exc
    except Refused as exc:
        error = Permanent(str(exc))
    except (Unreachable, httpx.HTTPError) as exc:
        # one message for a refused connection, a timeout, a name that does not resolve or a
        # broken TLS handshake: the page must not tell open ports from closed ones
        logger.info("delivery %s on %s: %s: %s", delivery.pk, delivery.channel, exc.__class__.__name__, exc)
        error = Retryable(NO_ANSWER)
    return _record(delivery, attempt, error, http_status, response_text)


def _record(delivery: Delivery, attempt: DeliveryAttempt, error: DeliveryError | None,
            http_status: int | None, response_text: str) -> str:
    now = timezone.now()
    ours = Delivery.objects.filter(id=delivery.pk, attempts=delivery.attempts,
                                   state=Delivery.State.PENDING)
    with transaction.atomic():
        attempt.finished_at = now
        attempt.http_status = http_status
        attempt.response = response_text
        attempt.error = str(error)[:500] if error else ""
        if error is None:
            attempt.outcome = DeliveryAttempt.Outcome.SENT
            ours.update(state=Delivery.State.SENT, sent_at=now, lease_until=None, last_error="")
        elif isinstance(error, RateLimited):
            attempt.outcome = DeliveryAttempt.Outcome.RATE_LIMITED
            wait = timedelta(seconds=error.retry_after or 60)
            if error.pause_channel_for:
                Channel.objects.filter(id=delivery.channel_id).update(
                    paused_until=now + timedelta(seconds=error.pause_channel_for))
            ours.update(next_attempt_at=now + wait, lease_until=None, enqueued_at=None,
                        last_error=str(error)[:500])
        elif isinstance(error, TooLong) and _shorter(delivery) is not None:
            attempt.outcome = DeliveryAttempt.Outcome.RETRY
            if ours.update(message={**delivery.message, "max_bytes": _shorter(delivery)},
                           next_attempt_at=now, lease_until=None, enqueued_at=now,
                           last_error=str(error)[:500]):
                transaction.on_commit(lambda: _enqueue([delivery.pk]))  # at once, shorter
        elif (isinstance(error, Retryable) and not isinstance(error, TooLong)
              and delivery.failures + 1 < settings.LOUZHANG_DELIVERY_MAX_FAILURES):
            attempt.outcome = DeliveryAttempt.Outcome.RETRY
            wait = backoff(delivery.failures + 1)
            if error.retry_after:
                wait = max(wait, timedelta(seconds=error.retry_after))
            ours.update(failures=F("failures") + 1, next_attempt_at=now + wait, lease_until=None,
                        enqueued_at=None, last_error=str(error)[:500])
        else:
            attempt.outcome = DeliveryAttempt.Outcome.PERMANENT
            ours.update(state=Delivery.State.DEAD, failures=F("failures") + 1, lease_until=None,
                        last_error=str(error)[:500])
            logger.warning("delivery %s on %s failed for good: %s", delivery.pk, delivery.channel,
                           error)
        attempt.save(update_fields=["finished_at", "outcome", "http_status", "response", "error"])
    return attempt.outcome


def _shorter(delivery: Delivery) -> int | None:
    """Half the byte cap after a "too long" answer; None when already as short as is useful."""
    current = int(delivery.message.get("max_bytes") or 2048)
    return current // 2 if current > 256 else None


def outbox_sweep(now: datetime | None = None, *, limit: int = 500) -> int:
    """Queue the deliveries that are due and held by nobody: new ones whose task was lost,
    retries whose time has come, and those a killed worker left under a lapsed lease."""
    now = now or timezone.now()
    due = (
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - _lease()))
        .order_by("next_attempt_at").values_list("id", flat=True)[:limit]
    )
    ids = list(due)
    if not ids:
        return 0
    Delivery.objects.filter(id__in=ids).update(enqueued_at=now)
    _enqueue(ids)
    return len(ids)


def delivery_send_again(*, delivery: Delivery, actor: User) -> bool:
    """A commander's "send again" on a dead delivery: back in the queue with a clean count.

    The actor must manage the channel's area (`PermissionDenied` otherwise). Returns False
    when the delivery is not failed (any more)."""
    if not may_manage_channels(actor, delivery.channel.area.path):
        raise PermissionDenied("deliveries are sent again by a commander of the channel's area")
    with transaction.atomic():
        changed = Delivery.objects.filter(id=delivery.pk, state=Delivery.State.DEAD).update(
            state=Delivery.State.PENDING, failures=0, next_attempt_at=timezone.now(),
            lease_until=None, enqueued_at=timezone.now(),
        )
        if changed:
            audit_record(actor=actor, action="change", object_type="notifications.delivery",
                         object_id=delivery.pk, area_path=delivery.channel.area.path,
                         summary=f"send again on {delivery.channel.name}")
            transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return bool(changed)


# --- channels --------------------------------------------------------------------------------


class ChannelError(Exception):
    """A channel that cannot be added as asked; the message says why."""


def channel_add(
    *,
    name: str,
    kind: str,
    url: str,
    area_code: str,
    roles: Sequence[str] = (),
    secret: str = "",
    options: dict[str, Any] | None = None,
    actor: User | None,
) -> Channel:
    """Bind a group robot, webhook or SMS gateway to the area `area_code` and the roles it
    serves (none: every staff role); audited.

    `actor` is the user adding it, who must manage channels of that area (`PermissionDenied`
    otherwise), or None for the operator at the console (`louzhang channel add`), who may bind
    any area. Pages and the API always pass the signed-in user. What cannot work is refused
    with `ChannelError`.
    """
    from pydantic import ValidationError

    if kind not in ChannelKind.values:
        raise ChannelError(f"unknown channel kind {kind!r}; one of {', '.join(ChannelKind.values)}")
    transport = TRANSPORTS[kind]
    try:
        transport.options_model.model_validate(options or {})
    except ValidationError as exc:
        problems = "; ".join(f"option {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ChannelError(problems) from None
    audiences = [*Role.values, RESIDENTS]
    unknown = [r for r in roles if r not in audiences]
    if unknown:
        raise ChannelError(f"unknown role {', '.join(unknown)}; one of {', '.join(audiences)}")
    if RESIDENTS in roles and len(set(roles)) > 1:
        raise ChannelError("a residents' group serves residents only: staff work never goes there")
    area = Area.objects.filter(code=area_code).first()
    if area is None:
        raise ChannelError(f"unknown area code {area_code!r}")
    _check_manages(actor, area)
    if kind in (ChannelKind.DINGTALK, ChannelKind.FEISHU) and not secret:
        raise ChannelError(f"a {kind} robot needs its signing secret (--secret-stdin)")
    try:  # where it may send (`notifications.policy`), checked again at every delivery
        transport.check_url(url)
    except ValueError as exc:
        raise ChannelError(str(exc)) from None
    if Channel.objects.filter(name=name).exists():
        raise ChannelError(f"a channel named {name!r} exists already")
    with transaction.atomic():
        channel = Channel.objects.create(
            name=name, kind=kind, url=url, secret=secret, area=area, roles=list(dict.fromkeys(roles)),
            options=options or {}, created_by=actor,
        )
        audit_record(actor=actor, action="create", object_type="notifications.channel",
                     object_id=channel.pk, area_path=area.path,
                     summary=f"channel {name} ({kind}) for {area.name}")
    return channel


def channel_set_active(*, channel: Channel, active: bool, actor: User | None) -> bool:
    """Switch a channel off (a leaked robot key, a dissolved group) or on again; audited.
    Deliveries waiting on a channel switched off are given up and shown as failed.

    `actor` as for `channel_add` (None: the operator at the console). Returns False when the
    channel was in that state already."""
    _check_manages(actor, channel.area)
    with transaction.atomic():
        changed = Channel.objects.filter(pk=channel.pk, is_active=not active).update(is_active=active)
        if changed:
            audit_record(actor=actor, action="change", object_type="notifications.channel",
                         object_id=channel.pk, area_path=channel.area.path,
                         summary=f"channel {channel.name} {'on' if active else 'off'}")
    return bool(changed)


def _check_manages(actor: User | None, area: Area) -> None:
    if actor is not None and not may_manage_channels(actor, area.path):
        raise PermissionDenied("channels are managed by a commander of their area")


def channel_test(*, channel: Channel) -> Delivery:
    """Queue a test message on one channel (for an operator checking a new robot)."""
    with translation.override(settings.LANGUAGE_CODE):
        message = {"title": _("Louzhang test message"),
                   "text": _("If you can read this, the channel works."), "link": "", "mentions": []}
    delivery = Delivery.objects.create(channel=channel, message=message, enqueued_at=timezone.now())
    transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return delivery


def notifications_mark_read(*, user: User, ids: Sequence[int] | None = None,
                            up_to: int | None = None) -> int:
    """Mark the user's own notifications read: those of `ids`, or with an id up to `up_to`
    (what the inbox showed: a line that arrived since stays unread), or all."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(id__in=ids)
    if up_to is not None:
        unread = unread.filter(id__lte=up_to)
    return unread.update(read_at=timezone.now())

