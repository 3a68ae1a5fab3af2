"""The monitoring pages in Chromium on the shared live server: an admin imports stations from a CSV (preview,
then confirm), sees them on the map coloured by current AQI / water class and in the table at 1440 and 375 px,
and opens a station's page with its charts. No request leaves 127.0.0.1; no console error."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path("test-artifacts/web")
PASSWORD = "civicgrid2026"
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _store_readings() -> None:
    """Hourly data for the imported stations, stored as the listener stores a packet."""
    from sqlalchemy import select

    from civicgrid.db import unit_of_work
    from civicgrid.models import Station
    from civicgrid.monitoring.hj212 import build, parse_frame
    from civicgrid.monitoring.readings import store

    data = {
        "BRAIR01": ("22", "a34004-Avg={v},a34004-Flag=N;a34002-Avg=60,a34002-Flag=N", (20, 30, 80)),
        "BRWAT01": ("21", "w21003-Avg={v},w21003-Flag=N;w01009-Avg=6.5,w01009-Flag=N", (0.3, 0.4, 1.2)),
    }
    with unit_of_work() as s:
        for mn, (st, items, values) in data.items():
            station = s.scalar(select(Station).where(Station.mn == mn))
            assert station is not None
            for hour, v in zip(("08", "09", "10"), values, strict=True):
                at = f"20261130{hour}0000"
                header: dict[str, str | int | None] = {
                    "QN": at + "000",
                    "ST": st,
                    "CN": "2061",
                    "PW": "123456",
                    "MN": mn,
                    "Flag": 4,
                }
                store(s, station, parse_frame(build(header, f"DataTime={at};" + items.format(v=v))))


def test_admin_imports_stations_and_sees_them_coloured_on_the_map(
    live_server: Any, browser: Any, tmp_path: Path
) -> None:
    outside: list[str] = []
    errors: list[str] = []
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.on("request", lambda r: outside.append(r.url) if urlsplit(r.url).hostname != "127.0.0.1" else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state("networkidle")

    # Import: upload → preview (nothing written) → confirm.
    lng, lat, _ = live_server.quiet_point
    csv = tmp_path / "stations.csv"
    csv.write_text(
        "站点编码,类型,名称,经度,纬度,目标类别\n"
        f"BRAIR01,空气质量,浏览器空气站,{lng:.6f},{lat:.6f},\n"
        f"BRWAT01,地表水,浏览器水质站,{lng + 0.002:.6f},{lat:.6f},III\n"
        f"BRNOI01,噪声,浏览器噪声站,{lng + 0.001:.6f},{lat + 0.001:.6f},\n",
        encoding="utf-8",
    )
    page.goto(f"{live_server.url}/stations")
    page.click("#import-link")
    page.set_input_files("#station-upload input[type=file]", str(csv))
    page.click("#station-upload button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#import-preview tbody tr").count() == 3
    assert page.locator("#import-errors").count() == 0
    page.click("#import-confirm button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/stations")
    assert "已导入 3 个站点" in page.inner_text("main")

    _store_readings()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (1440, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/stations")
        page.wait_for_selector("#station-map[data-station-count]", state="attached")
        page.wait_for_selector("#station-map.cm-basemap-ready", state="attached")
        rows = page.locator("#station-table tbody tr")
        assert page.locator("#station-table").is_visible()
        # One dot per station (the demo district may have stations of its own), as many as the table's rows.
        assert page.get_attribute("#station-map", "data-station-count") == str(rows.count()), errors
        assert page.locator("#station-map path.station-dot").count() == rows.count()
        fills = [
            page.get_attribute(f"#station-map path.station-mn-{mn}", "fill")
            for mn in ("BRAIR01", "BRWAT01", "BRNOI01")
        ]
        # AQI 119 轻度污染 (HJ 633-2026), IV 类 轻度污染 (黄色), the noise station neutral.
        assert fills == ["#FF7E00", "#FFD400", "#8A94A6"], fills
        assert "AQI 119 轻度污染" in page.inner_text("#station-table tr[data-mn='BRAIR01']")
        assert "IV 类 轻度污染" in page.inner_text("#station-table tr[data-mn='BRWAT01']")
        assert page.evaluate(OVERFLOW) <= 0, f"/stations is wider than {width}px"
        page.screenshot(path=str(ARTIFACTS / f"stations-{width}.png"), full_page=True)

    # A station's page: one chart per pollutant, its flag counts, the admin's form.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/stations")
    page.click("#station-table a[href='/stations/BRAIR01']")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/stations/BRAIR01?window=hour&from=2026-11-30&to=2026-11-30")
    page.wait_for_load_state("networkidle")
    assert page.locator("figure.chart svg.series-chart").count() == 2
    assert page.locator("figure.chart[data-code='a34004'] circle.pt").count() == 3
    assert page.inner_text("#flag-counts td[data-flag='N']") == "6"
    assert page.locator("#station-edit").is_visible() and page.locator("#station-deactivate").is_visible()
    page.screenshot(path=str(ARTIFACTS / "station-page-1440.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 900})
    page.wait_for_timeout(100)
    assert page.evaluate(OVERFLOW) <= 0, "the station page is wider than 375px"
    page.screenshot(path=str(ARTIFACTS / "station-page-375.png"), full_page=True)
    ctx.close()
    assert outside == [], outside
    assert errors == [], errors
