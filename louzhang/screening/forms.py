"""What a warden types at a door (the visit form), and the commander's form opening a round.

The visit form is one page of several Django forms: the visit (how, when, a note), a block per
registered member of the household — "nothing to report" unless the warden taps "report
something" — and blocks for people found living there who are not in the registry. It becomes
one `screening.services.VisitIn`, exactly what a device would post, and the service's errors
come back onto the block and field they name (`["people", 2, "id_number"]`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from functools import cache
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from louzhang.access.masking import Presented
from louzhang.areas.models import Area
from louzhang.checkpoints.key_regions import key_regions_for_area
from louzhang.core.forms import PageForm
from louzhang.identifiers import IdentifierError
from louzhang.identifiers.divisions import division, full_name
from louzhang.identifiers.id_numbers import parse_id_number
from louzhang.identifiers.phones import normalise_phone
from louzhang.observation.models import Symptom
from louzhang.registry.care import CareTag
from louzhang.screening.models import Mode
from louzhang.screening.services import MAX_PEOPLE, Candidates, VisitIn

NOTHING, REPORT = "nothing", "report"
#: a candidate answer meaning "none of these registered people"
NONE_OF_THESE = "none"

#: where the service's errors about the visit belong (`PageForm.add_record_errors`)
VISIT_FIELDS: dict[tuple[Any, ...], str] = {
    ("at",): "at", ("mode",): "mode", ("note",): "note", ("client_id",): "client_id",
}
#: where its errors about one person belong (the location after `["people", n]`)
FINDING_FIELDS: dict[tuple[Any, ...], str] = {
    ("key_region_stay",): "key_region", ("key_region_stay", "region"): "key_region",
    ("key_region_stay", "from"): "stay_from", ("key_region_stay", "to"): "stay_to",
    ("returned_at",): "returned_on", ("travel",): "travel", ("symptoms",): "symptoms",
    ("contact_with_case",): "contact_with_case", ("care",): "care", ("advice",): "advice",
    ("note",): "note",
}
IDENTITY_FIELDS: dict[tuple[Any, ...], str] = {
    ("id_number",): "id_number", ("name",): "name", ("phone",): "phone", ("resident",): "who",
}


def new_client_id() -> str:
    """The id the rendered form carries: sent twice (a double tap, a resend after a dropped
    signal, a draft restored) the visit is stored once."""
    return f"web-{uuid.uuid4().hex}"


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


_DATE_ERRORS = {"invalid": _("A date, like 2020-01-20.")}


class PersonForm(PageForm):
    """What was found about one person: "nothing to report", or where they were, when they
    came back and how, symptoms, contact with a case, care needs, advice given."""

    state = forms.ChoiceField(
        label=_("Finding"), required=False, initial=NOTHING, widget=forms.RadioSelect,
        choices=[(NOTHING, _("Nothing to report")), (REPORT, _("Report something"))],
    )
    key_region = forms.CharField(
        label=_("Stayed in or passed through (key region or city)"), max_length=100, required=False,
        widget=forms.TextInput(attrs={"list": "regions", "autocomplete": "off", "placeholder": _("Wuhan")}),
    )
    stay_from = forms.DateField(label=_("there from"), required=False, widget=_date_input(),
                                error_messages=_DATE_ERRORS)
    stay_to = forms.DateField(label=_("until"), required=False, widget=_date_input(),
                              error_messages=_DATE_ERRORS)
    returned_on = forms.DateField(label=_("Came back on"), required=False, widget=_date_input(),
                                  error_messages=_DATE_ERRORS)
    travel = forms.CharField(
        label=_("How (train number, flight or car plate)"), max_length=50, required=False,
        widget=forms.TextInput(attrs={"placeholder": "K1276 / CA1234 / 鄂A12345", "autocapitalize": "characters"}),
    )
    symptoms = forms.MultipleChoiceField(label=_("Symptoms"), required=False, choices=Symptom.choices,
                                         widget=forms.CheckboxSelectMultiple)
    contact_with_case = forms.BooleanField(label=_("Contact with a confirmed or suspected case"),
                                           required=False)
    care = forms.MultipleChoiceField(label=_("Needs care"), required=False, choices=CareTag.choices,
                                     widget=forms.CheckboxSelectMultiple)
    advice = forms.CharField(label=_("Advice given"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    #: the fields of the "report something" section
    FINDINGS = ("key_region", "stay_from", "stay_to", "returned_on", "travel", "symptoms",
                "contact_with_case", "care", "advice", "note")
    #: where the service's errors about this person belong
    record_fields: Mapping[tuple[Any, ...], str] = FINDING_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["returned_on"].widget.attrs["max"] = timezone.localdate().isoformat()
        #: registered people who may be this person, masked for the reader (the confirm step)
        self.candidates: list[Presented] = []

    @property
    def reporting(self) -> bool:
        """The "report something" section is open (on the page, and in what is sent)."""
        return bool(self["state"].value() == REPORT)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("state") != REPORT:
            return cleaned
        region = cleaned.get("key_region")
        if not region and (cleaned.get("stay_from") or cleaned.get("stay_to")) and not self.has_error("key_region"):
            self.add_error("key_region", _("Name the place (a key region or a city)."))
        start, end = cleaned.get("stay_from"), cleaned.get("stay_to")
        if start and end and end < start:
            self.add_error("stay_to", _("The stay ends before it starts."))
        returned = cleaned.get("returned_on")
        if returned and returned > timezone.localdate():
            self.add_error("returned_on", _("This date is in the future."))
        return cleaned

    def finding(self) -> dict[str, Any]:
        """What was found, as `PersonFoundIn` takes it (empty for "nothing to report")."""
        data = self.cleaned_data
        if data.get("state") != REPORT:
            return {}
        region = data["key_region"].strip()
        return {
            "key_region_stay": {"region": region, "from": data["stay_from"], "to": data["stay_to"]}
            if region else None,
            "returned_at": data["returned_on"], "travel": data["travel"].strip(),
            "symptoms": list(data["symptoms"]), "contact_with_case": bool(data["contact_with_case"]),
            "care": list(data["care"]), "advice": data["advice"].strip(), "note": data["note"].strip(),
        }

    def person_in(self) -> dict[str, Any]:
        """The person as `PersonFoundIn` takes them."""
        raise NotImplementedError

    @property
    def findings_errors(self) -> bool:
        return any(self.has_error(name) for name in self.FINDINGS)


class MemberForm(PersonForm):
    """A registered member of the household, listed on the page (`person`: masked for the
    reader as the household page shows them)."""

    resident = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, person: Presented, **kwargs: Any) -> None:
        self.person = person
        tags = [t for t in (person.values.get("care_tags") or "").split(",") if t in CareTag.values]
        kwargs.setdefault("initial", {}).update({"resident": person.obj.pk, "state": NOTHING, "care": tags})
        super().__init__(*args, **kwargs)

    @property
    def listed(self) -> bool:
        """The page that was sent listed this member (one registered since is not reported on
        unseen: the warden sees them the next time the page opens)."""
        return bool(self.cleaned_data.get("resident") == self.person.obj.pk)

    def person_in(self) -> dict[str, Any]:
        return {"resident": self.cleaned_data["resident"], **self.finding()}


class AddedForm(PersonForm):
    """A person found living in the household who is not among its registered members: matched
    to the registry by ID number, else by name and phone (confirmed by the warden), or added."""

    id_number = forms.CharField(
        label=_("ID number"), max_length=30, required=False,
        widget=forms.TextInput(attrs={"class": "mono", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("Name"), max_length=50, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))
    #: the registered person the warden confirmed this is (a resident id), or "none"
    who = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    record_fields = {**FINDING_FIELDS, **IDENTITY_FIELDS}

    def clean_id_number(self) -> str:
        """Checked here as the service checks it, so that every mistake shows at once."""
        number = str(self.cleaned_data["id_number"]).strip().upper()
        if number:
            try:
                parse_id_number(number)
            except IdentifierError as exc:
                raise forms.ValidationError(str(exc), code="id_number") from None
        return number

    def clean_phone(self) -> str:
        phone = str(self.cleaned_data["phone"]).strip()
        if phone:
            try:
                normalise_phone(phone)
            except IdentifierError as exc:
                raise forms.ValidationError(str(exc), code="phone") from None
        return phone

    def clean_who(self) -> str:
        who = str(self.cleaned_data["who"]).strip()
        if who and who != NONE_OF_THESE and not who.isdigit():
            raise forms.ValidationError(_("Choose one of the registered people, or none of them."))
        return who

    @property
    def used(self) -> bool:
        """Anything typed about this person (an empty block is not a person)."""
        if not hasattr(self, "cleaned_data"):
            return False
        data = self.cleaned_data
        return bool(data.get("id_number") or data.get("name") or data.get("phone") or self.finding_typed())

    def finding_typed(self) -> bool:
        data = self.cleaned_data
        return data.get("state") == REPORT and any(data.get(name) for name in self.FINDINGS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.used or any(self.has_error(n) for n in ("id_number", "name", "phone")):
            return cleaned
        if not cleaned.get("id_number") and not cleaned.get("name"):
            self.add_error("name", _("Give the name, and the ID number to add them to the registry."))
        elif cleaned.get("who") == NONE_OF_THESE and not cleaned.get("id_number"):
            self.add_error("id_number", _("None of them: give the ID number to add this person."))
        return cleaned

    def person_in(self) -> dict[str, Any]:
        data = self.cleaned_data
        person: dict[str, Any] = {"id_number": data["id_number"], "name": data["name"].strip(),
                                  "phone": data["phone"], **self.finding()}
        if data["who"].isdigit():
            person["resident"] = int(data["who"])
        return person


def _at_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class VisitForm(PageForm):
    """The visit itself: how the household was reached, when, a note."""

    client_id = forms.CharField(max_length=64, widget=forms.HiddenInput)
    mode = forms.ChoiceField(label=_("How"), choices=Mode.choices, widget=forms.RadioSelect,
                             error_messages={"required": _("Tap how you reached them.")})
    at = forms.DateTimeField(label=_("When"), widget=_at_input(),
                             error_messages={"required": _("Give the time of the visit."),
                                             "invalid": _("A time, like 2020-01-25 10:30.")})
    note = forms.CharField(label=_("Note on the visit"), max_length=300, required=False)
    #: how many blocks for people not in the registry the page shows
    extra = forms.IntegerField(min_value=0, max_value=MAX_PEOPLE, required=False, widget=forms.HiddenInput)

    def clean_at(self) -> Any:
        at = self.cleaned_data["at"]
        if at > timezone.now() + timedelta(minutes=10):
            raise forms.ValidationError(_("This time is in the future."), code="future")
        return at


class VisitPage:
    """The visit form of one household, all its blocks together.

    `members`: the household's registered members as the reader may see them (`present`).
    A bound page with `more` in its data (the "add a person" button without JavaScript) shows
    one more block for a person not in the registry, and is not stored."""

    def __init__(self, data: QueryDict | None, *, household: Area, members: Sequence[Presented]) -> None:
        self.household = household
        self.bound = data is not None
        now = timezone.localtime().replace(second=0, microsecond=0)
        self.visit = VisitForm(data, initial={"client_id": new_client_id(), "mode": Mode.IN_PERSON,
                                              "at": now, "extra": 1})
        self.members = [MemberForm(data, prefix=f"r{p.obj.pk}", person=p) for p in members]
        self.more = data is not None and "more" in data
        extra = self._extra(data) + (1 if self.more else 0)
        self.added = [AddedForm(data, prefix=f"n{i}") for i in range(min(extra, MAX_PEOPLE))]
        #: the empty block the page's script copies for one more person (`n__i__` renumbered)
        self.template = AddedForm(prefix="n__i__")
        #: the blocks in the order of `VisitIn.people` (set by `visit_in`)
        self.people: list[PersonForm] = []
        #: the service's candidates were shown: the warden confirms who these people are
        self.confirming = False

    @staticmethod
    def _extra(data: QueryDict | None) -> int:
        try:
            return max(int(data.get("extra") or 1 if data is not None else 1), 1)
        except ValueError:
            return 1

    @property
    def forms(self) -> list[PageForm]:
        return [self.visit, *self.members, *self.added]

    @property
    def errors(self) -> bool:
        return any(f.errors for f in self.forms)

    def is_valid(self) -> bool:
        if self.more:
            return False
        if self.visit.is_valid() and self.visit.cleaned_data["mode"] == Mode.NOBODY_HOME:
            return True  # nobody to report on: what the people's blocks hold is not sent
        valid = [f.is_valid() for f in self.forms]  # every form, so that every error shows
        return all(valid)

    def visit_in(self) -> VisitIn | None:
        """The visit as `visit_record` takes it; None with the problems put on the page."""
        data = self.visit.cleaned_data
        self.people = []
        if data["mode"] != Mode.NOBODY_HOME:
            self.people = [*(m for m in self.members if m.listed), *(f for f in self.added if f.used)]
        record = {
            "client_id": data["client_id"], "household": self.household.code, "at": data["at"],
            "mode": data["mode"], "note": data["note"].strip(),
            "people": [block.person_in() for block in self.people],
        }
        try:
            return VisitIn.model_validate(record)
        except ValidationError as exc:
            self.add_errors([{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False)])
            return None

    def add_errors(self, errors: Iterable[Mapping[str, Any]]) -> None:
        """The service's errors on the block and field they name."""
        for error in errors:
            loc = list(error["loc"])
            if len(loc) > 1 and loc[0] == "people" and isinstance(loc[1], int) and loc[1] < len(self.people):
                block = self.people[loc[1]]
                fields = {k: v for k, v in block.record_fields.items() if v in block.fields}
                block.add_record_errors([{"loc": loc[2:], "msg": error["msg"]}], fields)
            else:
                self.visit.add_record_errors([error], VISIT_FIELDS)

    def add_candidates(self, candidates: Sequence[Candidates], shown: Mapping[int, Presented]) -> None:
        """Registered people who may be a person the warden added (same name and phone): the
        page asks which one they are, or none (then the ID number adds them)."""
        self.confirming = True
        for each in candidates:
            if each.index < len(self.people):
                self.people[each.index].candidates = [shown[r.pk] for r in each.residents if r.pk in shown]


