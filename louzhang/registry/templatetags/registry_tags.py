from __future__ import annotations

from django import template

from louzhang.registry.care import care_text

register = template.Library()
register.filter("care_labels", care_text)
