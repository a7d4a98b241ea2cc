"""Mainland phone numbers, normalised to one form: mobiles as 11 digits (13812345678), fixed
lines as area code, hyphen, local number (0472-5123456). Parsing by `phonenumbers`."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import phonenumbers
from django.utils.translation import gettext as _

from louzhang.identifiers import IdentifierError

_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_PUNCTUATION = re.compile(r"[\s()（）]")


@cache
def _mobile_block_valid(prefix7: str) -> bool:
    """Whether mobiles starting with these 7 digits are valid: libphonenumber's mainland mobile
    patterns depend on at most the first 7 digits, so one check per block of 10,000 numbers."""
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(prefix7 + "0000"))
    return bool(phonenumbers.is_valid_number(number))
_PERSONAL_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalise_phone(raw: object) -> str:
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if not text:
        raise IdentifierError(_("phone number is empty"))
    if isinstance(raw, float):
        raise IdentifierError(_("phone number was stored as a number (%(raw)s): format the column as text") % {"raw": repr(raw)})
    compact = _PUNCTUATION.sub("", text)
    mobile = _MOBILE.match(compact)
    if mobile:  # the common case, without the cost of a full parse
        national = mobile.group(1)
        if not _mobile_block_valid(national[:7]):
            raise IdentifierError(_("not a valid mainland phone number: %(text)s") % {"text": text})
        return national
    try:
        number = phonenumbers.parse(compact, "CN")
    except phonenumbers.NumberParseException:
        raise IdentifierError(_("not a phone number: %(text)s") % {"text": text}) from None
    if number.country_code != 86:
        raise IdentifierError(_("not a mainland China number: %(text)s") % {"text": text})
    if not phonenumbers.is_valid_number(number):
        raise IdentifierError(_("not a valid mainland phone number: %(text)s") % {"text": text})
    if phonenumbers.number_type(number) not in _PERSONAL_TYPES:
        # 400/800 service numbers, premium lines …: nobody can be reached there in person
        raise IdentifierError(_("%(text)s is a service number, not a person's phone") % {"text": text})
    national = str(number.national_number)
    if len(national) == 11 and national.startswith("1"):
        return national
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    area, _space, local = formatted.partition(" ")
    return f"{area}-{local.replace(' ', '')}" if local else formatted.replace(" ", "")
