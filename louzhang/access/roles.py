"""Which roles may do what: every role set and capability of the product, named once.

A capability is a question about a user (and where it applies, an area): pages ask it to show
or hide a button, services ask it again before they act, so the web, the command line and the
API cannot disagree. Roles themselves are `accounts.models.Role`.
"""

from __future__ import annotations

from typing import Any

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.accounts.models import Role
from louzhang.areas.models import Level
from louzhang.core.paths import AreaPath

#: see follow-ups of their area (gate staff, checkpoint officers and unit representatives record
#: events; they do not follow them up)
FOLLOWING_UP = (Role.WARDEN, Role.COMMANDER, Role.HEALTH)
#: act on a follow-up of their area besides its owner (acknowledge, close)
ACTING_ON_FOLLOWUPS = (Role.WARDEN, Role.COMMANDER)
#: assign tasks, reassign follow-ups, manage channels, read the audit log, see deliveries
COMMANDING = (Role.COMMANDER,)
#: post gate records for the compounds they hold (a page or a device token)
RECORDING_AT_GATES = (Role.GATE, Role.WARDEN, Role.COMMANDER)
#: see a gate's page and today's records (a building's warden: the gates of its compound)
VIEWING_GATES = (Role.WARDEN, Role.COMMANDER, Role.HEALTH, Role.GATE)
#: post vehicle inspections at the checkpoints of their area
RECORDING_AT_CHECKPOINTS = (Role.CHECKPOINT, Role.COMMANDER)
#: print the pass cards (出入证) of a building
PRINTING_PASSES = (Role.WARDEN, Role.COMMANDER)
#: import residents and vehicles of their area
IMPORTING = (Role.WARDEN, Role.COMMANDER)
#: visit households and record what they found (走访摸排)
VISITING = (Role.WARDEN, Role.COMMANDER)
#: open home observations, record check-ins, record a transfer to hospital or a move
OBSERVING = (Role.WARDEN, Role.HEALTH, Role.COMMANDER)
#: confirm a proposed observation, extend it, release it on its last day (卫生专干)
RELEASING = (Role.HEALTH, Role.COMMANDER)


def roles_of(user: Any) -> set[str]:
    """The roles the user holds anywhere."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cache: set[str] | None = user.__dict__.get("_lz_roles")
    if cache is None:
        cache = set(user.grants.in_force().values_list("role", flat=True))
        user.__dict__["_lz_roles"] = cache
    return cache


def commands_anywhere(user: Any) -> bool:
    """A commander somewhere (or a superuser): the commander's views of lists and boards."""
    return not jurisdiction_for(user, roles=COMMANDING).is_empty


def may_command(user: Any, path: str) -> bool:
    """Assign tasks and reassign follow-ups in the area at `path`."""
    return jurisdiction_for(user, roles=COMMANDING).covers(path)


def may_act_on_followups(user: Any, path: str) -> bool:
    return jurisdiction_for(user, roles=ACTING_ON_FOLLOWUPS).covers(path)


def may_import(user: Any) -> bool:
    """Upload residents' or vehicles' spreadsheets (each row is still checked against the
    uploader's jurisdiction)."""
    return not jurisdiction_for(user, roles=IMPORTING).is_empty


def may_print_passes(user: Any, path: str) -> bool:
    return jurisdiction_for(user, roles=PRINTING_PASSES).covers(path)


def may_keep_key_regions(user: Any) -> bool:
    """Key regions apply to every checkpoint, so they are kept by commanders of a whole city
    (the command centre), not by a station or a branch."""
    if getattr(user, "is_superuser", False):
        return True
    return any(AreaPath(path).depth <= Level.CITY
               for path in jurisdiction_for(user, roles=COMMANDING).paths)


def may_browse_audit(user: Any) -> bool:
    return commands_anywhere(user)


def may_manage_channels(user: Any, path: str | None = None) -> bool:
    """Bind, pause and resume channels (of the area at `path`), send failed deliveries again."""
    if path is None:
        return commands_anywhere(user)
    return may_command(user, path)


def may_visit(user: Any, path: str) -> bool:
    return jurisdiction_for(user, roles=VISITING).covers(path)


def may_observe(user: Any, path: str) -> bool:
    return jurisdiction_for(user, roles=OBSERVING).covers(path)


def may_release(user: Any, path: str) -> bool:
    return jurisdiction_for(user, roles=RELEASING).covers(path)


def may_record_at_gate(user: Any, compound_path: str) -> bool:
    return jurisdiction_for(user, roles=RECORDING_AT_GATES).covers(compound_path)


# --- notices and wardens' cards (通知、宣传、辟谣；亮身份) ---------------------------------------

#: publish notices to residents, show a card, print a stairwell poster: a warden for the
#: compounds and buildings they hold, a commander for any area of their jurisdiction
PUBLISHING = (Role.WARDEN, Role.COMMANDER)
#: a notice for an area this high (a district or banner, a city) waits for a second commander
NOTICE_APPROVAL_FROM_LEVEL = Level.DISTRICT


def publishes_anywhere(user: Any) -> bool:
    """An officer who writes notices somewhere (the notices pages, the card)."""
    return not jurisdiction_for(user, roles=PUBLISHING).is_empty


def _holds_at_compound(user: Any, path: str, level: int) -> bool:
    """A warden of this compound or building: granted it, an area above it, or a part of it
    (the warden of buildings 7 and 31–36 is a warden of 保利百合)."""
    if level not in (Level.COMPOUND, Level.BUILDING):
        return False
    wardens = jurisdiction_for(user, roles=(Role.WARDEN,))
    return wardens.covers(path) or wardens.leads_to(path)


def may_publish_notice(user: Any, path: str, level: int) -> bool:
    """Write a notice for the area at `path` (of `level`): a warden for a compound or a building
    they hold in whole or in part, a commander for any area of their jurisdiction."""
    return may_command(user, path) or _holds_at_compound(user, path, level)


def notice_needs_approval(level: int) -> bool:
    """A notice for a district or a city is published once a second commander approves it."""
    return level <= NOTICE_APPROVAL_FROM_LEVEL


def may_approve_notice(user: Any, path: str, author_id: int | None) -> bool:
    """Approve or refuse a notice waiting for a second commander: a commander over its area
    who did not write it."""
    return getattr(user, "pk", None) != author_id and may_command(user, path)


def may_withdraw_notice(user: Any, path: str, level: int, author_id: int | None) -> bool:
    """Withdraw a notice: its author while they may still write for its area, or a commander
    over the area."""
    if may_command(user, path):
        return True
    return getattr(user, "pk", None) == author_id and may_publish_notice(user, path, level)


def may_print_poster(user: Any, path: str, level: int) -> bool:
    """The stairwell poster (楼长公示) of a compound or a building: its wardens and the
    commanders over it."""
    if level not in (Level.COMPOUND, Level.BUILDING):
        return False
    return may_command(user, path) or _holds_at_compound(user, path, level)
