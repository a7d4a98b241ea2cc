"""What commanders type about people on post: an officer's duty status, an area's response
level; and the officers' list filters."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from louzhang.core.forms import PageForm
from louzhang.duty.models import DutyStatus, ResponseLevel
from louzhang.duty.services import RECALL_DUE_IN


class StatusForm(PageForm):
    """A commander of the officer's unit sets their duty status."""

    status = forms.ChoiceField(label=_("Duty status"), choices=DutyStatus.choices,
                               error_messages={"required": _("Choose a duty status."),
                                               "invalid_choice": _("Choose a duty status.")})
    reason = forms.CharField(label=_("Why (optional)"), max_length=200, required=False,
                             error_messages={"max_length": _("At most 200 characters.")})


class ResponseForm(PageForm):
    """A commander of the area sets its response level (0: ends it)."""

    level = forms.TypedChoiceField(
        label=_("Response level"), coerce=int,
        choices=[*ResponseLevel.Level.choices, (0, _("end the response"))],
        error_messages={"required": _("Choose a level."), "invalid_choice": _("Choose a level.")},
    )
    hours = forms.IntegerField(
        label=_("Level one: recalled officers back on post within (hours)"), min_value=1,
        max_value=24 * 14, initial=int(RECALL_DUE_IN.total_seconds() // 3600),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={code: _("Within 1 to 336 hours.")
                        for code in ("required", "invalid", "min_value", "max_value")},
    )

    @property
    def due_in(self) -> timedelta:
        return timedelta(hours=self.cleaned_data["hours"])
