"""Follow-up pages: a warden's list on the phone, a commander's board, one follow-up."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from louzhang.access.areas import access_area
from louzhang.access.holders import wardens_over
from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import commands_anywhere, may_command
from louzhang.core.views import forbidden_is_missing
from louzhang.followups.forms import AssignForm, CloseForm, ReassignForm
from louzhang.followups.models import ACTIVE_STATES, FollowUp, State
from louzhang.followups.selectors import (
    access_followup,
    followup_history,
    followups_urgent_first,
    followups_visible,
    may_act,
    my_followups,
)
from louzhang.followups.services import (
    FollowUpError,
    followup_acknowledge,
    followup_assign,
    followup_close,
    followup_reassign,
)

VIEWS = ("mine", "active", "overdue", "closed")


@login_required
def followup_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    commands = commands_anywhere(user)
    view = request.GET.get("view") or ("active" if commands else "mine")
    if view not in VIEWS:
        view = "mine"
    now = timezone.now()
    visible = followups_visible(user)
    if view == "mine":
        items = my_followups(user)
    elif view == "active":
        items = followups_urgent_first(visible.filter(state__in=ACTIVE_STATES))
    elif view == "overdue":
        items = followups_urgent_first(visible.filter(state__in=ACTIVE_STATES, due_at__lte=now))
    else:
        items = visible.filter(state__in=[State.DONE, State.CANCELLED]).order_by("-closed_at")
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    counts = {
        "mine": my_followups(user).count(),
        "overdue": visible.filter(state__in=ACTIVE_STATES, due_at__lte=now).count(),
    }
    return render(request, "followups/list.html", {
        "page": page, "view": view, "now": now, "counts": counts, "commands": commands,
    })


@login_required
def followup_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, access_followup(request.user, pk))


def _detail(request: HttpRequest, followup: FollowUp, *, close_form: CloseForm | None = None,
            reassign_form: ReassignForm | None = None) -> HttpResponse:
    """The follow-up's page; after a failed close or reassign, with what was typed and why."""
    user = request.user
    if reassign_form is None and may_command(user, followup.area.path) and followup.is_active:
        wardens = wardens_over(followup.area)
        if wardens:
            reassign_form = ReassignForm(wardens=wardens, initial={"owner": followup.owner_id})
    return render(request, "followups/detail.html", {
        "f": followup, "history": followup_history(followup), "may_act": may_act(user, followup),
        "close_form": close_form or CloseForm(), "reassign_form": reassign_form, "now": timezone.now(),
    })


def _acting_on(request: HttpRequest, pk: int) -> FollowUp:
    followup = access_followup(request.user, pk)
    if not may_act(request.user, followup):
        raise Http404("not yours to act on")
    return followup


@require_POST
@login_required
@forbidden_is_missing
def followup_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    followup = _acting_on(request, pk)
    if not followup_acknowledge(followup=followup, actor=request.user):
        messages.info(request, _("Already acknowledged or closed."))
    return redirect("followup", pk=pk)


@require_POST
@login_required
@forbidden_is_missing
def followup_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    followup = _acting_on(request, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            closed = followup_close(followup=followup, actor=request.user, done=form.done,
                                    finding=form.cleaned_data["finding"])
        except FollowUpError as exc:
            form.add_error(None, str(exc))
        else:
            if closed:
                messages.success(request, _("Closed. Thank you."))
            else:
                messages.info(request, _("Somebody closed it before you; nothing changed."))
            return redirect("followup", pk=pk)
    return _detail(request, followup, close_form=form)


@require_POST
@login_required
@forbidden_is_missing
def followup_reassign_view(request: HttpRequest, pk: int) -> HttpResponse:
    followup = access_followup(request.user, pk)
    if not may_command(request.user, followup.area.path):
        raise Http404("not a commander of this area")
    form = ReassignForm(request.POST, wardens=wardens_over(followup.area))
    if form.is_valid():
        try:
            followup_reassign(followup=followup, actor=request.user, owner=form.cleaned_data["owner"])
        except FollowUpError as exc:
            form.add_error("owner", str(exc))
        else:
            return redirect("followup", pk=pk)
    return _detail(request, followup, reassign_form=form)


@login_required
@forbidden_is_missing
def area_assign(request: HttpRequest, code: str) -> HttpResponse:
    """A commander gives the warden of an area a task (核查, 走访, 消毒 …)."""
    area = access_area(request.user, code)
    if not may_command(request.user, area.path):
        raise Http404("not a commander of this area")
    form = AssignForm(request.POST or None)
    if form.is_valid():
        try:
            followup = followup_assign(
                actor=request.user, area=area, summary=form.cleaned_data["summary"],
                action=form.cleaned_data["action"], due_in=form.due_in, priority=form.priority,
            )
        except FollowUpError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("followup", pk=followup.pk)
    return render(request, "followups/assign.html", {
        "area": area, "form": form, "has_jurisdiction": not jurisdiction_for(request.user).is_empty,
    })
