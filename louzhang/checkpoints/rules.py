"""Rules on vehicle inspections: a key-region car bound for a compound, and fever at a checkpoint.

They read `VehicleCheckEvent`s: plain values the batch looked up at once, never lazy relations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.accounts.models import Role
from louzhang.checkpoints.models import VehicleInspection
from louzhang.checkpoints.services import VehicleCheckEvent
from louzhang.core.personal import Kind, mask
from louzhang.core.thresholds import fever_threshold
from louzhang.followups.models import Priority
from louzhang.followups.rules import Alert, OpenFollowUp, Outcome, register_kind, rule

register_kind("key_region_vehicle", _("key-region vehicle"))


@rule("key_region_vehicle", on="vehicle_check.created")
def key_region_vehicle(event: VehicleCheckEvent) -> Iterator[Outcome]:
    """A car from a key region let through towards compound X: X's lead warden (else the
    warden of most of its buildings) registers the travellers and starts their home
    observation, and every warden of X is told. A resident's own car is said so; where the car
    said it came from is kept."""
    if event.key_region is None or event.destination is None:
        return
    if event.disposition != VehicleInspection.Disposition.PASS:
        return
    when = timezone.localtime(event.at).strftime("%m-%d %H:%M")
    people = len(event.occupants)
    summary = (f"{event.plate}（{event.key_region}）{when} "
               f"{event.checkpoint_name} → {event.destination.name}，{people}人")
    if event.origin:
        summary += "，" + str(_("from %(origin)s") % {"origin": event.origin})
    vehicle = event.vehicle
    if vehicle is not None:
        since = timezone.localtime(vehicle.registered_at).strftime("%Y-%m-%d")
        home = str(_("resident's car of %(compound)s, registered since %(date)s")
                   % {"compound": vehicle.compound_name, "date": since})
        summary += f"；{home}"
    yield OpenFollowUp(
        kind="key_region_vehicle", subject_type="vehicle", subject_id=event.plate,
        area=event.destination, summary=summary, priority=Priority.URGENT,
        action=str(_("register the travellers and start their home observation")),
        due_in=timedelta(hours=2), detail={"inspection": event.record_id}, owner_from="compound",
    )
    label = str(_("key-region vehicle"))
    yield Alert(area=event.destination, roles=(Role.WARDEN,), within=True, title=f"【{label}】{summary}",
                text=str(_("A car from a key region is bound for the compound: a follow-up is open "
                           "for the compound's warden.")))


@rule("fever_at_checkpoint", on="vehicle_check.created")
def fever_at_checkpoint(event: VehicleCheckEvent) -> Iterator[Outcome]:
    """An occupant at or above the threshold: the warden where they live (a registered
    resident); else the compound they are bound for — its lead warden, every warden of it told,
    as for a key-region car —; else the checkpoint's area."""
    threshold = fever_threshold()
    for n, occupant in enumerate(event.occupants):
        if occupant.temperature < threshold:
            continue
        household = event.household_of(occupant.id_number)
        area = household if household is not None else (event.destination or event.checkpoint_area)
        to_compound = household is None and event.destination is not None
        who = mask(Kind.NAME, occupant.name) if occupant.name else str(_("an occupant"))
        summary = f"{event.checkpoint_name} {event.plate} {who} {occupant.temperature} °C"
        yield OpenFollowUp(
            kind="fever", subject_type="traveller",
            subject_id=occupant.id_number or f"inspection-{event.record_id}-{n}", area=area,
            summary=summary, priority=Priority.URGENT, due_in=timedelta(minutes=30),
            action=str(_("check on them, re-measure, call the health liaison")),
            detail={"inspection": event.record_id}, owner_from="compound" if to_compound else "area",
        )
        label = str(_("fever"))
        if to_compound:
            yield Alert(area=area, roles=(Role.WARDEN,), within=True, title=f"【{label}】{summary}",
                        text=str(_("A follow-up is open to check on them.")))
        yield Alert(area=area, roles=(Role.HEALTH,), title=f"【{label}】{summary}",
                    text=str(_("A follow-up is open to check on them.")))
