"""Forms of the registry's pages: every POST goes through one, and a form that fails is shown
again with what the user chose."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from louzhang.access.masking import Presented
from louzhang.core.forms import PageForm
from louzhang.registry.models import ImportJob, Resident


class ImportForm(PageForm):
    """A spreadsheet to import; what the file itself may be is the service's to check."""

    kind = forms.ChoiceField(
        choices=ImportJob.Kind.choices,
        error_messages={"required": _("Choose what the file holds: residents or vehicles."),
                        "invalid_choice": _("Choose what the file holds: residents or vehicles.")},
    )
    file = forms.FileField(
        allow_empty_file=True,  # the service says "empty" with the file's name
        error_messages={"required": _("Choose a file to upload."),
                        "missing": _("Choose a file to upload.")},
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    compound = forms.CharField(
        required=False, max_length=64, strip=True,
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}),
    )


class VehicleForm(PageForm):
    """登记车辆 on a household's page: a car found in the compound, registered to one of the
    household's members. Whether the plate is one (and free) is the service's to say."""

    plate = forms.CharField(
        label=_("Plate"), max_length=20, strip=True,
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off", "autocapitalize": "characters",
                                      "placeholder": "蒙B12345"}),
        error_messages={"required": _("Type the plate."),
                        "max_length": _("A plate has at most 20 characters.")},
    )
    vehicle_type = forms.CharField(
        label=_("Vehicle type"), max_length=30, required=False, strip=True,
        widget=forms.TextInput(attrs={"placeholder": _("grey Buick saloon")}),
        error_messages={"max_length": _("At most 30 characters.")},
    )
    owner = forms.TypedChoiceField(
        label=_("Owner"), coerce=int,
        error_messages={"required": _("Choose the owner among the household's members."),
                        "invalid_choice": _("Choose the owner among the household's members.")},
    )

    def __init__(self, *args: Any, members: Sequence[Presented], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {m.obj.pk: m for m in members}
        owner = self.fields["owner"]
        assert isinstance(owner, forms.TypedChoiceField)
        owner.choices = [(pk, m.values["name"]) for pk, m in self.members.items()]

    @property
    def chosen_owner(self) -> Resident:
        """The member chosen (after `is_valid()`)."""
        resident: Resident = self.members[self.cleaned_data["owner"]].obj
        return resident

    @property
    def owner_shown(self) -> str:
        """The chosen owner's name as the page shows it (masked where it must be)."""
        return self.members[self.cleaned_data["owner"]].values["name"]
