"""The tip forms: the resident's (public, spam-resistant without any outside service), the
officer's for a tip taken by phone or WeChat, and the verdict that closes a tip."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area
from louzhang.core.forms import PageForm
from louzhang.core.images import MAX_UPLOAD_BYTES
from louzhang.tips.models import CLOSED_STATUSES, Category, Source, Status
from louzhang.tips.services import CONTENT_MAX, OUTCOME_MAX

#: a person needs a few seconds to read the form and type what they saw; a script does not
MIN_SECONDS_TO_FILL = 3
#: a form older than this was left open for a day: it is taken, but its timer is not trusted
FORM_MAX_AGE = 24 * 3600
_SALT = "louzhang.tips.form"

#: each category in the resident's words, for the form's "not sure which to pick?"
CATEGORY_HELP = [
    (Category.VEHICLE.label, _("e.g. a car with Hubei plates parked under a building")),
    (Category.RETURNEE.label, _("somebody back from a key region who has not registered")),
    (Category.FEVER.label, _("somebody with fever or a cough who is not staying at home")),
    (Category.GATHERING.label, _("a dinner, mahjong, a crowd")),
    (Category.RUMOUR.label, _("something going round a group chat that worries you")),
    (Category.OTHER.label, _("anything else the warden should know")),
]


def form_stamp() -> str:
    """A signed note of when the form was served (checked when it comes back)."""
    return signing.dumps(int(time.time()), salt=_SALT)


class PublicTipForm(PageForm):
    category = forms.ChoiceField(label=_("What is it about?"), choices=Category.choices,
                                 widget=forms.RadioSelect, initial=Category.VEHICLE)
    building = forms.CharField(label=_("Building"), max_length=20, required=False,
                               help_text=_("e.g. 34"))
    place = forms.CharField(label=_("Where exactly"), max_length=100, required=False,
                            help_text=_("e.g. the parking space under the building"))
    content = forms.CharField(label=_("What did you see?"), max_length=CONTENT_MAX,
                              widget=forms.Textarea(attrs={"rows": 5}))
    plate = forms.CharField(label=_("Plate number, if it is about a car"), max_length=20, required=False,
                            help_text=_("e.g. 鄂A5K2B8"))
    photo = forms.FileField(label=_("Photo (optional)"), required=False,
                            help_text=_("Its location and camera details are removed before it is kept."),
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))
    contact_phone = forms.CharField(
        label=_("Your phone (optional)"), max_length=20, required=False,
        help_text=_("Only the warden who checks your tip sees it, to call you back. Leave it empty to stay anonymous."))
    #: a field people never see (hidden by the page's style) and robots fill in
    website = forms.CharField(required=False, label=_("Leave this empty"))
    stamp = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["content"].widget.attrs["maxlength"] = CONTENT_MAX
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})
        if not self.is_bound:
            self.initial["stamp"] = form_stamp()

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if photo and photo.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The picture is larger than %(mb)s MB.")
                                        % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)})
        return photo

    def looks_automated(self) -> bool:
        """Filled in by a robot: the hidden field has text, the stamp is forged, or the form came
        back faster than a person types."""
        if self.data.get("website"):
            return True
        try:
            served = signing.loads(self.data.get("stamp", ""), salt=_SALT, max_age=FORM_MAX_AGE)
        except signing.SignatureExpired:
            return False
        except signing.BadSignature:
            return True
        return time.time() - int(served) < MIN_SECONDS_TO_FILL


class TrackForm(PageForm):
    code = forms.CharField(label=_("Tracking code"), max_length=20,
                           widget=forms.TextInput(attrs={"autocapitalize": "characters",
                                                         "autocomplete": "off", "spellcheck": "false"}))


class OfficerTipForm(PageForm):
    """A tip that came to the officer by phone, WeChat or in person."""

    area = forms.ChoiceField(label=_("Compound or building"))
    source = forms.ChoiceField(label=_("Came"), choices=[
        (s.value, s.label) for s in (Source.PHONE, Source.WECHAT, Source.IN_PERSON)])
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    place = forms.CharField(label=_("Where exactly"), max_length=100, required=False)
    content = forms.CharField(label=_("What was reported"), max_length=CONTENT_MAX,
                              widget=forms.Textarea(attrs={"rows": 4}))
    plate = forms.CharField(label=_("Plate"), max_length=20, required=False)
    contact_phone = forms.CharField(label=_("Reporter's phone"), max_length=20, required=False)
    photo = forms.FileField(label=_("Photo or screenshot"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))

    def __init__(self, *args: Any, places: list[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.places = {a.code: a for a in places}
        area = self.fields["area"]
        assert isinstance(area, forms.ChoiceField)
        area.choices = [(a.code, a.name if a.parent is None or a.level == 5
                                        else f"{a.parent.name} {a.name}") for a in places]

    def clean_photo(self) -> Any:
        return PublicTipForm.clean_photo(self)  # type: ignore[arg-type]


class CloseForm(PageForm):
    status = forms.ChoiceField(label=_("What did the check find?"), widget=forms.RadioSelect,
                               choices=[(s, Status(s).label) for s in CLOSED_STATUSES])
    outcome = forms.CharField(
        label=_("Outcome"), max_length=OUTCOME_MAX, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The reporter reads this on their tracking page; if you publish it, so do the residents. "
                    "No names, phone numbers or door numbers."))
    publish = forms.BooleanField(label=_("Publish the outcome to the compound's residents"), required=False)
    notice_title = forms.CharField(label=_("Title of the notice"), max_length=80, required=False)
