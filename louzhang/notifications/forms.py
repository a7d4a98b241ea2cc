"""What commanders type about channels, and the inbox's "mark all read"."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from louzhang.access.roles import may_manage_channels
from louzhang.accounts.models import Role
from louzhang.areas.models import Area
from louzhang.core.forms import PageForm
from louzhang.notifications.models import RESIDENTS, Channel, ChannelKind
from louzhang.notifications.policy import Refused, check_address

#: kinds that can send markdown
MARKDOWN_KINDS = (ChannelKind.WECOM, ChannelKind.DINGTALK)
#: kinds whose platform signs every request with the robot's secret
SIGNED_KINDS = (ChannelKind.DINGTALK, ChannelKind.FEISHU)


class ChannelForm(PageForm):
    """A new channel. The area must be one the user commands; `notifications.services.channel_add`
    checks it again, with everything else that could never work."""

    name = forms.CharField(label=capfirst(_("name")), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=ChannelKind.choices)
    url = forms.CharField(label=_("Webhook address"), max_length=2000,
                          widget=forms.TextInput(attrs={"class": "mono"}))
    secret = forms.CharField(label=_("Signing secret (DingTalk, Feishu, webhook, SMS)"), required=False,
                             widget=forms.PasswordInput(attrs={"autocomplete": "off"}))
    area = forms.CharField(label=_("Area code"), max_length=64, widget=forms.TextInput(attrs={"class": "mono"}))
    roles = forms.MultipleChoiceField(
        label=_("Serves roles (none ticked: all staff roles)"), required=False,
        choices=[*Role.choices, (RESIDENTS, _("residents (residents' group)"))],
        widget=forms.CheckboxSelectMultiple,
    )
    markdown = forms.BooleanField(
        label=_("Markdown messages (WeCom, DingTalk; WeCom cannot @ people in markdown)"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if Channel.objects.filter(name=name).exists():
            raise forms.ValidationError(_("A channel named %(name)s exists already."), params={"name": name})
        return name

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"].strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise forms.ValidationError(_("The address begins with https:// or http://."))
        return url

    def clean_area(self) -> Area:
        code: str = self.cleaned_data["area"]
        area = Area.objects.filter(code=code).first()
        if area is None or not may_manage_channels(self.user, area.path):
            raise forms.ValidationError(_("Unknown area code, or not in your jurisdiction: %(code)s"),
                                        params={"code": code})
        return area

    def clean_roles(self) -> list[str]:
        roles: list[str] = self.cleaned_data["roles"]
        if RESIDENTS in roles and len(roles) > 1:
            raise forms.ValidationError(_("A residents' group serves residents only: staff work never goes there."))
        return roles

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") in SIGNED_KINDS and not cleaned.get("secret"):
            self.add_error("secret", _("A DingTalk or Feishu robot needs its signing secret."))
        if cleaned.get("kind") and cleaned.get("url"):
            try:  # where this kind may send (`notifications.policy`)
                check_address(cleaned["kind"], cleaned["url"])
            except Refused as exc:
                self.add_error("url", str(exc))
        return cleaned

    @property
    def options(self) -> dict[str, Any]:
        """The kind's options (`notifications.transports`): markdown where the kind has it."""
        if self.cleaned_data["markdown"] and self.cleaned_data["kind"] in MARKDOWN_KINDS:
            return {"format": "markdown"}
        return {}


class ChannelSwitchForm(forms.Form):
    """The state asked for, not a flip: two commanders switching a leaked robot off at the same
    moment both leave it off."""

    active = forms.TypedChoiceField(choices=[("on", "on"), ("off", "off")], coerce=lambda v: v == "on")


class InboxReadForm(forms.Form):
    """Mark read what the inbox showed: up to the newest line on the page when it was loaded,
    so a line that arrived since stays unread."""

    up_to = forms.IntegerField(required=False, min_value=0)
