"""The gate page's one form: a pass (or a visitor), a temperature, in or out."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.core.forms import PageForm, TemperatureField
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone

#: where the gate service's errors for a record belong on the page (`add_record_errors`)
RECORD_FIELDS = {
    ("pass_code",): "pass_code", ("temperature",): "temperature", ("method",): "method",
    ("direction",): "direction", ("visitor",): "visitor_name", ("visitor", "name"): "visitor_name",
    ("visitor", "phone"): "visitor_phone", ("visitor", "id_number"): "visitor_id_number",
    ("visitor", "reason"): "visitor_reason", ("visitor", "visiting"): "visiting",
}


class GateRecordForm(PageForm):
    """One person at the gate, recorded by the gate's staff on a phone. The pass is checked by
    `gates.services.gate_checks_ingest`, exactly as a device's record is."""

    pass_code = forms.CharField(
        label=_("Pass code (scan or type)"), max_length=16, required=False,
        widget=forms.TextInput(attrs={"class": "big mono", "autofocus": True, "autocapitalize": "characters",
                                      "spellcheck": "false"}),
    )
    temperature = TemperatureField(
        label=_("Temperature °C"),
        widget=forms.TextInput(attrs={"class": "big", "inputmode": "decimal", "placeholder": "36.5",
                                      "pattern": "[34][0-9]([.,，][0-9])?"}),
    )
    method = forms.ChoiceField(label=_("measured at"), required=False, choices=[
        ("forehead", _("forehead, infrared")), ("armpit", _("armpit")), ("wrist", _("wrist")),
    ])
    visitor_name = forms.CharField(label=_("Name"), max_length=50, required=False)
    visitor_phone = forms.CharField(label=_("Phone"), max_length=20, required=False,
                                    widget=forms.TextInput(attrs={"inputmode": "tel"}))
    visitor_id_number = forms.CharField(label=_("ID number"), max_length=18, required=False,
                                        widget=forms.TextInput(attrs={"class": "mono"}))
    visiting = forms.CharField(label=_("Visiting (building, household or person)"), max_length=100,
                               required=False)
    visitor_reason = forms.CharField(label=_("Reason"), max_length=100, required=False)
    #: the button pressed
    direction = forms.ChoiceField(choices=[("in", _("In")), ("out", _("Out"))],
                                  error_messages={"required": _("Tap In or Out.")})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("visitor_name", "visitor_phone", "visitor_id_number", "visiting", "visitor_reason"):
            self.fields[name].widget.attrs.setdefault("placeholder", self.fields[name].label)

    def clean_pass_code(self) -> str:
        """Printed in capitals; a phone keyboard may type them small, with spaces."""
        return str(self.cleaned_data["pass_code"]).replace(" ", "").upper()

    def clean_visitor_phone(self) -> str:
        """Checked here as the service checks it, so that every mistake shows at once."""
        phone: str = self.cleaned_data["visitor_phone"]
        try:
            if phone:
                normalise_phone(phone)
        except IdentifierError as exc:
            raise forms.ValidationError(str(exc), code="phone") from None
        return phone

    def clean_visitor_id_number(self) -> str:
        id_number: str = self.cleaned_data["visitor_id_number"]
        try:
            if id_number:
                parse_id_number(id_number)
        except IdentifierError as exc:
            raise forms.ValidationError(str(exc), code="id_number") from None
        return id_number

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("visitor_name") and not cleaned.get("pass_code") and not self.has_error("pass_code"):
            self.add_error("pass_code", _("Scan or type the pass code, or register a visitor without a pass."))
        return cleaned

    @property
    def is_visitor(self) -> bool:
        return bool(self.cleaned_data.get("visitor_name"))

    def record(self, gate_code: str) -> dict[str, Any]:
        """The record as a gate device would post it (`gates.services.GateCheckIn`), now."""
        data = self.cleaned_data
        record: dict[str, Any] = {
            "client_id": f"web-{uuid.uuid4().hex}", "gate": gate_code, "direction": data["direction"],
            "at": timezone.now().isoformat(), "temperature": str(data["temperature"]),
            "method": data["method"] or "forehead",
        }
        if self.is_visitor:
            record["visitor"] = {"name": data["visitor_name"], "phone": data["visitor_phone"],
                                 "id_number": data["visitor_id_number"], "reason": data["visitor_reason"],
                                 "visiting": data["visiting"]}
        else:
            record["pass_code"] = data["pass_code"]
        return record
