"""Who sees personal data in full, and the one way pages, exports and the API present it.

Each role needs a different amount: a warden calls and registers the people of their own
buildings, so sees names, phones and ID numbers there (as does the health liaison of the area);
a commander follows escalations up by phone, so sees names and phones but not ID numbers; gate
staff, checkpoint officers and unit representatives (resident volunteers) see everything masked.

Templates receive `Presented.values`; `Presented.obj` is there for non-personal fields only
(gender, residency …) and must never be used to print a personal field.
Full views are written to the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.accounts.models import Role
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.core.personal import Sensitivity, mask, personal_fields

FULL_VIEW: dict[str, frozenset[str]] = {
    Role.WARDEN: frozenset({Sensitivity.PERSONAL, Sensitivity.SENSITIVE}),
    Role.HEALTH: frozenset({Sensitivity.PERSONAL, Sensitivity.SENSITIVE}),
    Role.COMMANDER: frozenset({Sensitivity.PERSONAL}),
    Role.CHECKPOINT: frozenset(),
    Role.GATE: frozenset(),
    Role.UNIT_REP: frozenset(),
}


def sees_in_full(user: Any, sensitivity: str, path: str) -> bool:
    """The user holds a role that needs this kind of data, over the area at `path`."""
    if getattr(user, "is_superuser", False):
        return True
    roles = [role for role, allowed in FULL_VIEW.items() if sensitivity in allowed]
    return jurisdiction_for(user, roles=roles).covers(path)


@dataclass
class Presented:
    """One record as a reader may see it: personal fields masked or in full."""

    obj: Any
    values: dict[str, str]
    full: frozenset[str]

    def __getitem__(self, name: str) -> str:
        return self.values[name]


def present(
    user: Any,
    objects: Sequence[models.Model],
    *,
    path_of: Callable[[Any], str],
    purpose: str = AuditEvent.Action.VIEW,
    audit_under: str | None = None,
    record: bool = True,
) -> list[Presented]:
    """Personal fields of `objects`, each masked unless the user needs it in full.

    Writes one audit event per area for the records shown in full (page views and exports are
    audited as what they are, `purpose`), or one event filed under `audit_under` (an export of a
    whole compound is one event, not one per household). `record=False` leaves the auditing to
    the caller (an export in chunks writes one event at its end).
    """
    if not objects:
        return []
    fields = personal_fields(type(objects[0]))
    result = []
    full_by_area: dict[str, list[str]] = {}
    for obj in objects:
        path = path_of(obj)
        values = {}
        full = set()
        for name, field in fields.items():
            raw = getattr(obj, name) or ""
            if raw and sees_in_full(user, field.sensitivity, path):
                values[name] = raw
                full.add(name)
            else:
                values[name] = mask(field.personal_kind, raw)
        if full:
            full_by_area.setdefault(audit_under or path, []).append(str(obj.pk))
        result.append(Presented(obj=obj, values=values, full=frozenset(full)))
    if not record:
        return result
    model_name = type(objects[0])._meta.label_lower
    for path, ids in full_by_area.items():
        audit_record(
            actor=user, action=purpose, object_type=model_name,
            object_id=ids[0] if len(ids) == 1 else "", area_path=path,
            summary=f"{len(ids)} {model_name}", detail={"ids": ids},
        )
    return result


