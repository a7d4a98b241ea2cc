"""Mainland phone numbers, normalised to one form: mobiles as 11 digits (13812345678), fixed
lines as area code, hyphen, local number (0472-5123456). Parsing by `phonenumbers`."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from louzhang.identifiers import IdentifierError

_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


def normalise_phone(raw: object) -> str:
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if not text:
        raise IdentifierError("phone number is empty")
    if isinstance(raw, float):
        raise IdentifierError(f"phone number was stored as a number ({raw!r}): format the column as text")
    compact = re.sub(r"[\s()（）]", "", text)
    mobile = _MOBILE.match(compact)
    if mobile:  # the common case, without the cost of a full parse
        national = mobile.group(1)
        if not phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=86, national_number=int(national))):
            raise IdentifierError(f"not a valid mainland phone number: {text!r}")
        return national
    try:
        number = phonenumbers.parse(compact, "CN")
    except phonenumbers.NumberParseException:
        raise IdentifierError(f"not a phone number: {text!r}") from None
    if number.country_code != 86:
        raise IdentifierError(f"not a mainland China number: {text!r}")
    if not phonenumbers.is_valid_number(number):
        raise IdentifierError(f"not a valid mainland phone number: {text!r}")
    national = str(number.national_number)
    if len(national) == 11 and national.startswith("1"):
        return national
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    area, _, local = formatted.partition(" ")
    return f"{area}-{local.replace(' ', '')}" if local else formatted.replace(" ", "")