@cache
def _divisions_under(prefix: str) -> tuple[str, ...]:
    """Full names of the current divisions a key region's code prefix names: a province and its
    prefecture-level cities (42), a city and its districts (4201)."""
    codes = [prefix.ljust(6, "0")]
    if len(prefix) == 2:
        codes += [f"{prefix}{n:02d}00" for n in range(1, 100)]
    elif len(prefix) == 4:
        codes += [f"{prefix}{n:02d}" for n in range(1, 100)]
    names = []
    for code in codes:
        entry = division(code)
        if entry is not None and entry.current and entry.name not in ("市辖区", "县", "省直辖县级行政区划"):
            names.append(full_name(code))
    return tuple(names)


@cache
def _provinces() -> tuple[str, ...]:
    return tuple(entry.name for code in range(11, 83)
                 if (entry := division(f"{code}0000")) is not None and entry.current)


def region_names(household: Area | None = None, on: date | None = None) -> list[str]:
    """What the key-region input suggests at a household: the key regions in force there (the
    operator's and its city's: 武汉市), the divisions inside them (湖北省孝感市), then every
    province; anything else may be typed."""
    on = on or timezone.localdate()
    regions = sorted(sorted(key_regions_for_area(household, on), key=lambda r: r.name),
                     key=lambda r: r.risk, reverse=True)  # as `order_by("-risk", "name")`
    names = [r.name for r in regions]
    for region in regions:
        for prefix in region.division_prefixes:
            names.extend(_divisions_under(str(prefix)))
    names.extend(_provinces())
    return list(dict.fromkeys(names))


