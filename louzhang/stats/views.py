"""The dashboard of figures for commanders (指挥看板): per place (city … compound, or a police
station), a day's figures against the day before, the trend, the breakdown by child area and the
compounds at risk first; it refreshes itself every `LOUZHANG_STATS_REFRESH_SECONDS`, as often as
the worker rolls the figures up. Thin: the numbers come from `selectors` through `dashboard`, a
place outside the user's command is not found (404)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from louzhang.stats import selectors
from louzhang.stats.dashboard import (
    KEY_FIGURES,
    TREND_DAYS,
    DayForm,
    crumbs,
    dashboard_of,
    summaries,
)
from louzhang.stats.figures import BY_KEY
from louzhang.stats.selectors import Place


@login_required
def dashboard_index(request: HttpRequest) -> HttpResponse:
    """`/dashboard/`: the user's single place straight away, or their places to choose from."""
    places = selectors.roots(request.user)
    if not places:
        raise Http404("figures are for commanders")
    if len(places) == 1:
        return redirect("dashboard", places[0].key)
    return render(request, "stats/dashboard_index.html", _today(places))


@login_required
def dashboard_today(request: HttpRequest) -> HttpResponse:
    """The home page's block of today's key figures (loaded by HTMX after the page)."""
    places = selectors.roots(request.user)
    if not places:
        raise Http404("figures are for commanders")
    return render(request, "stats/_today.html", _today(places))


def _today(places: list[Place]) -> dict[str, Any]:
    day = selectors.today()
    return {"summaries": summaries(places, day), "day": day, "refreshed_at": selectors.refreshed_at(day),
            "now": timezone.localtime(), "refresh_seconds": settings.LOUZHANG_STATS_REFRESH_SECONDS}


def _board(request: HttpRequest, key: str) -> tuple[Place, dict[str, Any], bool]:
    place = selectors.place_for(request.user, key)
    form = DayForm(request.GET, today=selectors.today())
    valid = form.is_valid()
    board = dashboard_of(place, form.day, form.trend_days)
    return place, {
        "place": place,
        "board": board,
        "form": form,
        "columns": [BY_KEY[k] for k in KEY_FIGURES],
        "trend_choices": TREND_DAYS,
        "query": request.GET.urlencode() if valid else "",
        "refresh_seconds": settings.LOUZHANG_STATS_REFRESH_SECONDS,
        "now": timezone.localtime(),
    }, valid


@login_required
def dashboard(request: HttpRequest, key: str) -> HttpResponse:
    """`/dashboard/<key>/?date=YYYY-MM-DD&days=14`. A day it cannot show: its figures of today
    with what was wrong (400)."""
    place, context, valid = _board(request, key)
    context["crumbs"] = crumbs(request.user, place)
    context["report_url"] = reverse("report", args=[key])
    return render(request, "stats/dashboard.html", context, status=200 if valid else 400)


@login_required
def dashboard_live(request: HttpRequest, key: str) -> HttpResponse:
    """The figures of the dashboard again, for its refresh (HTMX, every minute)."""
    _place, context, valid = _board(request, key)
    return render(request, "stats/_dashboard_live.html", context, status=200 if valid else 400)


@login_required
def dashboard_data(request: HttpRequest, key: str) -> JsonResponse:
    """The dashboard's figures as JSON (same `?date=` and `?days=`)."""
    place = selectors.place_for(request.user, key)
    form = DayForm(request.GET, today=selectors.today())
    if not form.is_valid():
        return JsonResponse({"errors": {f: [str(m) for m in ms] for f, ms in form.errors.items()}}, status=400)
    return JsonResponse(dashboard_of(place, form.day, form.trend_days).as_json())


urlpatterns: list[URLPattern] = [
    path("dashboard/", dashboard_index, name="dashboard-index"),
    path("dashboard/today/", dashboard_today, name="dashboard-today"),
    path("dashboard/<str:key>/", dashboard, name="dashboard"),
    path("dashboard/<str:key>/live", dashboard_live, name="dashboard-live"),
    path("dashboard/<str:key>/data.json", dashboard_data, name="dashboard-data"),
]
