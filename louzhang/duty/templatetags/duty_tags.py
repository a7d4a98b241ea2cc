"""Template pieces of people on post: whether the top bar shows 在岗, and a rate as a percentage."""

from __future__ import annotations

from django import template

from louzhang.duty.selectors import commands_officers

register = template.Library()

register.filter("commands_officers", commands_officers)


@register.filter
def percent(rate: float) -> str:
    """0.4 as 40%, 0.6667 as 66.7%."""
    value = round(rate * 100, 1)
    return f"{value:g}%"
