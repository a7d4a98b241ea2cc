"""Roster pages (排班): every post one sees with who is on duty now and what will go wrong in
the next 48 hours; one post's roster, where its commanders plan a shift or a whole day.

Thin: access → form → service → redirect. The services check the actor again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from louzhang.core.clock import today_start
from louzhang.core.forms import PageForm
from louzhang.core.views import forbidden_is_missing
from louzhang.duty.models import Officer, Shift
from louzhang.duty.rosters import (
    LOOK_AHEAD,
    Post,
    RosterError,
    access_post,
    day_plan,
    may_plan,
    officers_for,
    on_duty,
    posts_seen,
    roster_problems,
    shift_plan,
    shift_problems,
    shift_remove,
    shifts_of,
)


class OfficerChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        officer: Officer = obj
        return f"{officer.name}（{officer.badge_number}）· {officer.get_status_display()}"


def _moment_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ShiftForm(PageForm):
    officer = OfficerChoice(queryset=Officer.objects.none(), label=gettext_lazy("Officer"))
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts"), widget=_moment_input())
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends"), widget=_moment_input())

    def __init__(self, *args: Any, officers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if isinstance(starts, datetime) and isinstance(ends, datetime) and ends <= starts:
            self.add_error("ends_at", _("A shift ends after it starts."))
        return data


class DayForm(PageForm):
    day = forms.DateField(label=gettext_lazy("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start_hour = forms.IntegerField(label=gettext_lazy("First shift starts at (hour)"), min_value=0,
                                    max_value=23, initial=8)
    first = OfficerChoice(queryset=Officer.objects.none(), label=gettext_lazy("First shift"))
    second = OfficerChoice(queryset=Officer.objects.none(), label=gettext_lazy("Second shift"))
    third = OfficerChoice(queryset=Officer.objects.none(), label=gettext_lazy("Third shift"))

    def __init__(self, *args: Any, officers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first", "second", "third"):
            self.fields[name].queryset = officers  # type: ignore[attr-defined]


@login_required
def rosters(request: HttpRequest) -> HttpResponse:
    """Every post the user sees: who is on duty now, who comes next, and the problems of the
    next 48 hours. `?compound=CODE` opens the roster of a compound's gates."""
    compound = request.GET.get("compound", "").strip()
    if compound:
        return redirect("roster-post", kind=Shift.PostKind.GATE, code=compound)
    posts = posts_seen(request.user)
    if not posts:
        raise Http404("rosters are for officers on post")
    duty = on_duty(posts)
    return render(request, "duty/rosters.html", {
        "rows": [duty[post.key] for post in posts], "problems": roster_problems(posts)})


def _officers(request: HttpRequest) -> Any:
    now = timezone.now()
    return officers_for(request.user, now - timedelta(days=1), now + timedelta(days=30))


def _plan(request: HttpRequest, post: Post, shift_form: ShiftForm, day_form: DayForm) -> bool:
    """Plan what was posted; True when done (the page redirects), False to show the errors."""
    try:
        if request.POST.get("plan") == "day":
            if not day_form.is_valid():
                return False
            data = day_form.cleaned_data
            planned = day_plan(actor=request.user, post=post, day=data["day"], start_hour=data["start_hour"],
                               officers=[data["first"], data["second"], data["third"]])
        else:
            if not shift_form.is_valid():
                return False
            planned = [shift_plan(actor=request.user, post=post, **shift_form.cleaned_data)]
    except RosterError as exc:
        (day_form if request.POST.get("plan") == "day" else shift_form).add_error(None, str(exc))
        return False
    messages.success(request, _("Planned: %(shifts)s.") % {"shifts": "; ".join(
        f"{s.officer.name} {timezone.localtime(s.starts_at):%m-%d %H:%M}–{timezone.localtime(s.ends_at):%m-%d %H:%M}"
        for s in planned)})
    for shift in planned:
        for problem in shift_problems(shift, post):
            messages.warning(request, problem.text)
    return True


@login_required
@forbidden_is_missing
def roster_post(request: HttpRequest, kind: str, code: str) -> HttpResponse:
    """One post: today's and the next 48 hours' shifts, who is on duty now, what will go
    wrong; its commanders plan a shift or a day here."""
    post = access_post(request.user, kind, code)
    planner = may_plan(request.user, post)
    if request.method == "POST" and not planner:
        raise PermissionDenied("shifts are planned by a commander of the post")
    shift_form = day_form = None
    if planner:
        officers = _officers(request)
        posted = request.POST if request.method == "POST" else None
        which = request.POST.get("plan")
        start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        shift_form = ShiftForm(posted if which != "day" else None, officers=officers,
                               initial={"starts_at": start, "ends_at": start + timedelta(hours=8)})
        day_form = DayForm(posted if which == "day" else None, officers=officers,
                           initial={"day": timezone.localdate() + timedelta(days=1), "start_hour": 8})
        if posted is not None and _plan(request, post, shift_form, day_form):
            return redirect("roster-post", kind=post.kind, code=post.code)
    now = timezone.now()
    days: dict[Any, list[Shift]] = defaultdict(list)
    for shift in shifts_of([post], today_start(), now + LOOK_AHEAD):
        days[timezone.localtime(shift.starts_at).date()].append(shift)
    return render(request, "duty/roster_post.html", {
        "post": post, "duty": on_duty([post], now)[post.key], "days": sorted(days.items()),
        "problems": roster_problems([post], start=now), "may_plan": planner,
        "shift_form": shift_form, "day_form": day_form, "now": now})


@login_required
@require_POST
@forbidden_is_missing
def roster_shift_remove(request: HttpRequest, pk: int) -> HttpResponse:
    shift = get_object_or_404(Shift.objects.select_related("officer"), pk=pk)
    post = access_post(request.user, shift.post_kind, shift.post_code)
    shift_remove(actor=request.user, shift=shift)
    messages.success(request, _("Shift removed."))
    return redirect("roster-post", kind=post.kind, code=post.code)
