"""/docs and /redoc work on an intranet: their scripts, styles and icon come from our own origin (the copies
under /static/vendor), and no request leaves the server's host when they render."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']|url\(\s*['"]?([^'")]+)""")


def _assets(html: str) -> list[str]:
    return [a or b for a, b in ASSET.findall(html)]


def test_docs_pages_reference_only_our_origin(client: Any) -> None:
    for path, expected in (
        (
            "/docs",
            {"/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css"},
        ),
        ("/redoc", {"/static/vendor/redoc/redoc.standalone.js"}),
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assets = _assets(page.text)
        assert expected <= set(assets), (path, assets)
        assert [a for a in assets if not a.startswith("/")] == [], (path, assets)
        assert "cdn." not in page.text and "fonts.googleapis" not in page.text, path
        if path == "/redoc":  # its "by Redocly" badge would be fetched from cdn.redoc.ly
            assert page.headers["content-security-policy"] == "img-src 'self' data:"
        for asset in assets:
            assert client.get(asset).status_code == 200, asset


@pytest.mark.browser
def test_docs_render_without_leaving_the_server(browser: Any, live_server: Any) -> None:
    host = urlsplit(live_server.url).netloc
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    outside: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == host:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/docs")
        page.wait_for_selector(".opblock", timeout=120_000)
        assert page.locator(".opblock").count() > 10
        page.goto(live_server.url + "/redoc")
        page.wait_for_selector("[data-section-id*='operation/']", state="attached", timeout=120_000)
        assert page.locator("[data-section-id*='operation/']").count() > 10
    finally:
        context.close()
    assert outside == [], outside


def test_admin_overview_prints_the_api_key_count(client: Any, session: Any) -> None:
    from sqlalchemy import select

    from civicgrid.models import User
    from civicgrid.org.tokens import issue_token

    admin = session.scalar(select(User).where(User.username == "admin"))
    client.cookies.set("civicgrid_token", issue_token(admin.id)[0])
    page = client.get("/admin")
    assert page.status_code == 200
    tile = re.search(
        r'href="/admin/keys"><span class="kpi-label">[^<]+</span><span class="kpi-num">([^<]*)<', page.text
    )
    assert tile is not None and tile.group(1).isdigit(), page.text[:300]
    assert "built-in method" not in page.text
