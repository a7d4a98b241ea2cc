"""Screenshots of the main pages for the README, taken in Debian chromium at phone size.

    scripts/run.sh &                      # a server with the demo city
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000 --logins var/demo_logins.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs/screenshots"
SHOTS = [
    ("warden", "/", "warden-home.png"),
    ("warden", "/areas/150202001001001-34-2-0601/", "warden-household.png"),
    ("gate", "/areas/150202001001001-34-2-0601/", "gate-household-masked.png"),
    ("commander", "/", "commander-home.png"),
    ("commander", "/audit/", "commander-audit.png"),
    ("warden", "/followups/", "warden-followups.png"),
    ("warden", "{followup}", "warden-followup.png"),
    ("commander", "/followups/?view=active", "commander-followups.png"),
    ("gate", "/gates/150202001001001-E/", "gate-page.png"),
    ("checkpoint", "/checkpoints/DLT-CP1/", "checkpoint-page.png"),
    ("warden", "/imports/", "warden-import.png"),
    ("commander", "/gates/", "commander-gates-today.png"),
    ("warden", "/visits/", "warden-visits.png"),
    ("warden", "/visits/new/150202001001001-34-1-0402/", "warden-visit-form.png"),
    ("warden", "{visit}", "warden-visit-saved.png"),
    ("station_xnb", "{round}", "station-round-coverage.png"),
    ("health", "/observations/", "health-observations.png"),
    ("health", "{observation}", "health-observation.png"),
    ("", "{link}", "resident-check-in-link.png"),
    ("", "/p/150202001001001-34/", "resident-building-page.png"),
    ("", "/p/150202001001001-34/tip/", "resident-tip-form.png"),
    ("", "{tracked}", "resident-tip-answered.png"),
    ("warden", "{tip}", "warden-tip.png"),
    ("warden", "{notice}", "warden-notice.png"),
    ("warden", "/areas/150202001001001-34/poster/", "warden-poster.png"),
    ("warden", "/vehicles/鄂A5K2B8/", "warden-vehicle.png"),
    ("station_kde", "/on-post/?area=150782101001", "station-on-post.png"),
    ("station_kde", "/officers/", "station-officers.png"),
    ("checkpoint", "/rosters/checkpoint/DLT-CP1/", "checkpoint-roster.png"),
    ("warden_jy", "/disinfection/?area=150207001001001", "warden-disinfection.png"),
    ("", "{rep_link}", "rep-disinfection-link.png"),
    ("commander", "/dashboard/150200/", "dashboard-phone.png"),
    ("warden", "/field/visit/", "warden-field-visit.png"),
    ("gate", "/field/queue/", "gate-field-queue.png"),
    ("commander", "/look-ups/", "commander-look-ups.png"),
    ("", "/privacy/", "resident-privacy.png"),
]
#: taken on a desktop screen (1280×800)
DESKTOP_SHOTS = [
    ("commander", "/dashboard/150200/", "dashboard-desktop.png"),
]
DESKTOP = {"width": 1280, "height": 800}


def _login(browser, url: str, username: str, password: str, desktop: bool = False):  # type: ignore[no-untyped-def]
    if desktop:
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    else:
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    return context, page


def _gate_traffic(browser, url: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """A few people through 保利百合 东门, one with a fever (visitors: no pass codes needed)."""
    context, page = _login(browser, url, "gate", password)
    for name, temperature in (("王强", "36.4"), ("李娜", "36.7"), ("赵磊", "38.4")):
        page.goto(url + "/gates/150202001001001-E/")
        page.click("details.visitor summary")
        page.fill("input[name=visitor_name]", name)
        page.fill("#temperature", temperature)
        page.click("button[value=in]")
    context.close()


def _assign_task(browser, url: str, password: str) -> str:  # type: ignore[no-untyped-def]
    """The station commander passes a resident's tip to the warden of building 34."""
    context, page = _login(browser, url, "station_xnb", password)
    page.goto(url + "/areas/150202001001001-34/assign/")
    page.fill("#summary", "群众反映：34号楼二单元有外地返包人员未登记")
    page.fill("#action", "上门核实，登记返包人员并告知居家观察要求")
    page.fill("#hours", "4")
    page.check("input[name=urgent]")
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/followups/*/")
    path = page.url[len(url):]
    context.close()
    return path


def _first_link(page, selector: str) -> str:  # type: ignore[no-untyped-def]
    href = page.locator(selector).first.get_attribute("href")
    assert href, f"no link {selector} on {page.url}"
    return str(href)


def _screening_pages(browser, url: str, logins: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The demo's round, its returnee's observation and personal link, and a visit the warden
    records now (the next household of the stairwell: nothing to report)."""
    context, page = _login(browser, url, "station_xnb", logins["station_xnb"])
    page.goto(url + "/rounds/")
    round_ = _first_link(page, "a[href^='/rounds/'][href$='/']:not([href='/rounds/'])")
    context.close()
    context, page = _login(browser, url, "health", logins["health"])
    page.goto(url + "/observations/?view=all")
    observation = _first_link(page, "a.followup-link[href^='/observations/']")
    page.goto(url + observation)
    link = str(page.locator("[data-link-path]").get_attribute("data-link-path"))
    context.close()
    context, page = _login(browser, url, "warden", logins["warden"])
    page.goto(url + "/visits/new/150202001001001-34-1-0402/")
    page.locator("button[data-save]").click()
    page.wait_for_load_state()
    visit = page.url.removeprefix(url)
    context.close()
    return {"round": round_, "observation": observation, "link": link, "visit": visit}


def _residents_pages(browser, url: str, logins: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The demo's tip about the Wuhan car (answered and published) and its notice."""
    context, page = _login(browser, url, "warden", logins["warden"])
    page.goto(url + "/tips/?show=closed")
    tip = _first_link(page, "[data-tip] a[href^='/tips/']")
    page.goto(url + tip)
    tracked = _first_link(page, "a[href^='/p/t/']")
    notice = _first_link(page, "[data-outcome] a[href^='/notices/']")
    context.close()
    return {"tip": tip, "tracked": tracked, "notice": notice}


def _disinfection_pages(browser, url: str, logins: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A 富贵佳园 unit representative's personal link, as its warden hands it over."""
    context, page = _login(browser, url, "warden_jy", logins["warden_jy"])
    page.goto(url + "/disinfection/?area=150207001001001")
    unit = page.locator("[data-unit]").first.get_attribute("data-unit")
    page.goto(url + f"/disinfection/units/{unit}/")
    link = page.locator("[data-link]").first.input_value()
    context.close()
    return {"rep_link": link[link.index("/d/"):]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--logins", default="var/demo_logins.json")
    args = parser.parse_args()
    logins = json.loads(Path(args.logins).read_text(encoding="utf-8"))
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        followup = _assign_task(browser, args.url, logins["station_xnb"])
        _gate_traffic(browser, args.url, logins["gate"])
        places = {"followup": followup, **_screening_pages(browser, args.url, logins),
                  **_residents_pages(browser, args.url, logins), **_disinfection_pages(browser, args.url, logins)}
        for username, path, name in SHOTS:
            if username:
                context, page = _login(browser, args.url, username, logins[username])
            else:  # a resident: no log-in
                context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                              device_scale_factor=2, is_mobile=True)
                page = context.new_page()
            page.goto(args.url + path.format(**places))
            page.wait_for_timeout(600)
            page.screenshot(path=str(OUT / name), full_page=False)
            context.close()
        for username, path, name in DESKTOP_SHOTS:
            context, page = _login(browser, args.url, username, logins[username], desktop=True)
            page.goto(args.url + path)
            page.wait_for_timeout(1200)
            page.screenshot(path=str(OUT / name), full_page=True)
            context.close()
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
