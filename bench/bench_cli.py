"""Benchmark the command line's start: ``civicgrid --help`` and ``civicgrid locate`` (issue 13: ≤ 0.5 s for
``--help``; before the lazy imports 3.5 s and 6.9 s).

Run: .venv/bin/python bench/bench_cli.py [--runs 5]
``locate`` runs against a fresh SQLite database with the demo district (no history), built first, so the
figure includes what a user waits for: imports, settings, opening the database, building the spatial index.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "civicgrid"
BUILD = """
from civicgrid.db import unit_of_work
from civicgrid.demo.build import build_district
from civicgrid.migrate import upgrade
from civicgrid.settings import get_settings

upgrade(get_settings().database_url)
with unit_of_work() as s:
    build_district(s)
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + sys) seconds of each run; CPU is the steadier figure on a shared machine."""
    out, cpu = [], []
    for _ in range(runs):
        start, cpu0 = time.perf_counter(), _children_cpu()
        p = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True)
        out.append(time.perf_counter() - start)
        cpu.append(_children_cpu() - cpu0)
        if p.returncode != 0:
            raise SystemExit(f"civicgrid {' '.join(args)} failed: {p.stderr[-2000:]}")
    return out, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cg-bench-cli-"))
    env = dict(
        os.environ, CIVICGRID_DATABASE_URL=f"sqlite:///{folder / 'cli.db'}", CIVICGRID_DATA_DIR=str(folder)
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    build = [sys.executable, "-c", BUILD]
    subprocess.run(build, env=env, check=True, capture_output=True)
    print(f"demo district (no history) built in {time.perf_counter() - start:.1f} s")
    for label, cmd in (
        ("civicgrid --help", ["--help"]),
        ("civicgrid locate 120.62 31.31 --json", ["locate", "120.62", "31.31", "--json"]),
    ):
        times, cpu = timed(cmd, env, args.runs)
        print(
            f"{label}: median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
            f"max {max(times):.3f} s, CPU median {statistics.median(cpu):.3f} s ({args.runs} runs)"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
