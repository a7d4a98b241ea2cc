"""The day's summary sent to commanders' channels at the time each chooses.

A commander subscribes to the summary of a place they command (an area, or their police
station) at a local time of day (`SummarySubscription`). Every minute the worker
(`stats.summaries`) sends the summaries whose time has come today: the key figures of the day
so far and a link to the dashboard, to the commander's inbox and to the channels bound to the
place that serve commanders (`summary_channels`). A subscription is claimed for the day with a
conditional UPDATE of `last_sent_on`, so two workers never send it twice.

`last_sent_on` is the last day the summary was done for: sent, or — when the commander chose a
time already past today — skipped, so that the first summary goes out at the chosen time
tomorrow rather than at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from louzhang.accounts.models import Role, User
from louzhang.areas.models import Area, PoliceUnit
from louzhang.core.sql import advisory_locks
from louzhang.notifications.models import Channel, Delivery, Notification
from louzhang.notifications.services import Recipient, announce
from louzhang.notifications.transports import TRANSPORTS
from louzhang.stats import selectors
from louzhang.stats.figures import BY_KEY
from louzhang.stats.models import SummarySubscription
from louzhang.stats.selectors import Place, place_for
from louzhang.worker.schedule import periodic

logger = logging.getLogger("louzhang.stats")

#: the figures of the summary, as lines: one figure, or two shown as "a / b"
SUMMARY_LINES: tuple[tuple[str, ...], ...] = (
    ("officers_on_post", "officers"),
    ("households_visited",),
    ("returnees_found",),
    ("under_observation",),
    ("check_ins_missed",),
    ("fevers",),
    ("key_region_vehicles",),
    ("tips_received", "tips_closed"),
    ("followups_open", "followups_overdue"),
    ("units_disinfected",),
)


# --- where a subscription points ------------------------------------------------------------


def subscription_key(subscription: SummarySubscription) -> str:
    """The place's key as `selectors.place_for` reads it."""
    if subscription.unit is not None:
        return f"station:{subscription.unit.code}"
    assert subscription.area is not None
    return subscription.area.code


def subscription_place(subscription: SummarySubscription) -> Place | None:
    """The subscription's place if its user still commands it (else None: not sent)."""
    try:
        return place_for(subscription.user, subscription_key(subscription))
    except Http404:
        return None


def dashboard_link(place: Place) -> str:
    """The place's dashboard, on this site."""
    return reverse("dashboard", args=[place.key])


def summary_channels(place: Place) -> list[Channel]:
    """The active channels a place's summary goes to: bound to the place's area itself (a
    station: to one of the communities of its beat) and serving commanders. Channels of the
    areas above are left out: a district's summary is for the district's commanders' group, not
    the city's."""
    found = Channel.objects.filter(is_active=True, area_id__in=list(place.area_ids)).order_by("pk")
    return [c for c in found if c.serves(Role.COMMANDER)]


@dataclass(frozen=True)
class Reach:
    """Where a summary goes, as the page tells the commander."""

    channels: list[Channel]
    #: channels that text one person at a time, which cannot reach a commander without a phone
    unreachable: list[Channel]


def summary_reach(place: Place, user: User) -> Reach:
    channels = summary_channels(place)
    unreachable = [c for c in channels if TRANSPORTS[c.kind].per_recipient and not user.phone]
    return Reach([c for c in channels if c not in unreachable], unreachable)


# --- the text -------------------------------------------------------------------------------


def _line(keys: tuple[str, ...], figures: selectors.Figures) -> str:
    labels = " / ".join(str(BY_KEY[k].label) for k in keys)
    values = " / ".join(str(figures[k]) for k in keys)
    return f"{labels}: {values} {BY_KEY[keys[-1]].unit}"


def summary_message(place: Place, day: date, now: datetime | None = None) -> tuple[str, str, str]:
    """(title, text, link) of the place's summary of `day`, as of `now`, in the site's
    language (what a group chat reads), from the same roll-ups as the dashboard."""
    now = now or timezone.now()
    figures = selectors.figures(place, day)
    refreshed = selectors.refreshed_at(day)
    with translation.override(settings.LANGUAGE_CODE):
        title = _("%(place)s: the day's figures, %(date)s") % {
            "place": place.name, "date": formats.date_format(day, "Y-m-d")}
        lines = [_line(keys, figures) for keys in SUMMARY_LINES]
        if refreshed is None:
            lines.append(_("These figures have not been counted yet today: all are shown as 0."))
        else:
            lines.append(_("Counted at %(time)s.") % {
                "time": formats.time_format(timezone.localtime(refreshed), "H:i")})
    return title, "\n".join(lines), dashboard_link(place)


# --- subscribing ----------------------------------------------------------------------------


def _today_done(at: time, now: datetime) -> date | None:
    """The day to count as done when a time is chosen: today if its time is past already."""
    local = timezone.localtime(now)
    return local.date() if at <= local.time() else None


def summary_subscribe(*, user: User, place_key: str, at: time,
                      now: datetime | None = None) -> SummarySubscription:
    """Send `user` the summary of the place `place_key` (`place_for`: 404 outside their
    command) every day at the local time `at`; a subscription to the place exists already:
    its time changes and it is active again. The first summary goes at the next `at`."""
    place = place_for(user, place_key)
    now = now or timezone.now()
    where: dict[str, Any] = {"user": user}
    if place.is_station:
        where.update(unit=PoliceUnit.objects.get(code=place.code), area=None)
    else:
        where.update(area=place.area, unit=None)
    try:
        return _subscribe(where, at, now)
    except IntegrityError:  # the same choice saved at the same moment (a double tap): update it
        return _subscribe(where, at, now)


