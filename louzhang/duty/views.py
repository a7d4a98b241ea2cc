"""Pages of people on post: the officers of a commander's units and one officer's page (duty
status and its history, set by a commander of the unit), the on-post rate (在岗率) with the
area's response level, and the recalled officer's phone page (收到 / 已到岗).

Thin: access → form → service → redirect; the services check the capability again.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from louzhang.access.masking import present
from louzhang.access.roles import may_command
from louzhang.accounts.models import User
from louzhang.core.views import forbidden_is_missing
from louzhang.duty.forms import ResponseForm, StatusForm
from louzhang.duty.models import DutyStatus, Officer, Recall
from louzhang.duty.selectors import (
    OFFICERS_PER_PAGE,
    access_command_area,
    access_my_recall,
    access_officer,
    command_roots,
    commands_officers,
    may_command_unit,
    my_recalls,
    officer_history,
    officer_recalls,
    officers_list,
    on_post_rate,
    response_levels_over,
    units_commanded,
)
from louzhang.duty.services import (
    DutyError,
    officer_status_set,
    recall_acknowledge,
    recall_report_on_post,
    response_set,
)


def _commander(request: HttpRequest) -> Any:
    if not commands_officers(request.user):
        raise Http404("the officers' pages are for commanders")
    return request.user


# --- officers ------------------------------------------------------------------------------


@login_required
def officer_list(request: HttpRequest) -> HttpResponse:
    """民警辅警: the officers of the units the commander commands, their duty status and since
    when; filtered by unit (`?unit=<code>`) and status (`?status=`)."""
    user = _commander(request)
    units = sorted(units_commanded(user).values(), key=lambda u: u.code)
    unit_code = request.GET.get("unit", "")
    unit = next((u for u in units if u.code == unit_code), None)
    status = request.GET.get("status", "")
    status = status if status in DutyStatus.values else ""
    officers = officers_list(user, unit=unit.pk if unit else (-1 if unit_code else None), status=status)
    page = Paginator(officers, OFFICERS_PER_PAGE).get_page(request.GET.get("page"))
    shown = [o.pk for o in page.object_list]
    waiting = {r.officer_id: r for r in Recall.objects.filter(
        officer_id__in=shown, on_post_at__isnull=True, ended_at__isnull=True)}
    query = {k: v for k, v in (("unit", unit_code), ("status", status)) if v}
    return render(request, "duty/officers.html", {
        "units": units, "unit": unit, "unit_code": unit_code, "status": status,
        "statuses": DutyStatus.choices, "page": page,
        "rows": [(o, waiting.get(o.pk)) for o in page.object_list],
        "query": urlencode(query), "now": timezone.now(),
    })


def _officer_page(request: HttpRequest, officer: Officer, form: StatusForm | None = None,
                  status: int = 200) -> HttpResponse:
    user = request.user
    unit = units_commanded(user)[officer.unit_id]
    [shown] = present(user, [officer], path_of=lambda _o: unit.place_path)
    if form is None and may_command_unit(user, officer.unit_id):
        form = StatusForm(initial={"status": officer.status})
    return render(request, "duty/officer.html", {
        "officer": officer, "shown": shown, "history": officer_history(officer),
        "recalls": officer_recalls(officer), "form": form, "now": timezone.now(),
    }, status=status)


@login_required
def officer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _officer_page(request, access_officer(request.user, pk))


@login_required
@require_POST
@forbidden_is_missing
def officer_status_view(request: HttpRequest, pk: int) -> HttpResponse:
    officer = access_officer(request.user, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _officer_page(request, officer, form, status=422)
    status = form.cleaned_data["status"]
    if officer_status_set(actor=cast(User, request.user), officer=officer, status=status, reason=form.cleaned_data["reason"]):
        messages.success(request, _("%(name)s is now %(status)s.")
                         % {"name": officer.name, "status": DutyStatus(status).label})
    else:
        messages.info(request, _("%(name)s was %(status)s already: nothing changed.")
                      % {"name": officer.name, "status": DutyStatus(status).label})
    return redirect("officer", pk=officer.pk)


# --- the on-post rate and the response level ----------------------------------------------


@login_required
def on_post(request: HttpRequest) -> HttpResponse:
    """在岗: per child station (or, for a city, per district) the officers and those on post,
    the recalls still waiting and those not back in time; the response level in force; for a
    commander of the area, the form to set it."""
    user = _commander(request)
    roots = command_roots(user)
    code = request.GET.get("area") or (roots[0].code if roots else "")
    area = access_command_area(user, code)
    return _on_post_page(request, area, roots)


def _on_post_page(request: HttpRequest, area: Any, roots: list[Any], form: ResponseForm | None = None,
                  status: int = 200) -> HttpResponse:
    user = request.user
    if form is None and may_command(user, area.path):
        form = ResponseForm()
    return render(request, "duty/on_post.html", {
        "area": area, "rate": on_post_rate(user, area), "roots": roots,
        "responses": response_levels_over(area), "form": form, "now": timezone.now(),
    }, status=status)


@login_required
@require_POST
@forbidden_is_missing
def response_set_view(request: HttpRequest, code: str) -> HttpResponse:
    user = _commander(request)
    area = access_command_area(user, code)
    form = ResponseForm(request.POST)
    if not form.is_valid():
        return _on_post_page(request, area, command_roots(user), form, status=422)
    try:
        outcome = response_set(actor=user, area=area, level=form.cleaned_data["level"], due_in=form.due_in)
    except DutyError as exc:
        form.add_error(None, str(exc))
        return _on_post_page(request, area, command_roots(user), form, status=422)
    for sentence in outcome.in_words():
        (messages.success if outcome.changed else messages.info)(request, sentence)
    return redirect(reverse("on-post") + "?" + urlencode({"area": area.code}))


# --- the recalled officer's phone page -------------------------------------------------------


@login_required
def my_recall(request: HttpRequest) -> HttpResponse:
    """召回: the recalls of the officer linked to this log-in, with one big button for each step
    (收到, then 已到岗)."""
    officer, recalls = my_recalls(request.user)
    return render(request, "duty/my_recall.html", {"officer": officer, "recalls": recalls,
                                                    "now": timezone.now()})


@login_required
@require_POST
@forbidden_is_missing
def recall_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    recall = access_my_recall(request.user, pk)
    if recall_acknowledge(actor=cast(User, request.user), recall=recall):
        messages.success(request, _("Got it: your station knows you are on your way."))
    else:
        messages.info(request, _("Already answered, or the recall is over."))
    return redirect("my-recall")


@login_required
@require_POST
@forbidden_is_missing
def recall_on_post_view(request: HttpRequest, pk: int) -> HttpResponse:
    recall = access_my_recall(request.user, pk)
    if recall_report_on_post(actor=cast(User, request.user), recall=recall):
        messages.success(request, _("You are recorded on post. Thank you."))
    else:
        recall.refresh_from_db()
        messages.info(request, _("The recall was ended before you reported back: nothing changed.")
                      if recall.ended_at else _("You had reported on post already."))
    return redirect("my-recall")
