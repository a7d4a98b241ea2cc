"""The commanders' dashboard in a real browser (Debian chromium via Playwright), on a desktop and
on a phone, against `louzhang serve` and `louzhang worker` on a database of their own. The worker
rolls the figures up every 5 seconds here (LOUZHANG_STATS_REFRESH_SECONDS,
the shared served demo of tests/conftest.py), and the page asks
for them as often: a record at a gate shows on an open dashboard without reloading it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PHONE, SERVED_STATS_REFRESH_SECONDS, Served, log_in

DESKTOP = {"width": 1280, "height": 800}
BAOTOU, DONGHE, XNB_STREET, BAOLI = "150200", "150202", "150202001", "150202001001001"

pytestmark = [pytest.mark.browser]


def _page(browser: Any, viewport: dict[str, int], **options: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=viewport, locale="zh-CN", **options)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:http://127.0.0.1")) else None)
    yield page
    context.close()
    assert outside == [], f"the page reached outside the server: {outside}"


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    yield from _page(browser, DESKTOP)


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    yield from _page(browser, PHONE, is_mobile=True, has_touch=True)


def _charts_drawn(page: Any) -> None:
    """Both charts are ECharts SVGs with something drawn in them."""
    page.wait_for_selector("#trend-chart svg path", state="attached")
    page.wait_for_selector("#children-chart svg path", state="attached")
    assert page.locator("#trend-chart svg path").count() > 3
    # a box per child area (the smallest ones too small for their name)
    children = page.locator("[data-child]").count() - page.locator("[data-child^='station:']").count()
    assert page.locator("#children-chart svg path").count() >= children > 0


def test_a_commander_drills_down_from_the_city_on_a_desktop(server: Served, desktop: Any) -> None:
    log_in(desktop, server, "commander")
    desktop.locator(".topnav a[href='/dashboard/']").click()  # the top bar
    desktop.wait_for_url(f"{server.url}/dashboard/{BAOTOU}/")
    _charts_drawn(desktop)
    assert desktop.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    # the groups of tiles side by side on a wide screen
    groups = desktop.locator(".dash-group").all()
    assert groups[0].bounding_box()["y"] == groups[1].bounding_box()["y"]
    # a tap on 东河区's box in the treemap opens its dashboard …
    desktop.locator("#children-chart svg text", has_text="东河区").first.click()
    desktop.wait_for_url(f"{server.url}/dashboard/{DONGHE}/")
    _charts_drawn(desktop)
    assert "西脑包派出所" in desktop.locator(".dash-table").inner_text()  # its station, apart
    # … and a row of the table the next level down
    desktop.locator(f"tr[data-child='{XNB_STREET}'] a").click()
    desktop.wait_for_url(f"{server.url}/dashboard/{XNB_STREET}/")
    assert desktop.locator("h1").inner_text().startswith("西脑包街道")
    # back up through the crumbs
    desktop.locator(".crumbs a", has_text="包头市").click()
    desktop.wait_for_url(f"{server.url}/dashboard/{BAOTOU}/")


def test_a_commander_reads_the_figures_stacked_on_a_phone(server: Served, phone: Any) -> None:
    log_in(phone, server, "commander")
    phone.wait_for_selector("#dashboard-today [data-figure]")  # today's tiles on the home page
    phone.goto(f"{server.url}/dashboard/{DONGHE}/")
    _charts_drawn(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= phone.evaluate("window.innerWidth")
    tiles = [t.bounding_box() for t in phone.locator(".dash-tile").all()]
    assert len(tiles) >= 20
    # one column: every tile starts at the same x, one under the other, nearly the screen wide
    assert len({round(t["x"]) for t in tiles}) == 1
    assert all(t["width"] >= PHONE["width"] * 0.8 for t in tiles)
    size = phone.evaluate("parseFloat(getComputedStyle(document.querySelector('.dash-number')).fontSize)")
    assert size >= 18
    # a past day from the date picker
    day = phone.locator("#id_date").get_attribute("min")
    phone.fill("#id_date", day)
    phone.locator("[data-day-form] button[type=submit]").click()
    phone.wait_for_url(f"**/dashboard/{DONGHE}/?date={day}**")
    assert phone.locator(".dash-status").get_attribute("data-day") == day


def test_an_open_dashboard_shows_a_fever_at_the_gate_without_reloading(
        server: Served, browser: Any, desktop: Any) -> None:
    log_in(desktop, server, "commander")
    desktop.goto(f"{server.url}/dashboard/{BAOLI}/")
    tile = desktop.locator("#dashboard-live [data-figure=gate_fevers]")
    before = int(tile.get_attribute("data-value"))
    desktop.evaluate("window.stillTheSamePage = true")
    # the gate guard records a visitor with a fever on their phone
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    gate_phone = context.new_page()
    log_in(gate_phone, server, "gate")
    gate_phone.get_by_role("link", name="保利百合 东门").click()
    gate_phone.fill("#temperature", "38.7")
    gate_phone.locator("details.visitor summary").click()
    gate_phone.fill("#visitor_name", "李看板")
    gate_phone.fill("#visitor_phone", "13912345670")
    gate_phone.get_by_role("button", name="进", exact=True).click()
    assert "38.7" in gate_phone.locator(".messages").inner_text()
    context.close()
    # the worker rolls it up and the open page brings it in by itself
    desktop.wait_for_function(
        "n => Number(document.querySelector('#dashboard-live [data-figure=gate_fevers]').dataset.value) > n",
        arg=before, timeout=SERVED_STATS_REFRESH_SECONDS * 6 * 1000)
    assert desktop.evaluate("window.stillTheSamePage") is True
    assert desktop.locator(f"#at-risk [data-risk='{BAOLI}']").count() == 1
    assert desktop.locator(".dash-status [data-refreshed]").get_attribute("data-refreshed")
    desktop.wait_for_selector("#trend-chart svg path", state="attached")  # drawn again with the new figures
