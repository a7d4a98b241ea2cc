"""Rules on vehicle inspections: a key-region car bound for a compound, and fever at a checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.accounts.models import Role
from louzhang.checkpoints.models import VehicleInspection
from louzhang.core.personal import Kind, mask
from louzhang.core.thresholds import fever_threshold
from louzhang.followups.models import Priority
from louzhang.followups.rules import Alert, OpenFollowUp, Outcome, register_kind, rule
from louzhang.registry.models import Resident

register_kind("key_region_vehicle", _("key-region vehicle"))


@rule("key_region_vehicle", on="vehicle_check.created")
def key_region_vehicle(inspection: VehicleInspection) -> Iterator[Outcome]:
    """A car from a key region let through towards compound X: X's warden registers the
    travellers and starts their home observation. A resident's own car is said so."""
    if inspection.key_region is None or inspection.destination is None:
        return
    if inspection.disposition != VehicleInspection.Disposition.PASS:
        return
    when = timezone.localtime(inspection.at).strftime("%m-%d %H:%M")
    people = inspection.occupants.count()
    summary = (f"{inspection.plate}（{inspection.key_region.name}）{when} "
               f"{inspection.checkpoint.name} → {inspection.destination.name}，{people}人")
    vehicle = inspection.vehicle
    if vehicle is not None:
        since = timezone.localtime(vehicle.registered_at).strftime("%Y-%m-%d")
        home = str(_("resident's car of %(compound)s, registered since %(date)s")
                   % {"compound": vehicle.compound.name, "date": since})
        summary += f"；{home}"
    yield OpenFollowUp(
        kind="key_region_vehicle", subject_type="vehicle", subject_id=inspection.plate,
        area=inspection.destination, summary=summary, priority=Priority.URGENT,
        action=str(_("register the travellers and start their home observation")),
        due_in=timedelta(hours=2), detail={"inspection": inspection.pk},
    )


@rule("fever_at_checkpoint", on="vehicle_check.created")
def fever_at_checkpoint(inspection: VehicleInspection) -> Iterator[Outcome]:
    """An occupant at or above the threshold: the warden where they live (a registered
    resident), else of the compound they are bound for, else the checkpoint's area."""
    threshold = fever_threshold()
    for n, occupant in enumerate(inspection.occupants.all()):
        if occupant.temperature < threshold:
            continue
        resident = (Resident.objects.select_related("household").filter(id_number=occupant.id_number).first()
                    if occupant.id_number else None)
        area = resident.household if resident else (inspection.destination or inspection.checkpoint.area)
        who = mask(Kind.NAME, occupant.name) if occupant.name else str(_("an occupant"))
        summary = f"{inspection.checkpoint.name} {inspection.plate} {who} {occupant.temperature} °C"
        yield OpenFollowUp(
            kind="fever", subject_type="traveller",
            subject_id=occupant.id_number or f"inspection-{inspection.pk}-{n}", area=area,
            summary=summary, priority=Priority.URGENT, due_in=timedelta(minutes=30),
            action=str(_("check on them, re-measure, call the health liaison")),
            detail={"inspection": inspection.pk},
        )
        label = str(_("fever"))
        yield Alert(area=area, roles=(Role.HEALTH,), title=f"【{label}】{summary}",
                    text=str(_("The warden has been asked to check.")))
