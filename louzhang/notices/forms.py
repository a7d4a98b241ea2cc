"""What officers type: a notice, a decision on one, their card."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from louzhang.access.roles import commands_anywhere, may_publish_notice
from louzhang.areas.models import Area, Level
from louzhang.core.forms import PageForm
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.phones import normalise_phone
from louzhang.notices.models import Notice
from louzhang.notices.selectors import area_by_code, commanded_areas, publishable_areas
from louzhang.notices.services import BODY_MAX, NOTE_MAX, TITLE_MAX, CardText, card_field

#: what an officer writes by hand (the outcome of a tip is published from the tip)
WRITTEN_KINDS = [(k.value, k.label) for k in (Notice.Kind.PUBLICITY, Notice.Kind.POLICY, Notice.Kind.RUMOUR)]
NOT_YOURS = _("No such area in your jurisdiction: a warden writes for their compounds and buildings, a commander for their area.")


class NoticeForm(PageForm):
    """A notice: where (a warden picks among their compounds and buildings; a commander types an
    area code or picks one), what kind, a title and the text."""

    area = forms.CharField(label=_("For the residents of"), max_length=64,
                           error_messages={"required": _("Choose the area.")})
    kind = forms.ChoiceField(label=_("Kind"), choices=WRITTEN_KINDS, widget=forms.RadioSelect,
                             initial=Notice.Kind.PUBLICITY,
                             error_messages={"required": _("Choose what kind of notice this is."),
                                             "invalid_choice": _("Choose what kind of notice this is.")})
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX,
                            error_messages={"required": _("Write a title.")})
    body = forms.CharField(label=_("Text"), max_length=BODY_MAX,
                           widget=forms.Textarea(attrs={"rows": 8}),
                           help_text=_("Shown to anyone on the public page and sent to the residents' group chats: no names, phones or ID numbers of residents."),
                           error_messages={"required": _("Write the text of the notice.")})

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.area_obj: Area | None = None
        field = self.fields["area"]
        self.suggestions: list[Area] = []
        if commands_anywhere(user):
            self.suggestions = commanded_areas(user)
            field.help_text = _("An area code, e.g. 150202001001001 for a compound, 150202 for a district; a district or city notice waits for a second commander.")
            field.widget.attrs.update({"list": "area-suggestions", "autocomplete": "off", "inputmode": "text"})
        else:
            choices = [(a.code, _label(a)) for a in publishable_areas(user)]
            field.widget = forms.Select(choices=[("", "—"), *choices])

    def clean_area(self) -> str:
        code = str(self.cleaned_data["area"]).strip()
        area = area_by_code(code)
        if area is None or not may_publish_notice(self.user, area.path, area.level):
            raise forms.ValidationError(NOT_YOURS)
        self.area_obj = area
        return code


def _label(area: Area) -> str:
    return str(area.name) if area.level != Level.BUILDING or area.parent is None else f"{area.parent.name} {area.name}"


class DecideForm(PageForm):
    """A second commander's approval or refusal (the button pressed says which)."""

    note = forms.CharField(label=_("Note (optional)"), max_length=NOTE_MAX, required=False)
    decision = forms.ChoiceField(choices=[("approve", _("Approve and publish")), ("refuse", _("Refuse"))],
                                 error_messages={"required": _("Approve or refuse."),
                                                 "invalid_choice": _("Approve or refuse.")})

    @property
    def approve(self) -> bool:
        return bool(self.cleaned_data.get("decision") == "approve")


#: the largest photo file accepted for a card (it is shrunk to 600 pixels anyway)
CARD_PHOTO_MAX_BYTES = 8 * 1024 * 1024


def _card_field(name: str, **kwargs: Any) -> forms.CharField:
    model_field = card_field(name)
    return forms.CharField(label=capfirst(model_field.verbose_name), max_length=model_field.max_length,
                           required=False, **kwargs)


class CardForm(PageForm):
    """The officer's card (亮身份): every field shown to residents only if filled in, and only
    once "shown to residents" is ticked."""

    display_name = _card_field("display_name", help_text=_("As residents know you: 郝志东, or 郝警官."))
    title = _card_field("title", help_text=_("e.g. 社区民警, 辅警"))
    badge_number = _card_field("badge_number")
    unit_name = _card_field("unit_name")
    duty_phone = _card_field("duty_phone", help_text=_("A number residents may call: a duty phone or the station's line."))
    motto = _card_field("motto", help_text=_("A word to residents: when and how to reach you."))
    photo = forms.FileField(label=_("Photo"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
                            help_text=_("A portrait; kept as a plain JPEG without location or camera data."))
    remove_photo = forms.BooleanField(label=_("Remove the photo"), required=False)
    published = forms.BooleanField(label=_("Shown to residents"), required=False,
                                   help_text=_("Until this is ticked, nobody but you sees the card."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["display_name"].required = True
        self.fields["display_name"].error_messages["required"] = _("Write the name residents know you by.")
        self.fields["photo"].widget = forms.FileInput(attrs={"accept": "image/jpeg,image/png"})

    def clean_duty_phone(self) -> str:
        raw = str(self.cleaned_data.get("duty_phone") or "").strip()
        if not raw:
            return ""
        try:
            return normalise_phone(raw)
        except IdentifierError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_photo(self) -> UploadedFile | None:
        photo = self.cleaned_data.get("photo")
        if photo and photo.size is not None and photo.size > CARD_PHOTO_MAX_BYTES:
            raise forms.ValidationError(_("The photo is larger than %(mb)s MB.")
                                        % {"mb": CARD_PHOTO_MAX_BYTES // (1024 * 1024)})
        return photo or None

    def text(self) -> CardText:
        data = self.cleaned_data
        return CardText(display_name=data["display_name"], title=data["title"],
                        badge_number=data["badge_number"], unit_name=data["unit_name"],
                        duty_phone=data["duty_phone"], motto=data["motto"])
