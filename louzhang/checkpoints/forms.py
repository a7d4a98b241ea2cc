"""The checkpoint page's inspection form, and the key regions commanders keep."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area
from louzhang.checkpoints.models import KeyRegion, VehicleInspection
from louzhang.checkpoints.selectors import destinations_named
from louzhang.core.forms import ListField, PageForm, TemperaturesField
from louzhang.followups.services import where
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.plates import parse_plate

#: where the checkpoint service's errors for a record belong on the page (`add_record_errors`)
RECORD_FIELDS = {
    ("plate",): "plate", ("vehicle_type",): "vehicle_type", ("origin",): "origin",
    ("destination",): "destination", ("occupants",): "temperatures", ("disposition",): "disposition",
}
#: candidates named in a message about a destination
SHOWN = 5


class InspectionForm(PageForm):
    """One vehicle at the checkpoint. The destination is a compound's code or its name; the
    rest is checked by `checkpoints.services.vehicle_checks_ingest`, as a device's record is."""

    plate = forms.CharField(
        label=_("Plate"), max_length=20,
        widget=forms.TextInput(attrs={"class": "big mono", "autofocus": True, "autocapitalize": "characters",
                                      "placeholder": "鄂A12345"}),
    )
    origin = forms.CharField(label=_("Coming from"), max_length=100, required=False,
                             widget=forms.TextInput(attrs={"placeholder": "武汉市"}))
    vehicle_type = forms.CharField(label=_("Vehicle type"), max_length=30, required=False)
    destination = forms.CharField(label=_("Going to (compound name or code, if in the city)"), max_length=64,
                                  required=False)
    temperatures = TemperaturesField(
        label=_("Temperatures of everyone in the car, °C"), required=False,
        widget=forms.TextInput(attrs={"class": "big", "inputmode": "decimal", "placeholder": "36.5 36.8"}),
    )
    #: the button pressed
    disposition = forms.ChoiceField(choices=VehicleInspection.Disposition.choices,
                                    error_messages={"required": _("Tap let through, turn back or refer.")})

    def __init__(self, *args: Any, suggest_url: str = "", **kwargs: Any) -> None:
        """`suggest_url`: where the destination field asks for compounds named like what is
        typed (a `<datalist id="destinations">` the page swaps in)."""
        super().__init__(*args, **kwargs)
        if suggest_url:
            self.fields["destination"].widget.attrs.update({
                "list": "destinations", "autocomplete": "off", "hx-get": suggest_url,
                "hx-trigger": "input changed delay:250ms", "hx-target": "#destinations",
                "hx-swap": "outerHTML",
            })

    def clean_plate(self) -> str:
        """Checked here as the service checks it, so that every mistake shows at once."""
        plate: str = self.cleaned_data["plate"]
        try:
            parse_plate(plate)
        except IdentifierError as exc:
            raise forms.ValidationError(str(exc), code="plate") from None
        return plate

    def clean_destination(self) -> Area | None:
        """The compound meant: by its code, or by its name when no other compound has it."""
        text = self.cleaned_data["destination"]
        if not text:
            return None
        candidates = destinations_named(text)
        found = candidates.found
        if candidates.exact and len(found) == 1:
            return found[0]
        choices = "; ".join(f"{where(area)} {area.code}" for area in found[:SHOWN])
        if candidates.exact:
            raise forms.ValidationError(
                _("%(n)d compounds are called %(name)s: type the code of the one meant — %(choices)s"),
                code="ambiguous", params={"n": len(found), "name": text, "choices": choices})
        if found:
            raise forms.ValidationError(
                _("No compound is called %(name)s. Did you mean %(choices)s? Type the name in full, or the code."),
                code="unknown", params={"name": text, "choices": choices})
        raise forms.ValidationError(
            _("No compound is called %(name)s or has that code: type the compound's name in full, or its code."),
            code="unknown", params={"name": text})

    def record(self, checkpoint_code: str) -> dict[str, Any]:
        """The inspection as a checkpoint device would post it (`checkpoints.services.VehicleCheckIn`), now."""
        data = self.cleaned_data
        record: dict[str, Any] = {
            "client_id": f"web-{uuid.uuid4().hex}", "checkpoint": checkpoint_code, "at": timezone.now().isoformat(),
            "plate": data["plate"], "vehicle_type": data["vehicle_type"], "origin": data["origin"],
            "disposition": data["disposition"], "occupants": [{"temperature": str(t)} for t in data["temperatures"]],
        }
        if data["destination"] is not None:
            record["destination"] = {"compound": data["destination"].code}
        return record


_DATE = _("Dates as 2020-01-23.")


#: the choice of the operator's list, for every city
EVERY_CITY = "*"


class KeyRegionForm(PageForm):
    """A key region (重点地区): what `checkpoints.key_regions.key_region_add` takes, parsed.
    Whether the prefixes exist is the service's to say; `city` offers the lists the user keeps
    (`cities`, and for the operator the list of every city)."""

    city = forms.ChoiceField(label=_("On the list of"), required=False)
    name = forms.CharField(label=capfirst(_("name")), max_length=50)
    plate_prefixes = ListField(label=_("Plate prefixes, comma-separated (鄂 for a province, 鄂A for a city)"),
                               required=False)
    division_prefixes = ListField(
        label=_("Division code prefixes, comma-separated (42 for a province, 4201 for a city)"), required=False,
        widget=forms.TextInput(attrs={"class": "mono", "inputmode": "numeric"}))
    starts_on = forms.DateField(label=_("from"), input_formats=["%Y-%m-%d"],
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                error_messages={"invalid": _DATE})
    ends_on = forms.DateField(label=_("until"), input_formats=["%Y-%m-%d"], required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                              error_messages={"invalid": _DATE})
    risk = forms.ChoiceField(label=_("risk"), choices=KeyRegion.Risk.choices, required=False,
                             initial=KeyRegion.Risk.HIGH)

    observation_days = forms.IntegerField(
        label=_("Days of home observation after the last exposure (empty: the default, 14)"),
        required=False, min_value=1, max_value=28)

    def __init__(self, *args: Any, cities: list[Area], operator: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cities = {city.code: city for city in cities}
        choices: list[tuple[str, Any]] = [(code, city.name) for code, city in self.cities.items()]
        if operator:
            choices.insert(0, (EVERY_CITY, _("every city (the operator's list)")))
        field = self.fields["city"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        if choices:
            field.initial = choices[0][0]

    def clean_risk(self) -> str:
        return str(self.cleaned_data["risk"] or KeyRegion.Risk.HIGH)

    def region(self) -> dict[str, Any]:
        """What `key_region_add` takes, besides the actor."""
        data = dict(self.cleaned_data)
        code = data.pop("city")
        return {**data, "city": self.cities.get(code), "operator_wide": code == EVERY_CITY}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_on: date | None = cleaned.get("starts_on")
        ends_on: date | None = cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The end is before the start."))
        return cleaned


class EndKeyRegionForm(forms.Form):
    """"End today" on one key region of those the user reads (`regions`)."""

    end = forms.ModelChoiceField(queryset=KeyRegion.objects.none())

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["end"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = regions
