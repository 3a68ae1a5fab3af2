"""Benchmark ``make demo`` on a fresh machine (issue 13: first page in ≤ 60 s; before the bulk history 174 s):
``civicgrid init --demo`` into a new SQLite file, then ``civicgrid serve`` until its first page answers, then
``civicgrid audit verify`` on the result (the hash chain the bulk writer produced must verify).

Run: .venv/bin/python bench/bench_demo.py [--cases 5000]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent / "civicgrid"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=5000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cg-bench-demo-"))
    db = folder / "civicgrid.db"
    env = dict(os.environ, CIVICGRID_DATABASE_URL=f"sqlite:///{db}", CIVICGRID_DATA_DIR=str(folder))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; load average before: {os.getloadavg()[0]:.2f}"
    )
    start = time.perf_counter()
    subprocess.run([str(BIN), "init", "--demo", "--cases", str(args.cases)], env=env, check=True)
    init_s = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    init_cpu = usage.ru_utime + usage.ru_stime  # steadier than the wall time on a shared machine
    port = free_port()
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
            if server.poll() is not None:
                raise SystemExit("civicgrid serve exited")
        first_page_s = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(10)
    con = sqlite3.connect(db)
    cases, events, photos = (
        con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("cases", "case_events", "attachments")
    )
    con.close()
    size_mb = db.stat().st_size / 1e6
    start = time.perf_counter()
    verify = subprocess.run([str(BIN), "audit", "verify"], env=env, capture_output=True, text=True)
    verify_s = time.perf_counter() - start
    print(
        f"history: {args.cases} cases asked, {cases} written ({events} events, {photos} photos), "
        f"{size_mb:.0f} MB"
    )
    print(f"civicgrid init --demo: {init_s:.1f} s (CPU {init_cpu:.1f} s)")
    print(f"first page answered: {first_page_s:.1f} s after the start (target ≤ 60 s)")
    print(f"civicgrid audit verify: {'ok' if verify.returncode == 0 else 'FAILED'} in {verify_s:.1f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if verify.returncode != 0:
        print(verify.stdout[-2000:], verify.stderr[-2000:])
        raise SystemExit(1)


if __name__ == "__main__":
    main()
