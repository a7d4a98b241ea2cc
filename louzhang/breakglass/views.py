"""Break-the-glass pages: make a look-up, read what it opened (its author, while open), the
commanders' list, end one early. Thin: services and selectors decide."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from louzhang.access.roles import commands_anywhere
from louzhang.breakglass.forms import LookUpForm
from louzhang.breakglass.selectors import (
    access_look_up,
    look_ups_reported_to,
    my_open_look_ups,
    opened_views,
)
from louzhang.breakglass.services import (
    LookUpError,
    look_up_create,
    look_up_end,
    look_up_minutes,
    may_break_glass,
    shown_query,
)
from louzhang.core.views import forbidden_is_missing


@login_required
@forbidden_is_missing
def look_up_new(request: HttpRequest) -> HttpResponse:
    """查阅辖区外记录: the form (GET, the query from the search page) and the look-up (POST)."""
    if not may_break_glass(request.user):
        raise Http404("only officers look up records outside their jurisdiction")
    form = LookUpForm(request.POST or None, initial={"query": request.GET.get("q", "")[:50]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            look_up = look_up_create(actor=request.user, query=data["query"], reason=data["reason"])
        except LookUpError as exc:
            form.add_error(exc.field, exc.message)
        else:
            return redirect("look-up", pk=look_up.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "breakglass/new.html", {"form": form, "minutes": look_up_minutes()},
                  status=status)


@login_required
def look_up_list(request: HttpRequest) -> HttpResponse:
    """The officer's open look-ups and, for commanders, the look-ups into their jurisdiction."""
    user = request.user
    commands = commands_anywhere(user)
    page = Paginator(look_ups_reported_to(user), 50).get_page(request.GET.get("page")) if commands else None
    return render(request, "breakglass/list.html", {
        "mine": [(lu, shown_query(lu)) for lu in my_open_look_ups(user)],
        "page": page, "reported": [(lu, shown_query(lu)) for lu in page] if page is not None else [],
        "commands": commands,
    })


@login_required
def look_up_detail(request: HttpRequest, pk: int) -> HttpResponse:
    look_up, reads = access_look_up(request.user, pk)
    return render(request, "breakglass/detail.html", {
        "look_up": look_up, "reads": reads, "query": look_up.query if reads else shown_query(look_up),
        "views": opened_views(look_up) if reads else [],
        "opened": [] if reads else list(look_up.opened.select_related("household", "vehicle")),
    })


@require_POST
@login_required
@forbidden_is_missing
def look_up_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    look_up, reads = access_look_up(request.user, pk)
    if not reads:
        raise Http404("a look-up is ended by the officer who made it")
    look_up_end(actor=request.user, look_up=look_up)
    messages.success(request, _("The look-up is ended: its records are closed to you again."))
    return redirect("look-ups")
