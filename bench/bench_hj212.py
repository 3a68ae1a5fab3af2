"""HJ 212 parse rate on one core: framing a byte stream and parsing each frame (CRC, header, CP fields).

Run: .venv/bin/python bench/bench_hj212.py [--packets 200000]
The stream is realistic 2017 real-time air packets (7 pollutants with Rtd and Flag each, ~320 bytes), fed
to one Framer in 64 KiB reads as a TCP listener receives them. Goal (issue 14): ≥ 50,000 packets/s, one core.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from civicgrid.monitoring.framing import Framer
from civicgrid.monitoring.hj212 import build, cp_text, parse_frame

CODES = ("a34004", "a34002", "a21026", "a21004", "a21005", "a05024", "a01001")


def packet(i: int) -> bytes:
    values = {c: {"Rtd": f"{(i * 7 + k * 13) % 300 + 0.5:.1f}", "Flag": "N"} for k, c in enumerate(CODES)}
    cp = cp_text(values, DataTime=f"20261130{(i // 3600) % 24:02d}{(i // 60) % 60:02d}{i % 60:02d}")
    qn = f"20261130100000{i % 1000:03d}"
    return build(
        {"QN": qn, "ST": "22", "CN": "2011", "PW": "123456", "MN": f"AIR{i % 300:04d}", "Flag": 5}, cp
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packets", type=int, default=200_000)
    args = parser.parse_args()
    stream = b"".join(packet(i) for i in range(args.packets))
    chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
    best = best_cpu = 0.0
    for _ in range(3):
        framer = Framer()
        parsed = 0
        start, cpu = time.perf_counter(), time.process_time()
        for chunk in chunks:
            for frame in framer.feed(chunk):
                parse_frame(frame)
                parsed += 1
        elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        assert parsed == args.packets
        best = max(best, parsed / elapsed)
        best_cpu = max(best_cpu, parsed / cpu_s)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"{args.packets:,} packets, {len(stream) / args.packets:.0f} bytes each, best of 3 runs on one core"
    )
    print(f"parse rate: {best:,.0f} packets/s (wall clock)")
    print(f"parse rate: {best_cpu:,.0f} packets per CPU-second (steadier on a shared machine)")


if __name__ == "__main__":
    main()
