"""Finding a person in the registry from what an officer was told at the door, and adding the
ones nobody registered (在册核对、新增登记).

A person is matched by ID number; without one, by name and phone inside the household's
compound — a match found that way is only a *candidate* until the officer confirms it (two
people may share a name, a phone may be a relative's). A person never ends up registered twice:
the ID number is unique, and one without an ID number is never added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from louzhang.areas.models import Area, Level
from louzhang.audit.services import audit_record
from louzhang.core.paths import AreaPath
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone
from louzhang.registry.models import Resident


class PersonError(ValueError):
    """What was said about a person cannot be used; the message says why (`field`: which)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PersonIn:
    """A person as an officer heard of them: any of ID number, name, phone (cleaned)."""

    id_number: str = ""
    name: str = ""
    phone: str = ""

    @classmethod
    def clean(cls, *, id_number: str = "", name: str = "", phone: str = "") -> PersonIn:
        """Normalise and check the parts given; raises `PersonError` naming the bad one."""
        number = ""
        if id_number and id_number.strip():
            try:
                number = parse_id_number(id_number).number
            except IdentifierError as exc:
                raise PersonError("id_number", str(exc)) from None
        mobile = ""
        if phone and phone.strip():
            try:
                mobile = normalise_phone(phone)
            except IdentifierError as exc:
                raise PersonError("phone", str(exc)) from None
        return cls(id_number=number, name=(name or "").strip()[:50], phone=mobile)

    @property
    def empty(self) -> bool:
        return not (self.id_number or self.name)


@dataclass(frozen=True)
class Match:
    """How a person was found: `resident` when certain (by ID number, or confirmed), else
    `candidates` to confirm (by name and phone), else neither (not registered)."""

    resident: Resident | None
    candidates: tuple[Resident, ...] = ()
    by: str = ""  # "id_number", "name_phone", "member"


def person_match(household: Area, person: PersonIn) -> Match:
    """The registered resident `person` is, as far as can be told."""
    if person.id_number:
        found = Resident.objects.filter(id_number=person.id_number).first()
        return Match(found, by="id_number" if found else "")
    if not person.name:
        return Match(None)
    members = Resident.objects.filter(household=household, name=person.name)
    if person.phone:
        members = members.filter(phone=person.phone)
    member = list(members[:2])
    if len(member) == 1:  # the one member of this household with that name (and phone)
        return Match(member[0], by="member")
    if not person.phone:
        return Match(None, tuple(member))
    compound = AreaPath(household.path).ancestor(Level.COMPOUND) or household.path
    nearby = Resident.objects.filter(name=person.name, phone=person.phone,
                                     household__path__startswith=compound).select_related("household")
    return Match(None, tuple(nearby[:5]), by="name_phone")


def person_register(*, actor: Any, household: Area, person: PersonIn, note: str = "") -> tuple[Resident, bool]:
    """The resident with `person`'s ID number, or a new one living in `household`.

    Returns the resident and whether it was added. An ID number is needed to add anybody:
    without one the officer must find them among the candidates (`person_match`)."""
    if not person.id_number:
        raise PersonError("id_number", _("the ID number is needed to register a person"))
    if not person.name:
        raise PersonError("name", _("the name is needed to register a person"))
    existing = Resident.objects.filter(id_number=person.id_number).first()
    if existing is not None:
        return existing, False
    identity = parse_id_number(person.id_number)
    try:
        with transaction.atomic():
            resident = Resident.objects.create(
                household=household, id_number=identity.number, name=person.name,
                phone=person.phone, gender=identity.gender, birth_date=identity.birth_date,
                residency=Resident.Residency.TEMPORARY, note=note[:200],
            )
    except IntegrityError:  # registered by somebody else a moment ago
        return Resident.objects.get(id_number=person.id_number), False
    audit_record(actor=actor, action="create", object_type="registry.resident", object_id=resident.pk,
                 area_path=household.path, summary=f"resident added: {note}" if note else "resident added")
    return resident, True


def person_resolve(*, actor: Any, household: Area, person: PersonIn, note: str,
                   match: Match | None = None) -> tuple[Resident, bool]:
    """The resident `person` is, without asking anybody (a device's record): certain by ID
    number, else the one registered person of that name and phone in the compound, else added
    to `household` (which needs the ID number). Returns the resident and whether they were
    added; raises `PersonError` naming the field to fix."""
    if person.empty:
        raise PersonError("id_number", _("give the ID number, or the name"))
    match = match or person_match(household, person)
    if match.resident is not None:
        return match.resident, False
    if person.id_number:
        return person_register(actor=actor, household=household, person=person, note=note)
    if len(match.candidates) == 1:
        return match.candidates[0], False
    if match.candidates:
        raise PersonError("id_number", _("%(n)d registered people match what was given: give the ID number")
                          % {"n": len(match.candidates)})
    raise PersonError("id_number", _("not in the registry: the ID number is needed to add them"))
