"""Benchmark point-in-grid lookup on the generated demo district.

Run: .venv/bin/python bench/bench_locate.py [--points 2000000] [--singles 20000]
Points are uniform in the district's bounding box (so a share of them fall outside the irregular outline).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from civicgrid.demo.district import generate_demo_district
from civicgrid.geo.locator import GridLocator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=2_000_000)
    parser.add_argument("--singles", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    plan = generate_demo_district()
    generated = time.perf_counter() - start
    start = time.perf_counter()
    locator = GridLocator([g.code for g in plan.grids], [g.geometry for g in plan.grids])
    built = time.perf_counter() - start
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} CPUs, numpy {np.__version__}")
    print(f"demo district: {len(plan.grids)} grids, generated in {generated:.2f} s")
    print(
        f"index built in {built:.2f} s (raster {locator.resolution_m:.1f} m, "
        f"{locator.straddle_fraction:.1%} of raster cells straddle a boundary)"
    )

    rng = np.random.default_rng(args.seed)
    x0, y0, x1, y1 = plan.district.geometry.bounds
    lng = rng.uniform(x0, x1, args.points)
    lat = rng.uniform(y0, y1, args.points)

    locator.locate_many(lng[:1000], lat[:1000])  # warm up
    start = time.perf_counter()
    codes = locator.locate_many(lng, lat)
    bulk = time.perf_counter() - start
    inside = sum(1 for c in codes if c is not None)
    print(f"bulk locate_many: {args.points:,} points in {bulk:.3f} s = {args.points / bulk:,.0f} points/s")
    print(f"  ({inside / args.points:.1%} inside the district)")
    start = time.perf_counter()
    indices = locator.locate_index_many(lng, lat)
    bulk_idx = time.perf_counter() - start
    print(f"bulk locate_index_many: {args.points / bulk_idx:,.0f} points/s")

    n = min(args.points, 200_000)
    start = time.perf_counter()
    exact = locator.locate_many_exact(lng[:n], lat[:n])
    exact_t = time.perf_counter() - start
    assert (exact == codes[:n]).all()
    print(f"exact STRtree only (reference): {n / exact_t:,.0f} points/s, answers identical on {n:,} points")

    xs, ys = lng[: args.singles].tolist(), lat[: args.singles].tolist()
    start = time.perf_counter()
    singles = [locator.locate(a, b) for a, b in zip(xs, ys, strict=True)]
    single_t = time.perf_counter() - start
    assert singles == list(codes[: args.singles])
    print(
        f"single locate: {args.singles:,} calls in {single_t:.3f} s = {args.singles / single_t:,.0f} calls/s "
        f"({single_t / args.singles * 1e6:.2f} µs each)"
    )
    start = time.perf_counter()
    for a, b in zip(xs[:2000], ys[:2000], strict=True):
        locator.nearest(a + 0.05, b)
    near_t = time.perf_counter() - start
    print(f"nearest (outside points): {2000 / near_t:,.0f} calls/s")
    del indices


if __name__ == "__main__":
    main()
