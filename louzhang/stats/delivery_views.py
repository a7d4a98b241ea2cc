"""A commander chooses when the day's summary goes to their channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from louzhang.core.forms import PageForm
from louzhang.notifications.services import absolute_link
from louzhang.stats import selectors
from louzhang.stats.delivery import (
    Reach,
    next_time,
    subscription_place,
    subscriptions_of,
    summary_message,
    summary_reach,
    summary_stop,
    summary_subscribe,
)
from louzhang.stats.models import SummarySubscription
from louzhang.stats.selectors import Place, may_see_figures, place_for, roots


class SummaryForm(PageForm):
    place = forms.ChoiceField(label=gettext_lazy("Summary of"))
    at = forms.TimeField(label=gettext_lazy("Every day at"), initial=time(20, 0),
                         widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def __init__(self, *args: Any, places: list[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.places = {p.key: p for p in places}
        field = self.fields["place"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(p.key, p.name) for p in places]


@dataclass
class Card:
    """One summary the commander receives, as the page shows it."""

    subscription: SummarySubscription
    place: Place | None
    title: str = ""
    text: str = ""
    link: str = ""
    reach: Reach | None = None
    next_at: datetime | None = None


def _commander_only(request: HttpRequest) -> None:
    if not may_see_figures(request.user):
        raise Http404("for commanders")


def _preview(place: Place, request: HttpRequest) -> dict[str, Any]:
    title, text, link = summary_message(place, selectors.today())
    return {"title": title, "text": text, "link": absolute_link(link),
            "reach": summary_reach(place, request.user)}  # type: ignore[arg-type]


@login_required
def summaries(request: HttpRequest) -> HttpResponse:
    """The commander's summaries: each with what it would say now and where it goes; a form
    to add one (or change the time of one) for a place where their figures start."""
    _commander_only(request)
    places = roots(request.user)
    form = SummaryForm(request.POST or None, places=places)
    if request.method == "POST" and form.is_valid():
        subscription = summary_subscribe(user=request.user, place_key=form.cleaned_data["place"],  # type: ignore[arg-type]
                                         at=form.cleaned_data["at"])
        messages.success(request, _("The summary of %(place)s goes every day at %(time)s; the next one %(next)s.") % {
            "place": form.places[form.cleaned_data["place"]].name,
            "time": subscription.at.strftime("%H:%M"),
            "next": timezone.localtime(next_time(subscription)).strftime("%Y-%m-%d %H:%M")})
        return redirect("stats-summaries")
    cards = []
    for subscription in subscriptions_of(request.user):  # type: ignore[arg-type]
        place = subscription_place(subscription)
        card = Card(subscription, place)
        if place is not None:
            preview = _preview(place, request)
            card.title, card.text, card.link, card.reach = (preview["title"], preview["text"], preview["link"],
                                                            preview["reach"])
            card.next_at = timezone.localtime(next_time(subscription))
        cards.append(card)
    first = places[0] if places else None
    return render(request, "stats/summary.html", {
        "form": form, "cards": cards, "first": first, "first_preview": _preview(first, request) if first else None,
    })


@login_required
def summary_preview(request: HttpRequest) -> HttpResponse:
    """What the summary of a place would say now, and where it would go (for the form)."""
    _commander_only(request)
    place = place_for(request.user, request.GET.get("place", ""))
    return render(request, "stats/summary_preview.html", {"place": place, **_preview(place, request)})


@require_POST
@login_required
def summary_stop_view(request: HttpRequest, pk: int) -> HttpResponse:
    _commander_only(request)
    if summary_stop(user=request.user, subscription_id=pk):  # type: ignore[arg-type]
        messages.success(request, _("The summary is stopped: nothing more is sent."))
    else:
        messages.info(request, _("It was stopped already; nothing changed."))
    return redirect("stats-summaries")


urlpatterns: list[URLPattern] = [
    path("summaries/", summaries, name="stats-summaries"),
    path("summaries/preview/", summary_preview, name="stats-summary-preview"),
    path("summaries/<int:pk>/stop/", summary_stop_view, name="stats-summary-stop"),
]
