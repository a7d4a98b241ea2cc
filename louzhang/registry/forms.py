"""Forms of the registry's pages: every POST goes through one, and a form that fails is shown
again with what the user chose."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from louzhang.core.forms import PageForm
from louzhang.registry.models import ImportJob


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
