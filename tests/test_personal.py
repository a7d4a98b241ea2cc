"""One masking function for every page, export and API response."""

from __future__ import annotations

import pytest

from louzhang.core.personal import Kind, Sensitivity, mask, personal_fields
from louzhang.registry.models import Resident


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        (Kind.ID_NUMBER, "150202198001010018", "1502**********0018"),
        (Kind.ID_NUMBER, "15020219800101001X", "1502**********001X"),
        (Kind.PHONE, "13812345678", "138****5678"),
        (Kind.PHONE, "+8613812345678", "+86138****5678"),
        (Kind.PHONE, "0472-5123456", "0472-***3456"),
        (Kind.ADDRESS, "34号楼二单元6楼西户", "34号楼***"),
        (Kind.HEALTH, "发热 38.4", "***"),
        (Kind.ID_NUMBER, "", ""),
        (Kind.NAME, "邹敏", "邹*"),
        (Kind.NAME, "欧阳娜娜", "欧***"),
    ],
)
def test_mask(kind, value, masked):
    assert mask(kind, value) == masked


def test_personal_fields_are_tagged_on_the_model():
    fields = personal_fields(Resident)
    assert fields["id_number"].sensitivity == Sensitivity.SENSITIVE
    assert fields["phone"].sensitivity == Sensitivity.PERSONAL
    assert fields["name"].personal_kind == Kind.NAME
    assert "gender" not in fields and "birth_date" not in fields
