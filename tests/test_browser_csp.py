"""The Content-Security-Policy in a real browser: no page of any role reports a violation (no
inline script or handler, nothing from outside), and HTMX, ECharts and the page actions still
work under it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import BAOLI, BAOLI_34, BAOLI_34_2_6W, PHONE, Served, log_in

pytestmark = [pytest.mark.browser]


EAST = f"{BAOLI}-E"
#: the main pages of each role (the home page first)
PAGES = {
    "warden": ["/", f"/areas/{BAOLI_34}/", f"/areas/{BAOLI_34_2_6W}/", f"/gates/{EAST}/", "/gates/",
               f"/areas/{BAOLI_34}/passes/", "/followups/", "/visits/", "/observations/", "/tips/",
               "/notices/", "/inbox/", "/search/?q=鄂A", "/today/", "/my-card/"],
    "gate": ["/", f"/gates/{EAST}/"],
    "checkpoint": ["/", "/checkpoints/DLT-CP1/"],
    "commander": ["/", "/audit/", "/gates/", "/followups/", "/on-post/", "/channels/", "/deliveries/",
                  "/key-regions/", "/imports/"],
    "health": ["/", "/observations/", "/followups/"],
    "unit_rep": ["/", "/disinfection/"],
}
PUBLIC = ["/accounts/login/", f"/p/{BAOLI_34}/", f"/p/{BAOLI_34}/tip/", "/p/t/", "/no-such-page/"]

_LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


def _violations(browser: Any, server: Served, username: str | None, paths: list[str]) -> list[str]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    context.add_init_script(_LISTEN)
    page = context.new_page()
    found: list[str] = []
    page.on("console", lambda m: found.append(f"console: {m.text}")
            if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text else None)
    try:
        if username:
            log_in(page, server, username)
        seen: set[str] = set()
        queue = list(paths)
        while queue:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            page.goto(server.url + path)
            page.wait_for_load_state("networkidle")
            if page.locator("[_echarts_instance_]").count():  # the charts drew (ECharts, SVG)
                page.wait_for_function(
                    "() => [...document.querySelectorAll('[_echarts_instance_]')].every(c => c.querySelector('svg'))")
            found += [f"{path}: {v}" for v in page.evaluate("window.__csp")]
            if path == "/" and username:  # and every page the home page and the top bar link to
                queue += [href for href in page.eval_on_selector_all(
                    "a[href^='/']", "links => links.map(a => a.getAttribute('href'))")
                    if not re.search(r"\.(xlsx|csv|ico)$|^/(accounts|i18n|admin)/", href)][:40]
    finally:
        context.close()
    return found


@pytest.mark.parametrize("username", sorted(PAGES))
def test_no_page_of_a_role_breaks_the_policy(server: Served, browser: Any, username: str) -> None:
    assert _violations(browser, server, username, PAGES[username]) == []


def test_no_public_page_breaks_the_policy(server: Served, browser: Any) -> None:
    assert _violations(browser, server, None, PUBLIC) == []


def test_htmx_swaps_and_page_actions_work_without_inline_script(server: Served, browser: Any) -> None:
    def context_of(username: str) -> Any:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
        context.add_init_script(_LISTEN + "window.print = function () { window.__printed = true; };")
        page = context.new_page()
        log_in(page, server, username)
        return context, page

    # HTMX: the checkpoint's destination field asks for compounds named like what is typed
    context, page = context_of("checkpoint")
    try:
        page.goto(server.url + "/checkpoints/DLT-CP1/")
        page.locator("#destination").press_sequentially("保利")
        page.wait_for_function("() => document.querySelectorAll('#destinations option').length > 0")
        assert page.evaluate("window.__csp") == []
    finally:
        context.close()
    # the pass sheet's print button prints; the sheet fits the phone (A4 only in print)
    context, page = context_of("warden")
    try:
        page.goto(server.url + f"/areas/{BAOLI_34}/passes/")
        assert page.locator("[data-pass]").count() == 24
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_role("button", name="打印").click()
        assert page.evaluate("window.__printed") is True
        assert page.evaluate("window.__csp") == []
    finally:
        context.close()
    # the audit log's filter submits when an action is picked
    context, page = context_of("commander")
    try:
        page.goto(server.url + "/audit/")
        with page.expect_navigation():
            page.select_option("select[name=action]", "login")
        assert "action=login" in page.url
        assert page.evaluate("window.__csp") == []
    finally:
        context.close()
