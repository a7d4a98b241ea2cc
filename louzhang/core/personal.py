"""Personal data: tagged once on the model field, masked in one place.

A field that holds personal data is declared with :class:`PersonalCharField`, naming what it is
(``kind``: id_number, phone, address, health …) and how sensitive it is. Every page, export and
API response asks :func:`mask` for the value, never formats personal data itself; whether the
reader sees it in full is decided by :func:`louzhang.access.masking.sees_in_full` (role and
jurisdiction), and every full view is written to the audit log.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.db import models


class Sensitivity(models.TextChoices):
    #: identifies or reaches a person: phone, exact address
    PERSONAL = "personal", "personal"
    #: more harmful if leaked: ID number, health findings
    SENSITIVE = "sensitive", "sensitive"


class Kind(models.TextChoices):
    ID_NUMBER = "id_number", "id_number"
    PHONE = "phone", "phone"
    ADDRESS = "address", "address"
    HEALTH = "health", "health"
    NAME = "name", "name"
    TEXT = "text", "text"


class PersonalFieldMixin:
    """Marks a model field as personal data of a given kind and sensitivity."""

    def __init__(self, *args: Any, kind: str, sensitivity: str, **kwargs: Any) -> None:
        self.personal_kind = Kind(kind)
        self.sensitivity = Sensitivity(sensitivity)
        super().__init__(*args, **kwargs)

    def deconstruct(self):  # type: ignore[no-untyped-def]
        name, path, args, kwargs = super().deconstruct()  # type: ignore[misc]
        kwargs["kind"] = self.personal_kind.value
        kwargs["sensitivity"] = self.sensitivity.value
        return name, path, args, kwargs


if TYPE_CHECKING:
    _CharField = models.CharField[str, str]
else:
    _CharField = models.CharField


class PersonalCharField(PersonalFieldMixin, _CharField):
    pass


def personal_fields(model: type[models.Model]) -> dict[str, PersonalFieldMixin]:
    """The personal fields of a model, by attribute name."""
    return {
        f.name: f for f in model._meta.get_fields() if isinstance(f, PersonalFieldMixin)
    }


_MOBILE = re.compile(r"^(\+?86)?1\d{10}$")


def mask(kind: str, value: str | None) -> str:
    """The value with the identifying middle hidden, e.g. ``1502**********0018``, ``138****5678``."""
    if not value:
        return ""
    if kind == Kind.ID_NUMBER:
        if len(value) <= 8:
            return "*" * len(value)
        return value[:4] + "*" * (len(value) - 8) + value[-4:]
    if kind == Kind.PHONE:
        digits = value.replace(" ", "")
        if _MOBILE.match(digits):
            return digits[:-8] + "****" + digits[-4:]
        if "-" in digits:  # fixed line 0472-5123456: keep area code and last four
            area, _, local = digits.partition("-")
            return area + "-" + "*" * max(len(local) - 4, 0) + local[-4:]
        return "*" * max(len(digits) - 4, 0) + digits[-4:]
    if kind == Kind.ADDRESS:
        # Keep the building, hide unit/floor/door: "34号楼二单元6楼西户" -> "34号楼***"
        match = re.match(r"^(.*?号楼)", value)
        keep = match.group(1) if match else value[: min(4, len(value) // 2)]
        return keep + "***"
    if kind == Kind.HEALTH:
        return "***"
    if kind == Kind.NAME:  # 邹敏 -> 邹*, 欧阳娜娜 -> 欧***
        return value[0] + "*" * (len(value) - 1)
    # generic text: first and last character
    if len(value) <= 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
