"""Reads for the inbox, channels and deliveries, limited to the user's jurisdiction."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from louzhang.access.jurisdiction import scope
from louzhang.access.roles import COMMANDING
from louzhang.notifications.models import Channel, Delivery, Notification


def inbox_for(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def channels_visible(user: Any) -> QuerySet[Channel]:
    return scope(Channel.objects.select_related("area"), user, roles=COMMANDING)


def deliveries_visible(user: Any) -> QuerySet[Delivery]:
    return scope(Delivery.objects.select_related("channel", "channel__area"), user,
                 roles=COMMANDING)


def access_delivery(user: Any, pk: int) -> Delivery:
    try:
        return deliveries_visible(user).get(pk=pk)
    except Delivery.DoesNotExist:
        raise Http404("no such delivery") from None
