"""Accessibility (GB/T 37668-2019, WCAG 2.1 A/AA) of every page, in Chromium, role by role.

Each page is opened at 1440 and 375 px; axe-core (vendored, injected by the test — the pages never load it)
must find no violation of impact serious or critical, the page must not be wider than the window, and a
screenshot is saved as ``test-artifacts/web/<page>-<width>.png`` for a person to look at. The citizen's
长辈版 (elder mode) is walked at 375 px: large type, high contrast, and a report form of three steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
AXE = ROOT / "src" / "civicgrid" / "web" / "static" / "vendor" / "axe" / "axe.min.js"
PASSWORD = "civicgrid2026"
WIDTHS = (1440, 375)
AXE_RUN = """async () => {
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  const why = n => (n.failureSummary || '').split('\\n').slice(1, 2).join('');
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + why(n))
  }));
}"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# The innermost elements that reach past the window's right edge (to say what pushes a page sideways).
CULPRITS = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && e.children.length === 0)
  .slice(0, 4)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className
      ? '.' + e.className.trim().replace(/\\s+/g, '.') : ''))"""
Live = Any


class Walk:
    """One person's browser context: visits pages, checks them at each width, remembers what failed."""

    def __init__(self, context: Any, live: Live) -> None:
        self.live = live
        self.page = context.new_page()
        self.problems: list[str] = []

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.live.url + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def login(self, username: str) -> None:
        self.goto("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("form[action='/login'] button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        assert "/login" not in self.page.url, f"login failed for {username}"

    def check(self, name: str, path: str | None = None, widths: tuple[int, ...] = WIDTHS) -> None:
        """Open ``path`` (or stay on the current page) and check it at every width."""
        if path is not None:
            self.goto(path)
        for width in widths:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.wait_for_timeout(50)  # layout and the map settle at the new width
            self.page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
            wider = self.page.evaluate(OVERFLOW)
            if wider > 0:
                culprits = ", ".join(self.page.evaluate(CULPRITS))
                self.problems.append(
                    f"{name} @ {width}px: the page is {wider}px wider than the window ({culprits})"
                )
            if self.page.evaluate("typeof window.axe") == "undefined":
                self.page.add_script_tag(path=str(AXE))
            for v in self.page.evaluate(AXE_RUN):
                where = "\n      ".join(v["targets"])
                self.problems.append(
                    f"{name} @ {width}px: [{v['impact']}] {v['id']} — {v['help']}\n      {where}"
                )


@contextmanager
def walk(browser: Any, live: Live, **context_args: Any) -> Iterator[Walk]:
    # The pages' Content-Security-Policy forbids inline scripts: the test's own axe-core needs bypass_csp.
    context = browser.new_context(
        **({"locale": "zh-CN", "viewport": {"width": 1440, "height": 900}, "bypass_csp": True} | context_args)
    )
    try:
        yield Walk(context, live)
    finally:
        context.close()


def _report(w: Walk, description: str, category: str = "") -> None:
    """Submit a citizen report at the live server's quiet point (typed coordinates, no map click)."""
    lng, lat, _ = w.live.quiet_point
    w.page.fill("#lng", f"{lng:.6f}")
    w.page.fill("#lat", f"{lat:.6f}")
    w.page.fill("#description", description)
    if category and w.page.locator("#category_code").count():
        w.page.select_option("#category_code", category)
    # The first report may load the classifier and the word segmenter in the server (seconds).
    with w.page.expect_navigation(timeout=120_000):
        w.page.click("#report-form button[type=submit]")
    w.page.wait_for_load_state("networkidle")
    assert w.page.url.endswith("/report/done"), w.page.url


def _first_link(w: Walk, selector: str) -> str:
    href = w.page.locator(selector).first.get_attribute("href")
    assert href, f"no link {selector} on {w.page.url}"
    return str(href)


def test_every_page_is_accessible_at_both_widths(browser: Any, live_server: Live) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    with walk(browser, live_server) as w:  # a citizen, no login
        w.check("login", "/login")
        w.check("citizen-report", "/report")
        _report(w, "小区门口的路灯坏了好几天，晚上很黑", "C0118")
        w.check("citizen-done")
        number = w.page.inner_text("#case-number").strip()
        w.check("citizen-track", "/track")
        w.check("citizen-track-case", f"/track/{number}")
        response = w.goto("/report/no-such-page")
        assert response.status == 404
        w.check("error-404")
        problems += w.problems

    with walk(browser, live_server) as w:
        w.login("operator")
        w.check("center-queue", "/center")
        w.check("center-case", _first_link(w, "a[href^='/cases/']"))
        w.check("inbox", "/inbox")
        problems += w.problems

    with walk(browser, live_server) as w:
        w.login("handler_hw")
        w.check("dept-inbox", "/dept")
        problems += w.problems

    with walk(browser, live_server) as w:
        w.login("inspector" + live_server.quiet_point[2][6:9])
        w.check("inspector-tasks", "/inspector")
        w.check("inspector-report", "/inspector/report")
        problems += w.problems

    with walk(browser, live_server) as w:
        w.login("leader")
        w.check("leader", "/leader")
        problems += w.problems

    with walk(browser, live_server) as w:
        w.login("admin")
        for tab in ("", "grids", "departments", "categories", "routing", "users", "keys", "outbox"):
            w.check("admin" + (f"-{tab}" if tab else ""), "/admin" + (f"/{tab}" if tab else ""))
        # The monitoring pages (monitoring/pages.py).
        for name, path in (
            ("stations", ""),
            ("stations-import", "/import"),
            ("stations-rankings", "/rankings"),
        ):
            w.check(name, "/stations" + path)
        problems += w.problems

    assert problems == [], "accessibility and layout problems:\n  " + "\n  ".join(problems)


def test_admin_overview_shows_the_api_key_count(browser: Any, live_server: Live) -> None:
    with walk(browser, live_server) as w:
        w.login("admin")
        for width in WIDTHS:
            w.page.set_viewport_size({"width": width, "height": 900})
            w.goto("/admin")
            tile = w.page.locator("a.kpi[href='/admin/keys'] .kpi-num")
            assert re.fullmatch(r"\d+", tile.inner_text().strip()), tile.inner_text()
            assert "built-in method" not in w.page.inner_text("main")
            assert w.page.evaluate(OVERFLOW) <= 0, f"/admin is wider than {width}px"


def test_elder_mode_on_a_phone(browser: Any, live_server: Live) -> None:
    """长辈版 at 375 px: switched on by the visible link, remembered, large type, three steps, accessible."""
    with walk(browser, live_server, viewport={"width": 375, "height": 800}) as w:
        w.goto("/report")
        assert w.page.locator("#category_code").count() == 1  # the standard form
        w.page.click("#mode-switch")
        w.page.wait_for_load_state("networkidle")
        assert "mode=elder" in w.page.url
        assert "elder" in (w.page.get_attribute("body", "class") or "")
        cookies = {c["name"]: c["value"] for c in w.page.context.cookies()}
        assert cookies.get("civicgrid_mode") == "elder"
        body_px = float(w.page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))
        assert body_px >= 18, body_px
        submit = w.page.locator("#report-form button[type=submit]").bounding_box()
        assert submit is not None and submit["height"] >= 56, submit
        # Fewer steps: location, description and photo; no category, no contact fields.
        assert (
            w.page.locator("#category_code, input[name=reporter_phone], input[name=reporter_name]").count()
            == 0
        )
        assert w.page.locator("#description, input[name=photos], #lng, #lat").count() == 4
        w.check("elder-report", widths=(375,))
        # The classifier picks the category.
        _report(w, "我家楼下的垃圾桶满了好几天没人清运，味道很大")
        assert "elder" in (w.page.get_attribute("body", "class") or "")
        w.check("elder-done", widths=(375,))
        w.goto("/track")  # remembered without ?mode=
        assert "elder" in (w.page.get_attribute("body", "class") or "")
        w.check("elder-track", widths=(375,))
        w.page.click("#mode-switch")  # back to the standard view
        w.page.wait_for_load_state("networkidle")
        assert "elder" not in (w.page.get_attribute("body", "class") or "")
        w.goto("/report")
        assert w.page.locator("#category_code").count() == 1
        assert w.problems == [], "\n".join(w.problems)
