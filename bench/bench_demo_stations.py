"""The demo's monitoring stations: what ``civicgrid init --demo`` spends on them, and the simulator's rate
through the real HJ 212 listener.

Run: .venv/bin/python bench/bench_demo_stations.py [--seconds 20] [--interval 0.1]
1. Into a fresh SQLite file holding the demo district (no case history): ``demo/stations.build`` — 15
   stations, 30 days of hourly and daily packets built, parsed and stored, the rules judged — timed (wall and
   this process's CPU), three times on fresh copies of the file.
2. The listener service (``monitoring.service.serve``) in a thread and the simulator with all 15 stations
   sending a real-time packet every ``--interval`` seconds for ``--seconds``: packets sent and acknowledged
   (9014) per second, and the refusals (expected 0). Both in this one process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

TMP = Path(tempfile.mkdtemp(prefix="civicgrid-bench-stations-"))
os.environ["CIVICGRID_DATABASE_URL"] = f"sqlite:///{TMP / 'base.db'}"
os.environ["CIVICGRID_DATA_DIR"] = str(TMP / "data")
os.environ.setdefault("CIVICGRID_ENV", "test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args()

    from civicgrid.db import get_engine, make_engine, unit_of_work
    from civicgrid.demo import stations
    from civicgrid.demo.build import build_district
    from civicgrid.migrate import upgrade
    from civicgrid.settings import get_settings

    upgrade(os.environ["CIVICGRID_DATABASE_URL"])
    with unit_of_work() as s:
        plan, _ = build_district(s)
    get_engine().dispose()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for run in range(3):
        copy = TMP / f"run{run}.db"
        shutil.copy(TMP / "base.db", copy)
        engine = make_engine(f"sqlite:///{copy}")
        wall, cpu = time.perf_counter(), time.process_time()
        with unit_of_work(engine) as s:
            got = stations.build(s, plan)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        engine.dispose()
        print(
            f"demo stations build #{run + 1}: {got.stations} stations, {got.readings:,} readings "
            f"in {wall:.2f} s wall / {cpu:.2f} s CPU (load {os.getloadavg()[0]:.1f})"
        )

    # The simulator through the listener, on the last copy (stations and history in place).
    os.environ["CIVICGRID_DATABASE_URL"] = f"sqlite:///{TMP / 'run2.db'}"
    get_settings.cache_clear()
    get_engine.cache_clear()
    from civicgrid.monitoring.service import serve
    from civicgrid.monitoring.simulate import Simulator, load_stations

    port = free_port()
    stop, ready = threading.Event(), threading.Event()
    listener = threading.Thread(
        target=lambda: asyncio.run(serve("127.0.0.1", port, stop, ready)), daemon=True
    )
    listener.start()
    assert ready.wait(30)
    sim = Simulator(load_stations(), "127.0.0.1", port, interval_s=args.interval)
    start = time.perf_counter()
    result = asyncio.run(sim.run(duration_s=args.seconds))
    took = time.perf_counter() - start
    stop.set()
    listener.join(15)
    print(
        f"simulator → listener → SQLite: {len(sim.clients)} stations, interval {args.interval:g} s, "
        f"{took:.1f} s: sent {result.sent:,} ({result.sent / took:,.0f}/s), acknowledged {result.acked:,} "
        f"({result.acked / took:,.0f}/s), refused {result.refused_total}, reconnects {result.reconnects}"
    )
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
