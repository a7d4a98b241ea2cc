"""Writes for tips (线索): receiving one (from the public or from an officer), starting its
verification, closing it with an outcome and publishing that outcome to the compound.

Every change happens in one transaction with its follow-up and its history; the status moves by
conditional update, so two officers closing the same tip cannot both win.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import ACTING_ON_FOLLOWUPS
from louzhang.accounts.models import User
from louzhang.areas.models import Area, Level
from louzhang.audit.services import audit_record
from louzhang.core.images import image_discard, image_store
from louzhang.core.public import Rate, rate_wait
from louzhang.core.text import plain_text
from louzhang.followups.models import ACTIVE_STATES, FollowUp
from louzhang.followups.rules import Fired, rules_fire
from louzhang.followups.services import followup_acknowledge, followups_settle
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.phones import normalise_phone
from louzhang.identifiers.plates import parse_plate
from louzhang.notices.models import Notice
from louzhang.notices.services import NoticeError, notice_publish
from louzhang.tips.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Category,
    Source,
    Status,
    Tip,
    TipEvent,
)

#: the rule (and follow-up kind) every tip opens
TIP_RULE = "tip"
#: letters of a tracking code: no 0/O, 1/I/L, so that it survives being read out on the phone
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
CONTENT_MAX = 2000
OUTCOME_MAX = 1000


#: tips sent from one address: a few in ten minutes, a working day's worth in a day (a
#: compound behind one carrier address shares it)
TIP_RATE_PER_ADDRESS = Rate(5, 600)
TIP_RATE_PER_ADDRESS_DAY = Rate(30, 86400)
#: tips about one compound in an hour, from everywhere together: more is a flood, not news
TIP_RATE_PER_COMPOUND = Rate(60, 3600)
#: tracking codes looked up from one address, on the page and through the API (guessing codes
#: is slow work)
TRACK_RATE_PER_ADDRESS = Rate(30, 600)


def tip_posts_wait(address: str, compound: Area) -> int:
    """Count one public tip from `address` about `compound`; the seconds to wait when over a
    limit (0: go ahead). The web form and the API share the counters."""
    return (rate_wait("tip-address", address, TIP_RATE_PER_ADDRESS)
            or rate_wait("tip-address-day", address, TIP_RATE_PER_ADDRESS_DAY)
            or rate_wait("tip-compound", compound.code, TIP_RATE_PER_COMPOUND))


class TipError(Exception):
    """A tip that cannot be taken or changed as asked, with the field it is about ("" for the
    whole) and the reason in words."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def tracking_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def tracking_code_normalise(raw: str) -> str:
    """What a reporter types back ("k7m3-9qx2", "K7M3 9QX2") as the stored code; "" when it
    cannot be one."""
    code = re.sub(r"[\s\-–—_·.]", "", str(raw or "")).upper()[:CODE_LENGTH + 4]
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return ""
    return code


def tracking_code_shown(code: str) -> str:
    """K7M39QX2 → K7M3-9QX2: two groups of four, as printed on the reporter's page."""
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


@dataclass(frozen=True)
class TipIn:
    """A tip as it arrives, before it is checked."""

    area: Area
    content: str
    category: str = Category.OTHER
    place: str = ""
    plate: str = ""
    contact_phone: str = ""
    #: a picture already cleaned by `core.images.image_clean`
    photo: bytes | None = None


@dataclass(frozen=True)
class Received:
    tip: Tip
    fired: list[Fired]


def building_of(compound: Area, building: str) -> Area | None:
    """The building of `compound` the reporter named ("34", "34号楼", "34栋", "34幢"), or None."""
    number = re.sub(r"\s|号楼|号|栋|幢|楼", "", plain_text(building, multiline=False))
    if not number or len(number) > 20:
        return None
    return (Area.objects.filter(parent=compound, level=Level.BUILDING)
            .filter(code=f"{compound.code}-{number}").first()
            or Area.objects.filter(parent=compound, level=Level.BUILDING, name__in=[
                number, f"{number}号楼", f"{number}栋", f"{number}幢"]).first())


