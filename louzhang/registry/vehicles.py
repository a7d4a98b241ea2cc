"""Registering a car by hand (车辆登记): a warden finds a car in their compound that the
registry does not know, and registers it to a member of the household it belongs to.

The same registry the vehicle import fills (`registry.importing.vehicles`); one car by hand is
an import of one row, so the same roles may do it: the wardens and commanders of the household.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import IMPORTING
from louzhang.areas.models import Area, Level
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.core.paths import AreaPath
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.plates import parse_plate
from louzhang.registry.models import Resident, Vehicle


class VehicleError(ValueError):
    """The car cannot be registered as given; the message says why (`field`: which input)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def may_register_vehicle(user: Any, household_path: str) -> bool:
    """Register a car to a member of the household at this path: its wardens and commanders
    (those who may import the area's vehicles)."""
    return jurisdiction_for(user, roles=IMPORTING).covers(household_path)


def vehicle_register(*, actor: Any, plate: str, vehicle_type: str, owner: Resident) -> Vehicle:
    """Register the car with `plate` (any common spelling) to `owner`, a registered resident;
    its home compound is the owner's. Raises `PermissionDenied` unless the actor is a warden or
    commander of the owner's household, `VehicleError` for a malformed plate or a plate already
    registered (naming its compound only to an actor who may see that car)."""
    household = owner.household
    if not may_register_vehicle(actor, household.path):
        raise PermissionDenied("cars are registered by a warden or commander of the owner's household")
    try:
        parsed = parse_plate(plate)
    except IdentifierError as exc:
        raise VehicleError("plate", str(exc)) from None
    compound = Area.objects.get(path=AreaPath(household.path).ancestor(Level.COMPOUND), level=Level.COMPOUND)
    with transaction.atomic():
        if Vehicle.objects.filter(plate=parsed.plate).exists():
            raise _already_registered(actor, parsed.plate)
        try:
            with transaction.atomic():  # a savepoint: the same plate registered a moment ago
                vehicle = Vehicle.objects.create(
                    plate=parsed.plate, vehicle_type=vehicle_type.strip()[:30], owner=owner,
                    compound=compound,
                )
        except IntegrityError:
            if not Vehicle.objects.filter(plate=parsed.plate).exists():
                raise
            raise _already_registered(actor, parsed.plate) from None
        audit_record(
            actor=actor, action=AuditEvent.Action.CREATE, object_type="registry.vehicle",
            object_id=vehicle.pk, area_path=household.path,
            summary=f"vehicle {vehicle.plate} registered", detail={"owner": owner.pk},
        )
    return vehicle


def _already_registered(actor: Any, plate: str) -> VehicleError:
    """The plate is taken: where, only if the actor may see that car (`access_vehicle`)."""
    path, name = Vehicle.objects.filter(plate=plate).values_list("compound__path", "compound__name").get()
    if jurisdiction_for(actor).navigable(path):
        return VehicleError("plate", _("%(plate)s is registered already, in %(compound)s.")
                            % {"plate": plate, "compound": name})
    return VehicleError("plate", _("%(plate)s is registered already (outside your jurisdiction).")
                        % {"plate": plate})
