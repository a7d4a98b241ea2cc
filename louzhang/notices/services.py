"""Writes for notices (通知、宣传、辟谣) and wardens' cards (亮身份).

`notice_publish` is what every writer calls — the notices page, and the tips app publishing a
tip's outcome inside its own transaction. A notice is published at once, delivered to the
residents' group chats of its area through the outbox in the same transaction, unless it is for a
district or a city: then it waits for a second commander (`notice_decide`). Transitions are
conditional updates: two commanders approving at once, one wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.access.holders import holders_over
from louzhang.access.roles import (
    may_approve_notice,
    may_publish_notice,
    may_withdraw_notice,
    notice_needs_approval,
    publishes_anywhere,
)
from louzhang.accounts.models import Role, User
from louzhang.areas.models import Area, Level
from louzhang.audit.services import audit_record
from louzhang.core.images import image_clean, image_discard, image_store
from louzhang.core.text import plain_text
from louzhang.notices.models import Notice, WardenCard
from louzhang.notifications.models import Delivery
from louzhang.notifications.services import Recipient, announce, broadcast

TITLE_MAX = 80
BODY_MAX = 2000
NOTE_MAX = 200


class NoticeError(Exception):
    """A notice that cannot be written or changed as asked; the message says why, in words."""


def notice_about(notice: Notice) -> str:
    """How deliveries and inbox lines name a notice."""
    return f"notice:{notice.pk}"


def notice_public_path(notice: Notice, place: Area | None = None) -> str:
    """The public page of a notice as residents of `place` (a compound or a building: by
    default the notice's own area) open it; "" when there is no such place."""
    place = place or notice.area
    if place.level not in (Level.COMPOUND, Level.BUILDING):
        return ""
    return reverse("public-notice", args=[place.code, notice.pk])


def _check_text(kind: str, title: str, body: str) -> tuple[str, str]:
    if kind not in Notice.Kind.values:
        raise NoticeError(_("Choose what kind of notice this is."))
    title, body = plain_text(title, multiline=False), plain_text(body)
    if not title:
        raise NoticeError(_("Write a title."))
    if len(title) > TITLE_MAX:
        raise NoticeError(_("A title has at most %(n)s characters.") % {"n": TITLE_MAX})
    if not body:
        raise NoticeError(_("Write the text of the notice."))
    if len(body) > BODY_MAX:
        raise NoticeError(_("A notice has at most %(n)s characters.") % {"n": BODY_MAX})
    return title, body


def notice_publish(*, actor: User, area: Area, kind: str, title: str, body: str,
                   about: str = "") -> Notice:
    """Write a notice for the residents of `area` and publish it — delivered to the residents'
    group chats in `area` in this transaction's outbox — or, for a district or a city, keep it
    waiting for a second commander's approval (the commanders over the area are told in their
    inbox).

    A warden writes for the compounds and buildings they hold (in whole or in part), a
    commander for any area of their jurisdiction; anything else is `PermissionDenied`. A text
    that cannot be published is `NoticeError`. Audited."""
    title, body = _check_text(kind, title, body)
    if len(about) > 64:
        raise NoticeError("about: at most 64 characters")
    if not may_publish_notice(actor, area.path, area.level):
        raise PermissionDenied("notices are written for an area of one's own jurisdiction")
    waits = notice_needs_approval(area.level)
    now = timezone.now()
    with transaction.atomic():
        notice = Notice.objects.create(
            area=area, kind=kind, title=title, body=body, about=about, author=actor,
            created_at=now, state=Notice.State.PENDING if waits else Notice.State.PUBLISHED,
            published_at=None if waits else now,
        )
        audit_record(actor=actor, action="create", object_type="notices.notice", object_id=notice.pk,
                     area_path=area.path, summary=f"notice {title} for {area.name}"
                     + (" (awaiting approval)" if waits else ""))
        if waits:
            _ask_approval(notice)
        else:
            _deliver(notice)
    return notice


def _deliver(notice: Notice) -> list[Delivery]:
    return broadcast(area=notice.area, title=notice.title, text=notice.body,
                     link=notice_public_path(notice), about=notice_about(notice))


def _ask_approval(notice: Notice) -> None:
    """Tell the other commanders over the notice's area, in their inbox only."""
    others = {h.user.pk: h.user for h in holders_over(notice.area, [Role.COMMANDER])
              if h.user.pk != notice.author_id}
    if others:
        announce(area=notice.area, recipients=[Recipient(u, Role.COMMANDER) for u in others.values()],
                 title=_("A notice awaits your approval: %(title)s") % {"title": notice.title},
                 text=notice.body, link=reverse("notice", args=[notice.pk]),
                 about=notice_about(notice), channels=[])


def notice_decide(*, notice: Notice, actor: User, approve: bool, note: str = "") -> bool:
    """A second commander approves (published and delivered at once) or refuses a notice
    waiting for approval. Its author cannot decide (`NoticeError`); a user who does not command
    its area is `PermissionDenied`. Returns False when somebody decided (or it was withdrawn)
    first: nothing changed. Audited."""
    if notice.author_id == actor.pk:
        raise NoticeError(_("You wrote this notice: another commander must approve it."))
    if not may_approve_notice(actor, notice.area.path, notice.author_id):
        raise PermissionDenied("notices are approved by a commander of their area")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise NoticeError(_("A note has at most %(n)s characters.") % {"n": NOTE_MAX})
    now = timezone.now()
    state = Notice.State.PUBLISHED if approve else Notice.State.REJECTED
    with transaction.atomic():
        changed = Notice.objects.filter(pk=notice.pk, state=Notice.State.PENDING).update(
            state=state, decided_by=actor, decided_at=now, decision_note=note,
            published_at=now if approve else None,
        )
        if not changed:
            return False
        notice.refresh_from_db()
        audit_record(actor=actor, action="change", object_type="notices.notice", object_id=notice.pk,
                     area_path=notice.area.path,
                     summary=f"notice {notice.title} {'approved' if approve else 'refused'}")
        if approve:
            _deliver(notice)
        announce(area=notice.area, recipients=[Recipient(notice.author, Role.COMMANDER)],
                 title=(_("Your notice was approved and published: %(title)s") if approve
                        else _("Your notice was not approved: %(title)s")) % {"title": notice.title},
                 text=note, link=reverse("notice", args=[notice.pk]), about=notice_about(notice),
                 channels=[])
    return True


def notice_withdraw(*, notice: Notice, actor: User) -> bool:
    """Take a published (or waiting) notice off the public pages: its author, or a commander
    over its area (`PermissionDenied` otherwise). Messages already sent to group chats stay
    there. Returns False when it was not published or waiting (any more). Audited."""
    if not may_withdraw_notice(actor, notice.area.path, notice.area.level, notice.author_id):
        raise PermissionDenied("a notice is withdrawn by its author or a commander of its area")
    with transaction.atomic():
        changed = Notice.objects.filter(
            pk=notice.pk, state__in=[Notice.State.PUBLISHED, Notice.State.PENDING],
        ).update(state=Notice.State.WITHDRAWN, withdrawn_by=actor, withdrawn_at=timezone.now())
        if changed:
            audit_record(actor=actor, action="change", object_type="notices.notice",
                         object_id=notice.pk, area_path=notice.area.path,
                         summary=f"notice {notice.title} withdrawn")
    if changed:
        notice.refresh_from_db()
    return bool(changed)


# --- wardens' cards ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardText:
    """What an officer types on their card; a blank field is not shown."""

    display_name: str
    title: str = ""
    badge_number: str = ""
    unit_name: str = ""
    duty_phone: str = ""
    motto: str = ""


CARD_FIELDS = ("display_name", "title", "badge_number", "unit_name", "duty_phone", "motto")


def card_field(name: str) -> models.CharField[str, str]:
    """A text field of the card, with its label and length."""
    field = WardenCard._meta.get_field(name)
    assert isinstance(field, models.CharField)
    return field


#: the longer side of a card's photo, in pixels
PHOTO_SIDE = 600


def card_save(*, actor: User, text: CardText, published: bool, photo: IO[bytes] | None = None,
              remove_photo: bool = False) -> WardenCard:
    """Write the officer's own card (亮身份): the text as typed, shown to residents only while
    `published`. A new photo is checked and written again as a plain JPEG without metadata
    (`core.images.ImageError` for anything else); the old one is deleted once this commits.
    Only wardens and commanders have a card (`PermissionDenied`). Audited."""
    if not publishes_anywhere(actor):
        raise PermissionDenied("cards are for wardens and commanders")
    if not text.display_name.strip():
        raise NoticeError(_("Write the name residents know you by."))
    for name in CARD_FIELDS:
        field = card_field(name)
        if len(getattr(text, name).strip()) > (field.max_length or 0):
            raise NoticeError(_("%(field)s: at most %(n)s characters.")
                              % {"field": field.verbose_name, "n": field.max_length})
    cleaned = image_clean(photo, max_side=PHOTO_SIDE) if photo is not None else None
    written = image_store("cards", cleaned) if cleaned is not None else ""
    try:
        with transaction.atomic():
            card = WardenCard.objects.select_for_update().filter(user=actor).first()
            if card is None:
                card = WardenCard(user=actor)
            old_photo = card.photo
            for name in CARD_FIELDS:
                setattr(card, name, getattr(text, name).strip())
            card.published = published
            if written:
                card.photo = written
            elif remove_photo:
                card.photo = ""
            if card.pk is None:
                card.save()
            else:
                card.save(update_fields=[*CARD_FIELDS, "published", "photo", "updated_at"])
            audit_record(actor=actor, action="change", object_type="notices.wardencard",
                         object_id=card.pk,
                         summary=f"card of {card.display_name} {'shown' if published else 'hidden'}")
            if old_photo and old_photo != card.photo:
                transaction.on_commit(lambda: image_discard(old_photo))
    except BaseException:
        if written:  # nothing refers to it
            image_discard(written)
        raise
    return card
