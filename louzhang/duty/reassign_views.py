"""Reassignment pages (下沉): the reassignments a commander sees, those in and out of one unit,
reassigning an officer to a station, one reassignment with "end it now".

Thin: access → form → service → redirect. The services check the actor again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from louzhang.accounts.models import Role
from louzhang.areas.models import Area, PoliceUnit
from louzhang.core.forms import PageForm
from louzhang.core.views import forbidden_is_missing
from louzhang.duty.models import Officer
from louzhang.duty.reassignments import (
    ReassignmentError,
    access_reassignment,
    access_unit,
    commanded_units,
    may_cancel,
    officers_of,
    reassignment_cancel,
    reassignment_create,
    reassignment_state,
    reassignments_seen,
    unit_reassignments,
)

LISTED = 200


class OfficerChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        officer: Officer = obj
        missing = "" if officer.user_id else _(" — no log-in")
        return f"{officer.name}（{officer.badge_number}）· {officer.unit.name}{missing}"


def _moment_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ReassignmentForm(PageForm):
    officer = OfficerChoice(queryset=Officer.objects.none(), label=gettext_lazy("Officer"))
    to_area = forms.ModelChoiceField(queryset=Area.objects.none(), required=False,
                                     label=gettext_lazy("Community"),
                                     empty_label=gettext_lazy("the station's whole beat"))
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts"), widget=_moment_input())
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends"), widget=_moment_input())
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)

    def __init__(self, *args: Any, officers: Any, communities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers  # type: ignore[attr-defined]
        self.fields["to_area"].queryset = communities  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if isinstance(starts, datetime) and isinstance(ends, datetime) and ends <= starts:
            self.add_error("ends_at", _("A reassignment ends after it starts."))
        return data


def _units_or_404(request: HttpRequest) -> list[PoliceUnit]:
    units = commanded_units(request.user)
    if not units:
        raise Http404("reassignments are for commanders")
    return units


def _with_states(rows: Any) -> list[Any]:
    now = timezone.now()
    listed = list(rows)
    for row in listed:
        row.state = reassignment_state(row, now)
    return listed


@login_required
def reassignments(request: HttpRequest) -> HttpResponse:
    """The reassignments into or out of the units the commander commands."""
    units = _units_or_404(request)
    rows = _with_states(reassignments_seen(request.user)[:LISTED])
    return render(request, "duty/reassignments.html", {
        "units": units, "rows": rows, "station": PoliceUnit.Kind.STATION})


@login_required
def reassignments_unit(request: HttpRequest, code: str) -> HttpResponse:
    """One unit: officers coming in, officers going out — its commanders and those above."""
    unit = access_unit(request.user, code)
    both = unit_reassignments(unit)
    return render(request, "duty/reassign_unit.html", {
        "unit": unit, "coming_in": _with_states(both.coming_in), "going_out": _with_states(both.going_out),
        "is_station": unit.kind == PoliceUnit.Kind.STATION})


@login_required
@forbidden_is_missing
def reassignment_new(request: HttpRequest, code: str) -> HttpResponse:
    """Reassign an officer of a unit the commander commands to this station (or one of its
    communities)."""
    unit = access_unit(request.user, code)
    if unit.kind != PoliceUnit.Kind.STATION:
        raise Http404("officers are reassigned to a police station")
    others = [u for u in commanded_units(request.user) if u.pk != unit.pk]
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    form = ReassignmentForm(request.POST or None, officers=officers_of(others),
                            communities=unit.communities.order_by("path"),
                            initial={"starts_at": start, "ends_at": start + timedelta(days=7)})
    if form.is_valid():
        try:
            created = reassignment_create(actor=request.user, to_unit=unit, **form.cleaned_data)
        except ReassignmentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("%(officer)s is reassigned to %(unit)s; access to its communities "
                                        "starts and ends with the reassignment.")
                             % {"officer": created.officer, "unit": unit})
            return redirect("reassignment", pk=created.pk)
    return render(request, "duty/reassign_new.html", {"unit": unit, "form": form})


@login_required
def reassignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    found = access_reassignment(request.user, pk)
    found.state = reassignment_state(found)  # type: ignore[attr-defined]
    return render(request, "duty/reassign_detail.html", {
        "r": found, "role": Role(found.role).label if found.role in Role.values else found.role,
        "may_cancel": may_cancel(request.user, found) and found.state in ("upcoming", "current")})  # type: ignore[attr-defined]


@login_required
@require_POST
@forbidden_is_missing
def reassignment_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    found = access_reassignment(request.user, pk)
    try:
        if reassignment_cancel(actor=request.user, reassignment=found):
            messages.success(request, _("Reassignment ended: %(officer)s no longer has access to %(unit)s.")
                             % {"officer": found.officer, "unit": found.to_area or found.to_unit})
        else:
            messages.info(request, _("This reassignment was cancelled already."))
    except ReassignmentError as exc:
        messages.error(request, str(exc))
    return redirect("reassignment", pk=found.pk)
