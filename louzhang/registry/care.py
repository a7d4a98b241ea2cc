"""Care tags (关怀标签): who in a household needs particular care in an epidemic — elderly
people living alone, the chronically ill, pregnant women, disabled or bedridden people, children
left behind. Wardens visit them first and keep them supplied.

Tags are health information: stored as one personal field (codes, comma-separated) so that the
one masking policy hides them from gate staff and volunteers like any other sensitive datum.
Spreadsheets name them in many ways; `parse_care_tags` maps the common terms and rejects the
rest, naming what it did not understand.
"""

from __future__ import annotations

import re

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from louzhang.identifiers import IdentifierError


class CareTag(models.TextChoices):
    ELDERLY_ALONE = "elderly_alone", gettext_lazy("elderly, living alone")  # 独居老人
    ELDERLY = "elderly", gettext_lazy("very old")  # 高龄老人
    CHRONIC = "chronic", gettext_lazy("chronic illness")  # 慢性病
    PREGNANT = "pregnant", gettext_lazy("pregnant")  # 孕产妇
    DISABLED = "disabled", gettext_lazy("disabled")  # 残疾人
    BEDRIDDEN = "bedridden", gettext_lazy("bedridden")  # 失能卧床
    CHILD_ALONE = "child_alone", gettext_lazy("child left behind")  # 留守儿童


#: the words communities write, mapped to tags
TERMS: dict[str, CareTag] = {
    "独居老人": CareTag.ELDERLY_ALONE, "独居": CareTag.ELDERLY_ALONE, "空巢老人": CareTag.ELDERLY_ALONE,
    "孤寡老人": CareTag.ELDERLY_ALONE, "空巢": CareTag.ELDERLY_ALONE,
    "高龄老人": CareTag.ELDERLY, "高龄": CareTag.ELDERLY, "老人": CareTag.ELDERLY, "老年人": CareTag.ELDERLY,
    "慢性病": CareTag.CHRONIC, "慢病": CareTag.CHRONIC, "基础病": CareTag.CHRONIC,
    "基础疾病": CareTag.CHRONIC, "高血压": CareTag.CHRONIC, "糖尿病": CareTag.CHRONIC,
    "心脏病": CareTag.CHRONIC, "透析": CareTag.CHRONIC,
    "孕妇": CareTag.PREGNANT, "孕产妇": CareTag.PREGNANT, "怀孕": CareTag.PREGNANT,
    "产妇": CareTag.PREGNANT,
    "残疾": CareTag.DISABLED, "残疾人": CareTag.DISABLED, "残障": CareTag.DISABLED,
    "失能": CareTag.BEDRIDDEN, "卧床": CareTag.BEDRIDDEN, "失能卧床": CareTag.BEDRIDDEN,
    "行动不便": CareTag.BEDRIDDEN, "瘫痪": CareTag.BEDRIDDEN,
    "留守儿童": CareTag.CHILD_ALONE,
}
TERMS.update({tag.value: tag for tag in CareTag})
_SEPARATORS = re.compile(r"[、,，;；/／\s]+")
_NONE = {"无", "没有", "否", "-", "—", "/"}


def parse_care_tags(raw: object) -> str:
    """"独居老人、高血压" → "chronic,elderly_alone"; "" for none. IdentifierError names an
    unknown term."""
    text = str(raw or "").strip()
    if not text or text in _NONE:
        return ""
    tags = set()
    unknown = []
    for term in _SEPARATORS.split(text):
        if not term:
            continue
        tag = TERMS.get(term) or TERMS.get(term.lower())
        if tag is None:
            unknown.append(term)
        else:
            tags.add(tag.value)
    if unknown:
        known = "、".join(sorted({k for k in TERMS if not k.isascii()}))
        raise IdentifierError(_("care tag %(terms)s not understood; known: %(known)s")
                              % {"terms": "、".join(unknown), "known": known})
    return ",".join(sorted(tags))


def care_text(value: str) -> str:
    """Stored codes as words (独居老人、慢性病) for pages and exports; a masked value stays masked."""
    if not value or "*" in value:
        return value
    return "、".join(care_labels(value))


def care_labels(codes: str) -> list[str]:
    """Display labels of stored codes, in the order of the choices."""
    present = set(codes.split(",")) if codes else set()
    return [str(tag.label) for tag in CareTag if tag.value in present]
