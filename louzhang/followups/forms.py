"""What officers type about follow-ups: closing one with a finding, giving it to another warden,
a commander's task for an area."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from louzhang.accounts.models import User
from louzhang.core.forms import PageForm
from louzhang.followups.models import Priority

DONE, CANCEL = "done", "cancel"


class CloseForm(PageForm):
    """Done with a finding, or cancelled with a reason (the button pressed says which)."""

    finding = forms.CharField(
        label=_("Finding: what you found and what was done"), max_length=4000, required=False,
        widget=forms.Textarea(attrs={"rows": 3, "required": True}),
    )
    outcome = forms.ChoiceField(choices=[(DONE, _("Done")), (CANCEL, _("Cancel follow-up"))],
                                required=False)

    @property
    def done(self) -> bool:
        return bool(self.cleaned_data.get("outcome") != CANCEL)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("finding") and not self.has_error("finding"):
            self.add_error("finding", _("Write the finding: what you found and what was done.")
                           if self.done else _("Write why it is cancelled."))
        return cleaned


class ReassignForm(PageForm):
    """Another warden of the follow-up's area (`access.holders.wardens_over`)."""

    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), label=_("Reassign to"), empty_label=None,
        error_messages={"required": _("Choose a warden."), "invalid_choice": _("Choose a warden.")},
    )

    def __init__(self, *args: Any, wardens: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=[w.pk for w in wardens]).order_by("display_name", "pk")


class AssignForm(PageForm):
    """A commander's task for the warden of an area."""

    summary = forms.CharField(
        label=_("What happened (no names, phones or ID numbers: this goes to group chats)"),
        max_length=300, error_messages={"required": _("Say what happened.")},
    )
    action = forms.CharField(label=_("What to do"), max_length=200,
                             error_messages={"required": _("Say what to do.")})
    hours = forms.IntegerField(
        label=_("Due within (hours)"), min_value=1, max_value=24 * 14, initial=24,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={code: _("Due within 1 to 336 hours.")
                        for code in ("required", "invalid", "min_value", "max_value")},
    )
    urgent = forms.BooleanField(label=_("urgent"), required=False)

    @property
    def due_in(self) -> timedelta:
        return timedelta(hours=self.cleaned_data["hours"])

    @property
    def priority(self) -> int:
        return Priority.URGENT if self.cleaned_data["urgent"] else Priority.NORMAL
