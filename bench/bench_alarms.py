"""What the monitoring rules (issue 14 §6) add to storing an hourly packet, and what opening a case costs.

Run: .venv/bin/python bench/bench_alarms.py [--stations 20] [--hours 12] [--db-dir DIR]
A fresh SQLite database (real migrations, the demo district) in a temporary folder; ``--stations`` air
stations each send ``--hours`` hourly packets (CN 2061) through ``service.store_packet`` — one unit of work
per packet, as the listener does — first with the rules switched off (``alarms.after_store`` replaced by a
no-op), then on. A last round sends two exceeding hours per station, so every station opens its case
(intake, rapid response with dispatch, a PNG chart). Then ``station-silence`` checks every station once.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--hours", type=int, default=12)
    parser.add_argument("--db-dir", type=Path, default=None)
    args = parser.parse_args()
    folder = args.db_dir or Path(tempfile.mkdtemp(prefix="civicgrid-bench-alarms-"))
    os.environ.setdefault("CIVICGRID_ENV", "test")
    os.environ["CIVICGRID_DATA_DIR"] = str(folder / "data")
    os.environ["CIVICGRID_DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"

    from sqlalchemy import func, select

    from civicgrid.db import unit_of_work
    from civicgrid.demo.build import build_district
    from civicgrid.migrate import upgrade
    from civicgrid.models import Area, Case
    from civicgrid.monitoring import alarms, service, stations
    from civicgrid.monitoring.hj212 import build, parse_frame
    from civicgrid.settings import get_settings

    upgrade(get_settings().database_url)
    with unit_of_work() as s:
        build_district(s)
        grids = s.scalars(select(Area).where(Area.level == "grid").order_by(Area.code)).all()
        for i in range(args.stations):
            a = grids[(i * 37) % len(grids)]
            stations.add(
                s, stations.StationIn(f"BENCH{i:04d}", "air", f"基准站{i}", a.centroid_lng, a.centroid_lat)
            )

    def packet(i: int, day: int, hour: int, pm25: float) -> object:
        cp = (
            f"DataTime=202612{day:02d}{hour:02d}0000;a34004-Avg={pm25},a34004-Flag=N;"
            "a34002-Avg=60,a34002-Flag=N;a21026-Avg=8,a21026-Flag=N;a21004-Avg=30,a21004-Flag=N"
        )
        head = {"QN": f"202612{day:02d}{hour:02d}5900001", "ST": "22", "CN": "2061", "PW": "123456"}
        return parse_frame(build(head | {"MN": f"BENCH{i:04d}", "Flag": 4}, cp))

    def round_(day: int, hours: range, pm25: float) -> list[float]:
        times = []
        for hour in hours:
            for i in range(args.stations):
                p = packet(i, day, hour, pm25)
                t = time.perf_counter()
                service.store_packet(p)  # type: ignore[arg-type]
                times.append(time.perf_counter() - t)
        return times

    real_hook = alarms.after_store
    alarms.after_store = lambda *_a, **_k: None
    round_(1, range(1), 40)  # warm up (imports, first connection)
    off = round_(2, range(args.hours), 40)
    alarms.after_store = real_hook
    round_(3, range(1), 40)  # warm up the rules' path
    on = round_(4, range(args.hours), 40)
    opening = round_(5, range(2), 200)  # the second hour opens a case per station
    with unit_of_work(write=False) as s:
        cases = s.scalar(select(func.count()).select_from(Case).where(Case.source == "sensor"))
    t = time.perf_counter()
    summary = alarms.silence_job()
    silence_s = time.perf_counter() - t

    def line(name: str, xs: list[float]) -> str:
        ms = sorted(x * 1000 for x in xs)
        p95 = ms[int(len(ms) * 0.95) - 1]
        return (
            f"{name:<34} {len(xs):>5} packets  median {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms"
            f"  {len(xs) / sum(xs):7.1f} packets/s"
        )

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"SQLite (WAL, synchronous=FULL) in {folder}; {args.stations} air stations, {args.hours} hours each"
    )
    print(line("hourly packet, rules off", off))
    print(line("hourly packet, rules on", on))
    opened = opening[args.stations :]
    print(line("hourly packet that opens a case", opened))
    print(f"sensor cases opened: {cases}")
    print(f"station-silence over {args.stations} stations: {silence_s * 1000:.1f} ms ({summary})")


if __name__ == "__main__":
    main()
