"""A record refused on the gate or checkpoint page is told in the page's words, beside the field
it is about: never a schema's field name (`pass_code`, `visitor.name`) or a validator's English
("String should have at most …", "Value error, …"). Nothing is recorded; what was typed stays."""

from __future__ import annotations

import re
from typing import Any

import pytest

from louzhang.checkpoints.models import VehicleInspection
from louzhang.gates.models import GateRecord
from tests.conftest import BAOLI, web_client

EAST = f"{BAOLI}-E"
TECHNICAL = re.compile(r"pass_code|visitor_|visitor\.|client_id|vehicle_type|occupants|\bloc\b|String should|"
                       r"Input should|Value error|U\+00|control character \(|literal|\bat:", re.I)


def _english(user: Any) -> Any:
    client = web_client(user)
    client.cookies["django_language"] = "en"  # chosen with the language switch
    return client


def _errors_by_field(html: str) -> dict[str, str]:
    """Each field's error list (the one its input is described by)."""
    return {field: re.sub(r"<[^>]+>", " ", errors).strip()
            for field, errors in re.findall(r'<ul class="errorlist" id="(\w+)_error">(.*?)</ul>', html, re.S)}


def _text(html: str) -> str:
    """What the page says (not its markup, scripts or styles)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "field", "said"), [
    ({"visitor_name": "\u200b\u200b"}, "visitor_name", "Nothing visible was typed here."),
    ({"visitor_name": "张三", "visitor_reason": "送\x01货"}, "visitor_reason", "invisible control character"),
    ({"visitor_name": "张三", "visiting": "7号楼\x02"}, "visiting", "invisible control character"),
])
def test_a_refused_visitor_is_told_in_words_beside_the_field(gate: Any, typed: dict[str, str], field: str,
                                                             said: str) -> None:
    before = GateRecord.objects.count()
    response = _english(gate).post(f"/gates/{EAST}/", {"pass_code": "", "temperature": "36.5",
                                                       "direction": "in", **typed})
    html = response.content.decode()
    assert response.status_code == 200 and "Not recorded" in html
    assert said in _errors_by_field(html)[field]
    assert not TECHNICAL.search(_text(html)), TECHNICAL.search(_text(html))
    assert GateRecord.objects.count() == before
    assert 'value="36.5"' in html  # what was typed stays


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "field"), [
    ({"origin": "武汉\x01"}, "origin"),
    ({"vehicle_type": "\u200b\x02"}, "vehicle_type"),
])
def test_a_refused_inspection_is_told_in_words_beside_the_field(checkpoint_officer: Any, typed: dict[str, str],
                                                                field: str) -> None:
    before = VehicleInspection.objects.count()
    response = _english(checkpoint_officer).post("/checkpoints/DLT-CP1/", {
        "plate": "蒙B12345", "disposition": "pass", "temperatures": "36.5", **typed})
    html = response.content.decode()
    assert response.status_code == 200 and "Not recorded" in html
    assert "invisible control character" in _errors_by_field(html)[field]
    assert not TECHNICAL.search(_text(html)), TECHNICAL.search(_text(html))
    assert VehicleInspection.objects.count() == before
    assert "蒙B12345" in html


@pytest.mark.django_db
def test_a_good_record_from_the_page_is_still_recorded(gate: Any) -> None:
    before = GateRecord.objects.count()
    response = _english(gate).post(f"/gates/{EAST}/", {"visitor_name": "张三", "visitor_reason": "送货",
                                                       "temperature": "36.5", "direction": "in"})
    assert response.status_code == 302 and GateRecord.objects.count() == before + 1
