"""A live server for the browser tests: a temporary SQLite demo district (100 historical cases) served
by uvicorn in a background thread, and Debian's Chromium driven by Playwright.

The settings and engine caches are pointed at the temporary database for the duration of this package's tests
and restored afterwards, so the rest of the suite (run in the same process) keeps its own database.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Citizens' reports are verified on site before 立案 in this walk-through: turn off confidence-based
# auto-dispatch.
SERVER_ENV = {"CIVICGRID_AUTO_DISPATCH_MIN_CONFIDENCE": "1.01", "CIVICGRID_ENV": "test"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: their live server points the process-wide settings at its own database, so
    every test on the shared test database (here and in the rest of the suite) must have run before."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reset_caches() -> None:
    from civicgrid.db import get_engine
    from civicgrid.geo import service
    from civicgrid.settings import get_settings

    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()
    service.invalidate()


@dataclass
class Live:
    url: str
    tmp: Path
    quiet_point: tuple[float, float, str]  # a grid centre with no open case nearby (lng, lat, grid code)
    shared: dict[str, Any] = field(default_factory=dict)


def _quiet_point() -> tuple[float, float, str]:
    from sqlalchemy import select

    from civicgrid.db import unit_of_work
    from civicgrid.errors import AppError
    from civicgrid.geo.crs import haversine_m
    from civicgrid.geo.service import locate
    from civicgrid.models import Area, Case

    with unit_of_work(write=False) as s:
        cases = [(c.lng, c.lat) for c in s.scalars(select(Case))]
        grids = s.scalars(select(Area).where(Area.level == "grid").order_by(Area.code)).all()
        for area in grids[len(grids) // 3 :]:
            lng, lat = area.centroid_lng, area.centroid_lat
            if any(float(haversine_m(lng, lat, x, y)) <= 600 for x, y in cases):
                continue
            # The tests also report a little east of the centre (up to +0.003° ≈ 290 m): that must be inside
            # too, whatever the day's demo history looks like.
            try:
                for dx in (0.001, 0.0015, 0.002, 0.0025, 0.003):
                    locate(s, lng + dx, lat)
            except AppError:
                continue
            return area.centroid_lng, area.centroid_lat, area.code
    raise RuntimeError("no quiet grid in the demo district")


@pytest.fixture(scope="session")
def live_server() -> Iterator[Live]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (make browser)")
    tmp = Path(tempfile.mkdtemp(prefix="civicgrid-web-"))
    saved = {k: os.environ.get(k) for k in ("CIVICGRID_DATABASE_URL", "CIVICGRID_DATA_DIR", *SERVER_ENV)}
    os.environ["CIVICGRID_DATABASE_URL"] = f"sqlite:///{tmp / 'web.db'}"
    os.environ["CIVICGRID_DATA_DIR"] = str(tmp / "data")
    os.environ.update(SERVER_ENV)
    _reset_caches()
    import uvicorn

    from civicgrid.app import create_app
    from civicgrid.db import unit_of_work
    from civicgrid.demo.build import build_demo
    from civicgrid.migrate import upgrade
    from civicgrid.settings import get_settings

    upgrade(get_settings().database_url)
    with unit_of_work() as session:
        build_demo(session, cases=100)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the live server did not start"
    try:
        yield Live(url=f"http://127.0.0.1:{port}", tmp=tmp, quiet_point=_quiet_point())
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        _reset_caches()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def photo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small real JPEG (a photo upload must decode as an image)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (640, 480), (188, 196, 204))
    draw = ImageDraw.Draw(img)
    draw.rectangle((180, 140, 460, 340), fill=(92, 84, 76))
    draw.ellipse((260, 200, 380, 300), fill=(40, 40, 44))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    path = tmp_path_factory.mktemp("photos") / "scene.jpg"
    path.write_bytes(buf.getvalue())
    return path
