"""Form pieces the pages share: inputs whose id is their name, the cursor on the first field to
correct after a failed post, device-record errors put on the fields they are about, numbers
typed on a Chinese phone keypad and lists typed with either comma."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

#: a body temperature (°C) as the device APIs accept it
BODY_TEMPERATURE_MIN, BODY_TEMPERATURE_MAX = Decimal("34.0"), Decimal("43.0")

_LIST_SEPARATORS = re.compile(r"[,，、;；\s]+")


class PageForm(forms.Form):
    """A form of the pages. Each input's id is its name (`#temperature`: the pages' scripts and
    the browser tests find them so), labels carry no colon, and after a failed post the cursor
    waits in the first field to correct — on a phone, the field is in view and the keyboard up."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        first = next((name for name in self.fields if self.has_error(name)), None)
        if first is not None:
            for name, each in self.fields.items():
                if name == first:
                    each.widget.attrs["autofocus"] = True
                else:
                    each.widget.attrs.pop("autofocus", None)

    def add_record_errors(self, errors: Iterable[Mapping[str, Any]],
                          fields: Mapping[tuple[Any, ...], str]) -> None:
        """The errors a device service gave one record (`{"loc": [...], "msg": ...}`, see
        `core.ingest`), each on the field its location names in `fields` (the longest match:
        `("visitor", "phone")` before `("visitor",)`), the others on the whole form."""
        for error in errors:
            loc = tuple(error["loc"])
            field = next((fields[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in fields), None)
            self.add_error(field, str(error["msg"]))


def decimal_point(text: str) -> str:
    """"36,5" and "36，5" (a Chinese keypad has no point key, or a full-width comma) as "36.5"."""
    return text.strip().replace("，", ".").replace(",", ".")


_TEMPERATURE_ERROR = _("A temperature is 34.0 to 43.0 °C, typed like 36.5.")


class TemperatureField(forms.DecimalField):
    """A body temperature in °C with at most one decimal, typed "36.5", "36,5" or "36，5"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {})
        for code in ("invalid", "min_value", "max_value", "max_digits", "max_decimal_places",
                     "max_whole_digits"):
            kwargs["error_messages"].setdefault(code, _TEMPERATURE_ERROR)
        super().__init__(min_value=BODY_TEMPERATURE_MIN, max_value=BODY_TEMPERATURE_MAX,
                         max_digits=3, decimal_places=1, **kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, str):
            value = decimal_point(value)
        result: Decimal | None = super().to_python(value)
        return result


class TemperaturesField(forms.CharField):
    """Everyone's temperature in one input: "36.5 36.8", "36.5,36.8", "36.5、36.8"; a comma
    between two digits and one more ("36,5") is a decimal comma."""

    default_error_messages = {
        "temperature": _("Not a temperature (34.0 to 43.0 °C, like 36.5): %(bad)s"),
        "too_many": _("At most %(n)d people in one vehicle."),
    }

    def __init__(self, *, max_people: int = 60, **kwargs: Any) -> None:
        self.max_people = max_people
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[Decimal]:  # type: ignore[override]
        text = super().clean(value)
        temperatures: list[Decimal] = []
        bad: list[str] = []
        for token in re.split(r"[\s、;；]+", text or ""):
            parts = [token] if re.fullmatch(r"\d{2}[,，]\d", token) else re.split(r"[,，]+", token)
            for part in filter(None, parts):
                field = TemperatureField()
                try:
                    temperature = field.clean(part)
                except forms.ValidationError:
                    bad.append(part)
                else:
                    assert temperature is not None
                    temperatures.append(temperature)
        if bad:
            raise forms.ValidationError(self.error_messages["temperature"], code="temperature",
                                        params={"bad": "、".join(bad)})
        if len(temperatures) > self.max_people:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many",
                                        params={"n": self.max_people})
        return temperatures


class ListField(forms.CharField):
    """Short items typed in one input, separated by commas ("，" or ","), "、" or spaces."""

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().clean(value)
        return [item for item in _LIST_SEPARATORS.split(text or "") if item]
