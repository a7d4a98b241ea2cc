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

from louzhang.access.roles import may_manage_channels
from louzhang.accounts.models import Role
from louzhang.core.crypto import DataKeyError, reveal
from louzhang.core.views import forbidden_is_missing
from louzhang.notifications.forms import ChannelForm, ChannelSwitchForm, InboxReadForm
from louzhang.notifications.models import RESIDENTS, Delivery
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
    items = inbox_for(request.user)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    newest = items.values_list("id", flat=True).order_by("-id").first()
    return render(request, "notifications/inbox.html", {"page": page, "newest": newest})


@require_POST
@login_required
def inbox_read(request: HttpRequest) -> HttpResponse:
    form = InboxReadForm(request.POST)
    if form.is_valid():
        notifications_mark_read(user=request.user, up_to=form.cleaned_data["up_to"])
    else:
        messages.error(request, _("Nothing changed: reload the page and try again."))
    return redirect("inbox")


def _commander_only(request: HttpRequest) -> None:
    if not may_manage_channels(request.user):
        raise Http404("for commanders")


def role_names(roles: list[str]) -> list[str]:
    """The roles a channel serves as people call them ("building warden", not `warden`)."""
    names = {**dict(Role.choices), RESIDENTS: _("residents (residents' group)")}
    return [str(names.get(role, role)) for role in roles]


def display_address(url: str) -> str:
    """A robot's address without its key or token (those are secrets): the query is left out
    (WeCom's and DingTalk's keys), and so is the path from its first segment that could be a
    token (Feishu's hook id) — anything of 12 characters or more with a digit in it.

    `url` as stored (encrypted) or plain; one no key at hand reads is shown as unreadable."""
    try:
        url = reveal(url)
    except DataKeyError:
        return _("(unreadable: the data key is missing or wrong)")
    parts = urlsplit(url)
    shown: list[str] = []
    segments = parts.path.split("/")
    for segment in segments:
        if len(segment) >= 12 and any(c.isdigit() for c in segment):
            shown.append("…")
            break
        shown.append(segment)
    path = "/".join(shown)
    return f"{parts.scheme}://{parts.netloc}{path}{'?…' if parts.query else ''}"


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
@forbidden_is_missing
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
@forbidden_is_missing
def channel_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a channel on or off (the button says which)."""
    _commander_only(request)
    channel = channels_visible(request.user).filter(pk=pk).first()
    if channel is None:
        raise Http404("no such channel")
    form = ChannelSwitchForm(request.POST)
    if form.is_valid():
        channel_set_active(channel=channel, active=form.cleaned_data["active"], actor=request.user)
    else:
        messages.error(request, _("Nothing changed: reload the page and try again."))
    return redirect("channels")


@login_required
@forbidden_is_missing
def channels(request: HttpRequest) -> HttpResponse:
    _commander_only(request)
    form = ChannelForm(request.POST or None, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            channel_add(name=data["name"], kind=data["kind"], url=data["url"], area_code=data["area"].code,
                        roles=data["roles"], secret=data["secret"], options=form.options,
                        actor=request.user)
        except ChannelError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Channel added."))
            return redirect("channels")
    items = [(c, display_address(c.url), role_names(c.roles))
             for c in channels_visible(request.user).order_by("name")]
    return render(request, "notifications/channels.html", {"items": items, "form": form})
