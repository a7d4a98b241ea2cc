"""Template pieces of the figures: whether the top bar shows 看板 (read from the grants the page
has read already, no query of its own)."""

from __future__ import annotations

from django import template

from louzhang.stats.selectors import may_see_figures

register = template.Library()

register.filter("sees_figures", may_see_figures)
