"""What officers and residents type about home observation: opening one for a member of a
household, a check-in (temperature and symptoms), extending it, ending it, confirming it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.access.masking import Presented
from louzhang.core.forms import PageForm, TemperatureField
from louzhang.observation.models import CLOSING_STATUSES, Source, Symptom
from louzhang.observation.selectors import open_sources
from louzhang.registry.models import Resident


def new_client_id() -> str:
    """The id a rendered form carries: the same form sent twice (a double tap, a resend after
    a dropped connection) stores one check-in."""
    return uuid.uuid4().hex


class OpenForm(PageForm):
    """Put a member of a household under home observation (from the household's page)."""

    resident = forms.TypedChoiceField(
        label=_("Who"), coerce=int, error_messages={"required": _("Choose the person."),
                                                    "invalid_choice": _("Choose the person.")},
    )
    source = forms.ChoiceField(label=_("Found through"), choices=Source.choices)
    reason = forms.CharField(
        label=_("Reason (no names, phones or ID numbers: this goes to group chats)"), max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("back from Wuhan on 01-20")}),
        error_messages={"required": _("Say why."), "max_length": _("At most 200 characters.")},
    )
    last_exposure = forms.DateField(
        label=_("Last exposure (the day they left the key region, or last met the case)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Give the date of the last exposure."),
                        "invalid": _("A date, like 2020-01-20.")},
    )
    exposure_region = forms.CharField(label=_("Where (key region)"), max_length=100, required=False,
                                      widget=forms.TextInput(attrs={"placeholder": _("Wuhan")}))

    def __init__(self, *args: Any, members: Sequence[Presented], sources: Sequence[str],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {m.obj.pk: m for m in members}
        resident = self.fields["resident"]
        assert isinstance(resident, forms.TypedChoiceField)
        resident.choices = [(pk, m.values["name"]) for pk, m in self.members.items()]
        source = self.fields["source"]
        assert isinstance(source, forms.ChoiceField)
        source.choices = [(value, label) for value, label in Source.choices if value in sources]
        last_exposure = self.fields["last_exposure"]
        last_exposure.widget.attrs["max"] = timezone.localdate().isoformat()

    @property
    def person(self) -> Resident:
        resident: Resident = self.members[self.cleaned_data["resident"]].obj
        return resident


def open_form(user: Any, household_path: str, members: Sequence[Presented], data: Any = None) -> OpenForm:
    """The form to open an observation of a household, for this user (the sources they may
    name, their own first)."""
    sources = open_sources(user, household_path)
    return OpenForm(data, members=members, sources=sources, initial={"source": sources[0]})


class CheckInForm(PageForm):
    """A check-in: temperature and symptoms, from an officer's page or the resident's link."""

    temperature = TemperatureField(
        label=_("Temperature °C"),
        widget=forms.TextInput(attrs={"class": "big", "inputmode": "decimal", "placeholder": "36.5",
                                      "pattern": "[34][0-9]([.,，][0-9])?", "autocomplete": "off"}),
    )
    symptoms = forms.MultipleChoiceField(label=_("Symptoms"), choices=Symptom.choices, required=False,
                                         widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label=_("Note"), max_length=200, required=False,
                           error_messages={"max_length": _("At most 200 characters.")})
    client_id = forms.CharField(max_length=64, widget=forms.HiddenInput,
                                error_messages={"required": _("Reload the page and send it again.")})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("client_id", new_client_id())
        super().__init__(*args, **kwargs)


class ResidentCheckInForm(CheckInForm):
    """The resident's own check-in through their link: temperature and symptoms, nothing else."""

    note = None  # type: ignore[assignment]


class ExtendForm(PageForm):
    days = forms.IntegerField(
        label=_("Extend by (days)"), min_value=1, max_value=28, initial=7,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={code: _("Extend by 1 to 28 days.")
                        for code in ("required", "invalid", "min_value", "max_value")},
    )
    note = forms.CharField(label=_("Why"), max_length=200,
                           error_messages={"required": _("Say why it is extended."),
                                           "max_length": _("At most 200 characters.")})


class CloseForm(PageForm):
    """End the observation: released (on its last day), transferred to hospital, moved away,
    cancelled. The button pressed names the status; the statuses offered are the user's."""

    status = forms.ChoiceField(choices=[(s.value, s.label) for s in CLOSING_STATUSES],
                               error_messages={"required": _("Choose how it ends."),
                                               "invalid_choice": _("Choose how it ends.")})
    note = forms.CharField(label=_("Note: which hospital, where to, or why"), max_length=300,
                           required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"max_length": _("At most 300 characters.")})

    def __init__(self, *args: Any, statuses: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(s.value, s.label) for s in CLOSING_STATUSES if s in statuses]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        status = cleaned.get("status")
        if status and status != "released" and not cleaned.get("note") and not self.has_error("note"):
            self.add_error("note", _("Write a note: where to, or why."))
        return cleaned


class ConfirmForm(PageForm):
    """The health liaison confirms a proposed observation (one tap; nothing to type)."""


class TravellerForm(PageForm):
    """One traveller of a key-region car, and where in the compound they stay."""

    occupant = forms.IntegerField(widget=forms.HiddenInput)
    address = forms.CharField(
        label=_("Where they stay (e.g. 34号楼二单元6楼西户)"), max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "34号楼二单元6楼西户"}))