class RoundForm(PageForm):
    """A commander opens a screening round over one of their areas."""

    name = forms.CharField(label=_("Name"), max_length=100,
                           widget=forms.TextInput(attrs={"placeholder": _("Full screening from 25 January")}),
                           error_messages={"required": _("Give the round a name.")})
    area = forms.TypedChoiceField(label=_("Area"), coerce=int,
                                  error_messages={"required": _("Choose the area."),
                                                  "invalid_choice": _("Choose the area.")})
    starts_on = forms.DateField(label=_("From"), widget=_date_input(),
                                error_messages={"required": _("Give the first day."), **_DATE_ERRORS})
    ends_on = forms.DateField(label=_("Until (optional)"), required=False, widget=_date_input(),
                              error_messages=_DATE_ERRORS)

    def __init__(self, *args: Any, areas: Sequence[Area], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("starts_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.areas = {a.pk: a for a in areas}
        field = self.fields["area"]
        assert isinstance(field, forms.TypedChoiceField)
        top = min((a.level for a in areas), default=0)
        field.choices = [(a.pk, "\u3000" * (a.level - top) + a.name) for a in areas]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("starts_on"), cleaned.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", _("The round ends before it starts."))
        return cleaned

    @property
    def chosen_area(self) -> Area:
        return self.areas[self.cleaned_data["area"]]
