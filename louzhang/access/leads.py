"""Naming a compound's lead warden (牵头楼长): the warden who answers for what concerns the
whole compound — a visitor's fever at its gate, a key-region car bound for it
(`access.holders.compound_owner`). A commander of the compound (the station) names one of its
wardens, or clears the name; every change is audited."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from louzhang.access.holders import compound_wardens
from louzhang.access.roles import may_command
from louzhang.accounts.models import LeadWarden, User
from louzhang.areas.models import Area, Level
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record


class LeadWardenError(Exception):
    """A lead warden that cannot be named as asked; the message says why."""


def lead_warden_choices(compound: Area) -> list[User]:
    """Who may be named: the active wardens of the compound or of an area inside it (its
    buildings, units, households), by name."""
    users = {h.user.pk: h.user for h in compound_wardens(compound)}
    return sorted(users.values(), key=lambda u: (u.display_name or u.username, u.pk))


def lead_warden_of(compound: Area) -> LeadWarden | None:
    """The lead warden named for `compound`, if any (whether or not still a warden there)."""
    return LeadWarden.objects.select_related("user").filter(compound=compound).first()


def lead_warden_name(*, actor: User, compound: Area, user: User | None) -> LeadWarden | None:
    """Name `user` lead warden of `compound` (None: clear the name); audited.

    `actor` must command the compound (`PermissionDenied` otherwise); `user` must be one of
    `lead_warden_choices(compound)` (`LeadWardenError` otherwise). Naming the one already
    named changes nothing."""
    if not may_command(actor, compound.path):
        raise PermissionDenied("a lead warden is named by a commander of the compound")
    if compound.level != Level.COMPOUND:
        raise LeadWardenError(_("A lead warden is named for a compound."))
    if user is not None and user.pk not in {u.pk for u in lead_warden_choices(compound)}:
        raise LeadWardenError(_("%(user)s is not a warden of %(compound)s.")
                             % {"user": user, "compound": compound.name})
    with transaction.atomic():
        current = LeadWarden.objects.select_for_update().filter(compound=compound).first()
        if user is None:
            if current is not None:
                named_id = current.pk  # delete() forgets it
                current.delete()
                audit_record(actor=actor, action=AuditEvent.Action.DELETE,
                             object_type="accounts.leadwarden", object_id=named_id,
                             area_path=compound.path,
                             summary=f"lead warden of {compound.name}: none (was {current.user})")
            return None
        if current is not None and current.user_id == user.pk:
            return current
        if current is None:
            try:
                with transaction.atomic():  # a savepoint: another commander may name one at once
                    current = LeadWarden.objects.create(compound=compound, user=user, named_by=actor)
            except IntegrityError:
                raise LeadWardenError(_("Another lead warden of %(compound)s was named meanwhile: "
                                        "look again.") % {"compound": compound.name}) from None
            action = AuditEvent.Action.CREATE
        else:
            current.user, current.named_by = user, actor
            current.save(update_fields=["user", "named_by", "named_at"])
            action = AuditEvent.Action.CHANGE
        audit_record(actor=actor, action=action, object_type="accounts.leadwarden",
                     object_id=current.pk, area_path=compound.path,
                     summary=f"lead warden of {compound.name}: {user}",
                     detail={"user": user.username})
    return current
