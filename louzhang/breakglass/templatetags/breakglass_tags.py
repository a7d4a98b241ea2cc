"""`sees_look_ups`: whether the navigation links the look-ups page (a commander, who reads the
look-ups into their jurisdiction, or an officer with a look-up open now)."""

from __future__ import annotations

from typing import Any

from django import template

from louzhang.access.roles import commands_anywhere
from louzhang.breakglass.selectors import my_open_look_ups

register = template.Library()


@register.filter
def sees_look_ups(user: Any) -> bool:
    return commands_anywhere(user) or my_open_look_ups(user).exists()