def _subscribe(where: dict[str, Any], at: time, now: datetime) -> SummarySubscription:
    with transaction.atomic():
        subscription = SummarySubscription.objects.select_for_update().filter(**where).first()
        if subscription is None:
            subscription = SummarySubscription(**where, at=at)
        elif subscription.active and subscription.at == at:
            return subscription
        done = _today_done(at, now)
        if done is not None and (subscription.last_sent_on is None or subscription.last_sent_on < done):
            subscription.last_sent_on = done
        elif done is None and subscription.last_sent_on == timezone.localdate(now) \
                and not _sent_on(subscription, timezone.localdate(now)):
            # an earlier choice had skipped today; the new time is still to come today
            subscription.last_sent_on = timezone.localdate(now) - timedelta(days=1)
        subscription.at = at
        subscription.active = True
        subscription.save()
    return subscription


def _sent_on(subscription: SummarySubscription, day: date) -> bool:
    """Whether the summary of `day` went to the subscriber's inbox already."""
    return Notification.objects.filter(user_id=subscription.user_id,
                                       about=summary_about(subscription, day)).exists()


def summary_stop(*, user: User, subscription_id: int) -> bool:
    """Stop one of the user's summaries (404 for anybody else's). False: stopped already."""
    if not SummarySubscription.objects.filter(pk=subscription_id, user=user).exists():
        raise Http404("no such summary")
    return bool(SummarySubscription.objects.filter(pk=subscription_id, user=user, active=True)
                .update(active=False))


def subscriptions_of(user: User) -> list[SummarySubscription]:
    return list(SummarySubscription.objects.filter(user=user, active=True)
                .select_related("area", "unit").order_by("at", "pk"))


def next_time(subscription: SummarySubscription, now: datetime | None = None) -> datetime:
    """When the summary goes next (local time)."""
    local = timezone.localtime(now or timezone.now())
    day = local.date()
    if (subscription.last_sent_on is not None and subscription.last_sent_on >= day) \
            or subscription.at < local.time().replace(second=0, microsecond=0):
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, subscription.at))


# --- sending --------------------------------------------------------------------------------


def summary_about(subscription: SummarySubscription, day: date) -> str:
    return f"summary:{subscription_key(subscription)}:{day.isoformat()}"[:64]


def summary_send(*, subscription_id: int, now: datetime | None = None) -> bool:
    """Send one subscription's summary of today if its time has come and nobody has sent it
    (claimed with a conditional UPDATE of `last_sent_on`); True when it was sent here.

    One transaction: the claim, the inbox line and the outbox rows commit together (a failure
    leaves the subscription to the next round). A group chat that got the place's summary of
    the day already (another commander of the place subscribes too) is not sent it again."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    day = local.date()
    with transaction.atomic():
        claimed = (SummarySubscription.objects
                   .filter(pk=subscription_id, active=True, at__lte=local.time())
                   .filter(Q(last_sent_on__isnull=True) | Q(last_sent_on__lt=day))
                   .update(last_sent_on=day))
        if not claimed:
            return False
        subscription = SummarySubscription.objects.select_related("user", "area", "unit").get(pk=subscription_id)
        place = subscription_place(subscription)
        if place is None or not subscription.user.is_active:
            logger.info("summary %s not sent: its user no longer commands %s", subscription_id,
                        subscription_key(subscription))
            return False
        title, text, link = summary_message(place, day, now)
        about = summary_about(subscription, day)
        # two commanders' summaries of one place sent at once: the second waits here and sees
        # the first one's deliveries; one that failed for good does not count as sent
        advisory_locks([f"stats.summary:{about}"])
        already = set(Delivery.objects.filter(about=about).exclude(state=Delivery.State.DEAD)
                      .values_list("channel_id", flat=True))
        channels = [c for c in summary_channels(place)
                    if TRANSPORTS[c.kind].per_recipient or c.pk not in already]
        anchor = place.area if place.area is not None else Area.objects.get(pk=place.area_ids[0])
        announce(area=anchor, recipients=[Recipient(subscription.user, Role.COMMANDER)], title=title,
                 text=text, link=link, about=about, channels=channels)
    return True


def summaries_due(now: datetime) -> list[int]:
    local = timezone.localtime(now)
    return list(SummarySubscription.objects.filter(active=True, at__lte=local.time())
                .filter(Q(last_sent_on__isnull=True) | Q(last_sent_on__lt=local.date()))
                .order_by("at", "pk").values_list("pk", flat=True))


def summaries_send(now: datetime | None = None) -> int:
    """Send every summary whose time has come today; how many were sent here."""
    now = now or timezone.now()
    sent = 0
    for pk in summaries_due(now):
        try:
            sent += summary_send(subscription_id=pk, now=now)
        except Exception:  # one bad subscription must not hold up the others
            logger.exception("summary %s could not be sent", pk)
    return sent


@periodic("stats.summaries", every=lambda: timedelta(minutes=1))
def stats_summaries(now: datetime) -> None:
    sent = summaries_send(now)
    if sent:
        logger.info("%s daily summaries sent", sent)

