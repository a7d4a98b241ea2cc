"""The look-up form: what was typed, the reason in the officer's own words, and the
acknowledgement that the commanders of the area will be told."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LookUpForm(forms.Form):
    query = forms.CharField(label=_("ID number or plate"), max_length=50)
    reason = forms.CharField(
        label=_("Why you need this record"), max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("In your own words, at least a sentence: the commanders of the area will read it."))
    reported = forms.BooleanField(
        label=_("I understand that this look-up is recorded and reported to the commanders of the area "
                "I look into."))
