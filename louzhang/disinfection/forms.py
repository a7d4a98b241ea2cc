"""What wardens and representatives type about disinfection: registering a representative
(who, their consent, an optional log-in), a unit's plan, and the one-tap round."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from louzhang.access.masking import Presented
from louzhang.accounts.models import User
from louzhang.core.forms import PageForm
from louzhang.disinfection.models import CommonArea
from louzhang.disinfection.selectors import DEFAULT_AGENT, DEFAULT_AREAS
from louzhang.registry.models import Resident


def new_client_id() -> str:
    """The id a rendered form carries: the same form sent twice (a double tap, a resend after a
    dropped connection) stores one round."""
    return uuid.uuid4().hex


class RegisterForm(PageForm):
    """Register a resident of the unit as its representative."""

    resident = forms.TypedChoiceField(
        label=_("Resident"), coerce=int,
        error_messages={"required": _("Choose the resident."), "invalid_choice": _("Choose the resident.")})
    consent = forms.BooleanField(
        label=_("They agreed to be the unit's representative (the time is noted)"),
        error_messages={"required": _("Tick that they agreed to be the unit's representative.")})
    user = forms.TypedChoiceField(
        label=_("Their log-in (optional: with the unit representative's role)"), coerce=int,
        required=False, empty_value=None,
        error_messages={"invalid_choice": _("Choose one of the log-ins offered, or none.")})

    def __init__(self, *args: Any, residents: Sequence[Presented], users: Sequence[User],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.residents = {p.obj.pk: p for p in residents}
        self.users = {u.pk: u for u in users}
        resident = self.fields["resident"]
        assert isinstance(resident, forms.TypedChoiceField)
        resident.choices = [("", "—")] + [
            (pk, f"{p.obj.household.name} {p.values['name']}") for pk, p in self.residents.items()]
        user = self.fields["user"]
        assert isinstance(user, forms.TypedChoiceField)
        user.choices = [("", _("none: the personal link only"))] + [
            (pk, f"{u} ({u.username})") for pk, u in self.users.items()]

    @property
    def person(self) -> Resident:
        resident: Resident = self.residents[self.cleaned_data["resident"]].obj
        return resident

    @property
    def login(self) -> User | None:
        pk = self.cleaned_data.get("user")
        return self.users[pk] if pk else None


class PlanForm(PageForm):
    """Which common areas, how many times a day."""

    areas = forms.MultipleChoiceField(
        label=_("Common areas"), choices=CommonArea.choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one area.")})
    times_per_day = forms.TypedChoiceField(
        label=_("Times a day"), coerce=int, widget=forms.RadioSelect,
        choices=[(1, _("once")), (2, _("twice")), (3, _("three times")), (4, _("four times"))],
        error_messages={"required": _("Once to four times a day."),
                        "invalid_choice": _("Once to four times a day.")})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("areas", DEFAULT_AREAS)
        kwargs["initial"].setdefault("times_per_day", 2)
        super().__init__(*args, **kwargs)


class RoundForm(PageForm):
    """One round: the areas done (the plan's ticked already), the agent (the last one used)."""

    areas = forms.MultipleChoiceField(
        label=_("Common areas"), choices=CommonArea.choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one area.")})
    agent = forms.CharField(
        label=_("Agent"), max_length=50, required=False,
        error_messages={"max_length": _("At most 50 characters.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": DEFAULT_AGENT}))
    client_id = forms.CharField(max_length=64, widget=forms.HiddenInput,
                                error_messages={"required": _("Reload the page and send it again.")})

    def __init__(self, *args: Any, areas: Sequence[str] = (), agent: str = DEFAULT_AGENT,
                 **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("client_id", new_client_id())
        initial.setdefault("areas", list(areas) or DEFAULT_AREAS)
        initial.setdefault("agent", agent)
        super().__init__(*args, **kwargs)


class ConfirmForm(PageForm):
    """One tap, nothing to type (renew a link, end a representative)."""
