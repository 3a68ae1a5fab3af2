"""Crash drill: kill the server with SIGKILL at random moments 20 times during sustained report submission.
Every report that got a 2xx answer must be in the database afterwards, the integrity check and the audit chain
must pass, and no case may be half-written (each has its report event). Retries reuse their Idempotency-Key,
so a submission that was cut off and retried makes one case."""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent / "civicgrid"
KILLS = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str) -> list[tuple[float, float]]:
    from civicgrid.db import make_engine, unit_of_work
    from civicgrid.demo.build import build_district
    from civicgrid.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as s:
        plan, _ = build_district(s)
    engine.dispose()
    return [(g.geometry.centroid.x, g.geometry.centroid.y) for g in plan.grids[::7]]


def _start(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not start")


@pytest.mark.skipif(
    os.environ.get("CIVICGRID_TEST_DB") == "postgresql", reason="the drill targets the embedded SQLite store"
)
def test_sigkill_twenty_times_loses_no_acknowledged_report() -> None:
    folder = Path(tempfile.mkdtemp(prefix="cg-crash-"))
    db = folder / "crash.db"
    url = f"sqlite:///{db}"
    points = _prepare(url)
    env = dict(
        os.environ,
        CIVICGRID_DATABASE_URL=url,
        CIVICGRID_DATA_DIR=str(folder),
        CIVICGRID_SWEEPER_INTERVAL_S="0",
        CIVICGRID_ENV="development",
    )
    port = _free_port()
    proc = _start(env, port)
    acknowledged: dict[str, str] = {}
    stop = threading.Event()
    rng = random.Random(11)

    def submit() -> None:
        n = 0
        key = None
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                if key is None:
                    n += 1
                    key = f"drill-{n}"
                try:
                    r = client.post(
                        f"http://127.0.0.1:{port}/api/v1/reports",
                        headers={"Idempotency-Key": key},
                        json={
                            "description": f"压力测试上报 {key}",
                            "lng": points[n % len(points)][0],
                            "lat": points[n % len(points)][1],
                            "category_code": "E0899",
                        },
                    )
                except httpx.HTTPError:
                    time.sleep(0.05)  # the server is down: retry the same key
                    continue
                if r.status_code in (200, 201):
                    acknowledged[key] = r.json()["number"]
                    key = None
                elif r.status_code == 409:  # the same key is still being processed
                    time.sleep(0.05)
                else:
                    raise AssertionError(r.text)

    workers = [threading.Thread(target=submit, daemon=True)]
    for w in workers:
        w.start()
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.3, 1.2))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc = _start(env, port)
        time.sleep(1.0)
    finally:
        stop.set()
        for w in workers:
            w.join(10)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    assert len(acknowledged) >= 50, len(acknowledged)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    numbers = {row[0] for row in con.execute("SELECT number FROM cases")}
    missing = set(acknowledged.values()) - numbers
    assert not missing, f"acknowledged but lost: {sorted(missing)[:5]}"
    # Each key made exactly one case, and no case is without its report event.
    descriptions = [row[0] for row in con.execute("SELECT description FROM cases")]
    assert len(descriptions) == len(set(descriptions))
    orphans = con.execute(
        "SELECT count(*) FROM cases c WHERE NOT EXISTS "
        "(SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.action = 'report')"
    ).fetchone()[0]
    assert orphans == 0
    con.close()
    audit = subprocess.run(
        [str(BIN), "audit", "verify", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
