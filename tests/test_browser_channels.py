"""The channels page on a phone, in a real browser: the role boxes sit side by side, each beside
its own words; a channel added there is listed with the roles' names (not their codes) under a
"名称" (not "姓名") header, and the key regions' list says "名称" too."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PHONE, Served, log_in

pytestmark = [pytest.mark.browser]


def test_the_channel_form_and_list_read_as_people_speak(server: Served, browser: Any) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, server, "commander")
        page.goto(server.url + "/channels/")
        boxes = page.locator("fieldset.choices label.choice")
        assert boxes.count() == 7  # six roles and the residents' group
        rects = [boxes.nth(i).bounding_box() for i in range(boxes.count())]
        assert all(r is not None for r in rects)
        tops = [round(r["y"]) for r in rects if r]
        assert len(set(tops)) < len(tops)  # at least two on one line: not one under another
        for i in range(boxes.count()):
            box = boxes.nth(i).locator("input[type=checkbox]").bounding_box()
            words = boxes.nth(i).bounding_box()
            assert box and words and box["width"] < 30 and box["x"] - words["x"] < 5  # the box first, small
        page.fill("#name", "东河区指挥与楼长群")  # a name of its own: the shared demo has other channels
        page.select_option("#kind", "wecom")
        page.fill("#url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K")
        page.fill("#area", "150202")
        page.check("#roles_0")  # commander
        page.check("#roles_1")  # warden
        page.get_by_role("button", name="添加").click()
        page.wait_for_load_state("networkidle")
        table = page.locator("section.card table").first
        assert table.locator("thead th").first.inner_text().strip() == "名称"
        row = table.locator("tr", has_text="东河区指挥与楼长群")
        assert row.count() == 1
        roles = row.locator("td[data-roles]")
        assert roles.get_attribute("data-roles") == "commander,warden"
        assert roles.inner_text().strip() == "指挥员、民警楼长"
        # a long address breaks within its cell: the list never widens the phone's page
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.goto(server.url + "/key-regions/")
        assert page.locator("table thead th").first.inner_text().strip() == "名称"
    finally:
        context.close()
