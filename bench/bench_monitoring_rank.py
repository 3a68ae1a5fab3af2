"""Monthly ranking of 300 air stations from a month of hourly data (issue 14 goal: ranked in ≤ 1 s).

Run: .venv/bin/python bench/bench_monitoring_rank.py [--stations 300] [--month 2026-11]
A fresh SQLite database (migrated) in a temporary folder gets ``--stations`` air stations in 10 streets and a
month of hourly aggregates (PM2.5, PM10, SO2, NO2, CO, O3) written straight into ``station_aggregates``; the
days are then aggregated from those hours (``aggregate.aggregate_days``, timed apart) and the month ranked by
station and by street (``ranking.monthly``, best of 3).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=300)
    parser.add_argument("--month", default="2026-11")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="civicgrid-bench-rank-"))
    os.environ["CIVICGRID_DATABASE_URL"] = f"sqlite:///{tmp / 'bench.db'}"
    os.environ["CIVICGRID_DATA_DIR"] = str(tmp / "data")
    os.environ.setdefault("CIVICGRID_ENV", "development")

    from sqlalchemy import insert

    from civicgrid.db import unit_of_work
    from civicgrid.migrate import upgrade
    from civicgrid.models import Station, utcnow
    from civicgrid.models.monitoring import StationAggregate
    from civicgrid.monitoring import aggregate, ranking
    from civicgrid.monitoring.means import HOUR, day_start, month_days
    from civicgrid.settings import get_settings

    upgrade(get_settings().database_url)
    days = month_days(args.month)
    start = day_start(days[0])
    hours = [start + i * HOUR for i in range(24 * len(days))]
    rnd = random.Random(14)
    bases = {"a34004": 45.0, "a34002": 75.0, "a21026": 9.0, "a21004": 32.0, "a21005": 0.8, "a05024": 80.0}
    t0 = time.perf_counter()
    with unit_of_work() as s:
        s.execute(
            insert(Station),
            [
                {
                    "mn": f"BENCHAIR{i:04d}",
                    "kind": "air",
                    "name": f"空气站{i:03d}",
                    "lng": 120.6,
                    "lat": 31.3,
                    "grid_code": f"32050800{i % 10 + 1}001001",
                    "street_code": f"32050800{i % 10 + 1}",
                    "password": "123456",
                    "lake": False,
                    "interval_s": 60,
                    "permit_limits": {},
                    "active": True,
                    "created_at": utcnow(),
                }
                for i in range(args.stations)
            ],
        )
        ids = [sid for (sid,) in s.execute(Station.__table__.select().with_only_columns(Station.id))]
        now = utcnow()
        rows = 0
        for sid in ids:
            batch = []
            scale = 0.6 + 0.8 * rnd.random()
            for k, at in enumerate(hours):
                diurnal = 1 + 0.3 * math.sin(2 * math.pi * (k % 24) / 24)
                for code, base in bases.items():
                    missing = rnd.random() < 0.03
                    value = None if missing else base * scale * diurnal * (0.7 + 0.6 * rnd.random())
                    batch.append(
                        {
                            "station_id": sid,
                            "window": "hour",
                            "code": code,
                            "at": at,
                            "mean": value,
                            "valid": 0 if missing else 1,
                            "flag": "D" if missing else "N",
                            "flags": {"D": 1} if missing else {"N": 1},
                            "source": "station",
                            "computed_at": now,
                        }
                    )
            s.execute(insert(StationAggregate), batch)
            rows += len(batch)
    t_load = time.perf_counter() - t0

    t0 = time.perf_counter()
    with unit_of_work() as s:
        for sid in ids:
            station = s.get(Station, sid)
            assert station is not None
            aggregate.aggregate_days(s, station, days)
    t_days = time.perf_counter() - t0

    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    results: dict[str, list[ranking.RankRow]] = {}
    for by in ("station", "street"):
        best = best_cpu = float("inf")
        for _ in range(3):
            with unit_of_work(write=False) as s:
                t0, c0 = time.perf_counter(), time.process_time()
                results[by] = ranking.monthly(s, args.month, "air", by)
                best = min(best, time.perf_counter() - t0)
                best_cpu = min(best_cpu, time.process_time() - c0)
        timings[by], cpu[by] = best, best_cpu

    first = results["station"][0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"data: {args.stations} air stations, {len(days)} days, {rows:,} hourly aggregate rows (SQLite)")
    print(f"synthesise hourly rows: {t_load:.1f} s; aggregate days from hours: {t_days:.1f} s")
    print(
        f"rank by station: {timings['station'] * 1000:.0f} ms wall, {cpu['station'] * 1000:.0f} ms CPU "
        f"({len(results['station'])} rows); by street: {timings['street'] * 1000:.0f} ms wall, "
        f"{cpu['street'] * 1000:.0f} ms CPU ({len(results['street'])} rows); best of 3"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f}")
    v = first.values
    print(f"first: {first.key} index {v['index']} good {v['good_ratio']} % days {first.days}")
    ok = max(timings.values()) <= 1.0
    print("goal ≤ 1 s: " + ("met" if ok else "NOT met"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
