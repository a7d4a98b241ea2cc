"""Home observation in a real browser on a phone: the warden puts a returnee under observation
from the household's page, and the resident, without logging in, sends a temperature through
their own link."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import PHONE, Served, log_in

pytestmark = [pytest.mark.browser]

HOUSEHOLD = "150202001001001-34-2-0601"  # 保利百合 34号楼二单元6楼西户


def test_a_resident_sends_a_temperature_through_their_own_link(server: Served, browser: Any,
                                                                phone: Any) -> None:
    log_in(phone, server, "warden")
    phone.goto(f"{server.url}/areas/{HOUSEHOLD}/")
    phone.locator("[data-household-observation] summary").click()
    name = phone.locator("#resident option").first.inner_text()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    phone.fill("#reason", "武汉返回")
    phone.fill("#last_exposure", (today - timedelta(days=2)).isoformat())
    phone.fill("#exposure_region", "武汉市")
    phone.get_by_role("button", name="开始居家观察").click()
    phone.wait_for_url(f"{server.url}/observations/*/")
    assert name in phone.locator("h1").inner_text()
    assert phone.locator("[data-personal-link] svg").count() == 1  # the QR code to show
    path = phone.locator("#personal-link").get_attribute("data-link-path")
    assert path and path.startswith("/o/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # the resident's own phone: no log-in, nothing but the day and the form
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        resident = context.new_page()
        resident.goto(server.url + path)
        body = resident.locator("body").inner_text()
        assert "居家医学观察" in body and "第1天/共13天" in body
        assert name not in body and "保利百合" not in body and "6楼西户" not in body
        resident.fill("#temperature", "36,7")  # a comma from a Chinese keypad
        resident.get_by_label("乏力").check()
        resident.get_by_role("button", name="提交打卡").click()
        assert "已记录" in resident.locator(".messages").inner_text()
        assert resident.locator('[data-slots] [data-state="done"]').count() == 1
        assert resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()

    # the warden sees it among the check-ins, sent through the link
    phone.reload()
    row = phone.locator("table.check-ins tbody tr").first.inner_text()
    assert "36.7" in row and "乏力" in row
