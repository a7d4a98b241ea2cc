"""Inbox, and for commanders: channels and deliveries (failed ones can be sent again)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import may_manage_channels
from louzhang.accounts.models import Role
from louzhang.areas.models import Area
from louzhang.notifications.models import RESIDENTS, ChannelKind, Delivery
from louzhang.notifications.selectors import (
    access_delivery,
    channels_visible,
    deliveries_visible,
    inbox_for,
)
from louzhang.notifications.services import (
    ChannelError,
    channel_add,
    channel_set_active,
    delivery_send_again,
    notifications_mark_read,
)
from louzhang.worker.recovery import worker_seen_recently


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(inbox_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@require_POST
@login_required
def inbox_read(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(user=request.user)
    return redirect("inbox")


def _commander_only(request: HttpRequest) -> None:
    if not may_manage_channels(request.user):
        raise Http404("for commanders")


def display_address(url: str) -> str:
    """A robot's address without its key or token (those are secrets)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path[:40]}{'?…' if parts.query else ''}"


@login_required
def deliveries(request: HttpRequest) -> HttpResponse:
    _commander_only(request)
    state = request.GET.get("state", Delivery.State.DEAD)
    if state not in Delivery.State.values:
        state = Delivery.State.DEAD
    visible = deliveries_visible(request.user)
    items = visible.filter(state=state).order_by("-created_at")
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    states = [(value, label, visible.filter(state=value).count())
              for value, label in Delivery.State.choices]
    return render(request, "notifications/deliveries.html", {
        "page": page, "state": state, "states": states,
        "worker_ok": worker_seen_recently(), "now": timezone.now(),
    })


@require_POST
@login_required
def delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    _commander_only(request)
    delivery = access_delivery(request.user, pk)
    if delivery_send_again(delivery=delivery, actor=request.user):
        messages.success(request, _("Queued to be sent again."))
    else:
        messages.info(request, _("It is not failed any more; nothing changed."))
    return redirect("deliveries")


@require_POST
@login_required
def channel_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    _commander_only(request)
    channel = channels_visible(request.user).filter(pk=pk).first()
    if channel is None:
        raise Http404("no such channel")
    channel_set_active(channel=channel, active=not channel.is_active, actor=request.user)
    return redirect("channels")


@login_required
def channels(request: HttpRequest) -> HttpResponse:
    _commander_only(request)
    error = ""
    if request.method == "POST":
        code = request.POST.get("area", "").strip()
        area = Area.objects.filter(code=code).first()
        if area is None or not jurisdiction_for(request.user, roles=[Role.COMMANDER]).covers(area.path):
            error = _("Unknown area code, or not in your jurisdiction: %(code)s") % {"code": code}
        else:
            options = {"format": "markdown"} if request.POST.get("markdown") and request.POST.get(
                "kind") in (ChannelKind.WECOM, ChannelKind.DINGTALK) else {}
            try:
                channel_add(
                    name=request.POST.get("name", "").strip()[:100], kind=request.POST.get("kind", ""),
                    url=request.POST.get("url", "").strip(), area_code=code,
                    roles=request.POST.getlist("roles"), secret=request.POST.get("secret", "").strip(),
                    options=options, actor=request.user,
                )
            except ChannelError as exc:
                error = str(exc)
            else:
                messages.success(request, _("Channel added."))
                return redirect("channels")
    items = [(c, display_address(c.url)) for c in channels_visible(request.user).order_by("name")]
    return render(request, "notifications/channels.html", {
        "items": items, "kinds": ChannelKind.choices, "error": error,
        "roles": [*Role.choices, (RESIDENTS, _("residents (residents' group)"))],
        "form": request.POST,
    })