def _checked(data: TipIn) -> TipIn:
    """The tip with its text cleaned and its plate and phone normalised; TipError otherwise."""
    if data.area.level not in (Level.COMPOUND, Level.BUILDING):
        raise TipError("compound", _("A tip is about a compound or one of its buildings."))
    content = plain_text(data.content)
    if not content:
        raise TipError("content", _("Say what you saw."))
    if len(content) > CONTENT_MAX:
        raise TipError("content", _("At most %(n)d characters, please.") % {"n": CONTENT_MAX})
    if data.category not in Category.values:
        raise TipError("category", _("Pick one of the categories."))
    place = plain_text(data.place, multiline=False)[:100]
    plate = ""
    if plain_text(data.plate):
        try:
            plate = parse_plate(data.plate).plate
        except IdentifierError as exc:
            raise TipError("plate", str(exc)) from None
    phone = ""
    if plain_text(data.contact_phone):
        try:
            phone = normalise_phone(data.contact_phone)
        except IdentifierError as exc:
            raise TipError("contact_phone", str(exc)) from None
    return TipIn(area=data.area, content=content, category=data.category, place=place,
                 plate=plate, contact_phone=phone, photo=data.photo)


def tip_receive(data: TipIn, *, source: str, entered_by: User | None = None,
                received_at: datetime | None = None) -> Received:
    """Take a tip: store it with a new tracking code and open its follow-up for the warden of
    the building (or the compound's wardens), in one transaction.

    `source` web/api for the public (no `entered_by`); phone/wechat/in_person for a tip an
    officer took, who must hold the place (a warden or commander over it)."""
    data = _checked(data)
    if source not in Source.values:
        raise TipError("source", _("Say how the tip came."))
    if entered_by is not None:
        if not jurisdiction_for(entered_by, roles=ACTING_ON_FOLLOWUPS).navigable(data.area.path):
            raise PermissionDenied("not a warden or commander of the place")
    elif source not in (Source.WEB, Source.API):
        raise TipError("source", _("A tip taken by an officer names the officer."))
    photo = image_store("tips", data.photo) if data.photo else ""
    try:
        return _store(data, photo, source=source, entered_by=entered_by, received_at=received_at)
    except BaseException:
        image_discard(photo)  # nothing half-written: no picture without its tip
        raise


def _store(data: TipIn, photo: str, *, source: str, entered_by: User | None,
           received_at: datetime | None) -> Received:
    for _attempt in range(5):
        code = tracking_code_new()
        try:
            with transaction.atomic():
                tip = Tip.objects.create(
                    tracking_code=code, area=data.area, category=data.category,
                    place=data.place, content=data.content, plate=data.plate,
                    contact_phone=data.contact_phone, photo=photo, source=source,
                    received_at=received_at or timezone.now(), entered_by=entered_by,
                )
                TipEvent.objects.create(tip=tip, kind=TipEvent.Kind.RECEIVED, at=tip.received_at,
                                        actor=entered_by, note=str(Source(source).label))
                fired = rules_fire("tip.received", tip)
                if entered_by is not None:
                    audit_record(actor=entered_by, action="tip.enter", object_type="tip", object_id=tip.pk,
                                 summary=tip.tracking_code, area_path=tip.area.path)
                return Received(tip, fired)
        except IntegrityError:
            if Tip.objects.filter(tracking_code=code).exists():
                continue  # the one-in-a-trillion clash of two codes: draw again
            raise
    raise RuntimeError("no free tracking code after five draws")


def may_verify(user: User, tip: Tip, followup: FollowUp | None = None) -> bool:
    """The owner of the tip's follow-up, or a warden or commander over its place."""
    if followup is not None and followup.owner_id == user.pk:
        return True
    return jurisdiction_for(user, roles=ACTING_ON_FOLLOWUPS).covers(tip.area.path)


def tip_followup(tip: Tip) -> FollowUp | None:
    """The tip's follow-up (the open one, else the latest)."""
    followups = FollowUp.objects.select_related("owner", "area").filter(
        rule=TIP_RULE, subject_type="tip", subject_id=str(tip.pk)).order_by("-opened_at", "-pk")
    return next((f for f in followups if f.state in ACTIVE_STATES), None) or followups.first()


def _check_may_verify(actor: User, tip: Tip) -> FollowUp | None:
    followup = tip_followup(tip)
    if not may_verify(actor, tip, followup):
        raise PermissionDenied("not the owner of the tip, nor a warden or commander of its place")
    return followup


