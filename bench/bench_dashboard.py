"""How long the leader dashboard takes to draw: a server on a temporary demo database (5,000 cases), /leader
loaded in headless Chromium (a fresh context each time: cold browser cache) until its charts and grid map
are drawn (``html[data-dashboard-ready]``).

    .venv/bin/python bench/bench_dashboard.py [--cases 5000] [--runs 5] [--db PATH] [--shot FILE]

``--db`` reuses (or creates once) a demo database at PATH instead of building a fresh one in a temp folder.
Prints each load with its phases (HTML received, DOM ready, charts drawn, grids fetched, map drawn); the
figure is the median of the in-page time from navigation start to "drawn" (the wall clock, printed too, adds
the creation of a fresh browser context for each load).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
BUDGET_S = 1.5
PHASES_JS = """() => {
  const n = performance.getEntriesByType("navigation")[0];
  const m = Object.fromEntries(performance.getEntriesByType("mark").map(e => [e.name.slice(7), e.startTime]));
  const f = (x) => x === undefined ? "?" : Math.round(x);
  return [m.ready, `html ${f(n.responseEnd)}, dom ${f(n.domContentLoadedEventEnd)}, charts ${f(m.charts)}, ` +
    `grids ${f(m["grids-fetched"])}, map ${f(m["map-drawn"])}, ready ${f(m.ready)} ms`];
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(db: Path, cases: int) -> None:
    os.environ["CIVICGRID_DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("CIVICGRID_DATA_DIR", str(db.parent / "data"))
    from civicgrid.db import unit_of_work
    from civicgrid.migrate import upgrade
    from civicgrid.settings import get_settings

    if db.exists():
        return
    upgrade(get_settings().database_url)
    started = time.perf_counter()
    from civicgrid.demo.build import build_demo

    with unit_of_work() as session:
        build_demo(session, cases=cases)
    print(f"demo database with {cases} cases built in {time.perf_counter() - started:.0f} s: {db}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--shot", type=Path, default=None, help="save a screenshot of the last load")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing (make browser)", file=sys.stderr)
        return 2
    db = args.db or Path(tempfile.mkdtemp(prefix="civicgrid-bench-")) / "bench.db"
    _prepare(db.resolve(), args.cases)

    import uvicorn
    from playwright.sync_api import sync_playwright
    from sqlalchemy import func, select

    from civicgrid.app import create_app
    from civicgrid.db import unit_of_work
    from civicgrid.models import Case, User
    from civicgrid.org.tokens import issue_token

    with unit_of_work(write=False) as s:
        n_cases = s.scalar(select(func.count(Case.id)))
        token = issue_token(s.scalar(select(User.id).where(User.username == "leader")))[0]
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    times: list[float] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        cookie = [{"name": "civicgrid_token", "value": token, "url": url}]
        for i in range(args.runs + 1):  # the first load warms the server (imports, grid geometry cache)
            context = browser.new_context(viewport={"width": 1440, "height": 900})  # a cold browser cache
            context.add_cookies(cookie)  # type: ignore[list-item]
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            start = time.perf_counter()
            page.goto(url + "/leader", wait_until="commit")
            page.wait_for_selector("html[data-dashboard-ready='1']", timeout=30000)
            wall = time.perf_counter() - start
            ready_ms, phases = page.evaluate(PHASES_JS)
            if i:
                times.append(ready_ms / 1000)
            label = "warm-up" if not i else f"run {i}"
            print(f"{label}: {ready_ms:.0f} ms from navigation start ({phases}); wall {wall * 1000:.0f} ms")
            if args.shot and i == args.runs:
                page.screenshot(path=str(args.shot), full_page=True)
            context.close()
        browser.close()
    server.should_exit = True
    median = statistics.median(times)
    verdict = "OK" if median < BUDGET_S else "TOO SLOW"
    print(
        f"/leader with {n_cases} cases: median {median * 1000:.0f} ms over {args.runs} loads "
        f"(budget {BUDGET_S * 1000:.0f} ms) {verdict}"
    )
    if errors:
        print("JavaScript errors:", errors, file=sys.stderr)
        return 1
    return 0 if median < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
