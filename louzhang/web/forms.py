"""Forms of the pages that belong to no single field domain: naming a compound's lead warden
on the compound's page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from louzhang.accounts.models import User
from louzhang.core.forms import PageForm


class LeadWardenForm(PageForm):
    """One of the compound's wardens (`access.leads.lead_warden_choices`), or nobody."""

    lead = forms.ModelChoiceField(
        queryset=User.objects.none(), label=_("Lead warden"), required=False,
        empty_label=_("none named: the warden of most of its buildings"),
        error_messages={"invalid_choice": _("Choose one of the compound's wardens.")},
    )

    def __init__(self, *args: Any, wardens: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["lead"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=[w.pk for w in wardens]).order_by("display_name", "pk")