def tip_verify_start(*, tip: Tip, actor: User) -> bool:
    """new → verifying: somebody is on it (the follow-up is acknowledged too). False when it was
    not new any more."""
    followup = _check_may_verify(actor, tip)
    now = timezone.now()
    with transaction.atomic():
        if not Tip.objects.filter(pk=tip.pk, status=Status.NEW).update(status=Status.VERIFYING, updated_at=now):
            return False
        TipEvent.objects.create(tip=tip, kind=TipEvent.Kind.VERIFYING, at=now, actor=actor)
        if followup is not None and followup.state in ACTIVE_STATES and followup.owner_id == actor.pk:
            followup_acknowledge(followup=followup, actor=actor)
    tip.status = Status.VERIFYING
    return True


def tip_close(*, tip: Tip, actor: User, status: str, outcome: str, publish: bool = False,
              notice_title: str = "") -> Notice | None:
    """Close a tip as confirmed, unfounded or referred, with the outcome the reporter will read;
    its follow-up is closed with the same words. With `publish`, the outcome also goes to the
    compound as a notice (its residents' groups and notice page). Returns that notice.

    TipError when the tip was closed already or the outcome is missing."""
    if status not in CLOSED_STATUSES:
        raise TipError("status", _("Say what the check found."))
    text = plain_text(outcome)
    if not text:
        raise TipError("outcome", _("Write the outcome: the reporter and, if you publish it, the residents read it."))
    if len(text) > OUTCOME_MAX:
        raise TipError("outcome", _("At most %(n)d characters, please.") % {"n": OUTCOME_MAX})
    _check_may_verify(actor, tip)
    now = timezone.now()
    label = Status(status).label
    notice = None
    with transaction.atomic():
        if not Tip.objects.filter(pk=tip.pk, status__in=OPEN_STATUSES).update(
                status=status, outcome=text, closed_at=now, closed_by=actor, updated_at=now):
            raise TipError("", _("This tip was closed already."))
        TipEvent.objects.create(tip=tip, kind=TipEvent.Kind.CLOSED, at=now, actor=actor, note=str(label))
        followups_settle(rule=TIP_RULE, subject_type="tip", subject_id=tip.pk, actor=actor,
                         finding=f"{label}：{text}")
        audit_record(actor=actor, action="tip.close", object_type="tip", object_id=tip.pk,
                     summary=f"{tip.tracking_code} {status}", area_path=tip.area.path)
        tip.status, tip.outcome, tip.closed_at, tip.closed_by = status, text, now, actor
        if publish:
            notice = tip_publish(tip=tip, actor=actor, title=notice_title)
    return notice


def tip_publish(*, tip: Tip, actor: User, title: str = "") -> Notice:
    """Publish a closed tip's outcome to its compound (its residents' groups and notice page):
    what residents were worried about and what the check found — never who reported it."""
    if tip.status not in CLOSED_STATUSES:
        raise TipError("", _("Close the tip before publishing its outcome."))
    if tip.notice_id is not None:
        raise TipError("", _("The outcome of this tip was published already."))
    _check_may_verify(actor, tip)
    compound = tip.area if tip.area.level == Level.COMPOUND else tip.area.parent
    assert compound is not None
    title = plain_text(title, multiline=False)[:80] or _("Outcome of a tip: %(what)s") % {
        "what": Category(tip.category).label}
    with transaction.atomic():
        try:
            notice = notice_publish(actor=actor, area=compound, kind=Notice.Kind.TIP_OUTCOME,
                                    title=title, body=tip.outcome, about=f"tip:{tip.pk}")
        except NoticeError as exc:
            raise TipError("publish", str(exc)) from None
        except PermissionDenied:
            raise TipError("publish", _("You may not publish notices for %(compound)s; close the tip "
                                        "without publishing, or ask its warden.") % {"compound": compound.name}) from None
        if not Tip.objects.filter(pk=tip.pk, notice__isnull=True).update(notice=notice):
            raise TipError("", _("The outcome of this tip was published already."))
        TipEvent.objects.create(tip=tip, kind=TipEvent.Kind.PUBLISHED, actor=actor, note=title)
    tip.notice = notice
    return notice

