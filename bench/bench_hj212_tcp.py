"""HJ 212 end to end: 1,000 stations connected over TCP to a real `civicgrid hj212 serve`, packets → rows.

Run: .venv/bin/python bench/bench_hj212_tcp.py [--stations 1000] [--packets 10] [--rate 5000] [--seconds 10]

A temporary SQLite database gets the demo district (`civicgrid init --demo --cases 0`) and N stations; the
listener runs as its own process (`civicgrid hj212 serve`), the stations are asyncio connections of this
process. Every packet is a 2017 real-time air packet (7 pollutants, Flag=5: the station waits for the 9014
answer) with a new DataTime, so every packet stores 7 new rows.

1. Throughput: every station sends its packets back to back, each after the answer to the previous one
   (1,000 packets in flight); packets answered per second.
2. Answer latency at an offered load: the stations together send `--rate` packets/s (each station on its own
   timer; a late answer delays that station's next packet); p50/p99 of send → 9014 answer.
Then the stored rows are counted and the listener's RSS (VmHWM, its peak) is read from /proc.
Goals (issue 14): ≥ 5,000 packets/s, answer p99 ≤ 100 ms, RSS ≤ 300 MiB on this 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

BIN = Path(sys.executable).parent / "civicgrid"
CODES = ("a34004", "a34002", "a21026", "a21004", "a21005", "a05024", "a01001")
PW = "135790"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(folder: Path, n: int) -> dict[str, str]:
    env = dict(
        os.environ,
        CIVICGRID_DATABASE_URL=f"sqlite:///{folder / 'tcp.db'}",
        CIVICGRID_DATA_DIR=str(folder),
        CIVICGRID_SWEEPER_INTERVAL_S="0",
    )
    subprocess.run([str(BIN), "init", "--demo", "--cases", "0"], env=env, check=True, capture_output=True)
    os.environ.update(env)  # before civicgrid is imported: its settings read the environment once
    from sqlalchemy import select

    from civicgrid.db import unit_of_work
    from civicgrid.models import Area
    from civicgrid.monitoring import stations

    with unit_of_work() as s:
        grids = list(s.execute(select(Area.centroid_lng, Area.centroid_lat).where(Area.level == "grid")))
        for i in range(n):
            lng, lat = grids[i % len(grids)]
            stations.add(s, stations.StationIn(mn(i), "air", f"压测站 {i}", lng, lat, PW))
    return env


def mn(i: int) -> str:
    return f"BENCHAIR{i:05d}"


def packet(i: int, k: int) -> bytes:
    from civicgrid.monitoring.hj212 import build, cp_text

    at = datetime(2026, 11, 1) + timedelta(seconds=k)
    values = {c: {"Rtd": f"{(i * 7 + k * 13 + j) % 300 + 0.5:.1f}", "Flag": "N"} for j, c in enumerate(CODES)}
    qn = at.strftime("%Y%m%d%H%M%S") + "000"
    cp = cp_text(values, DataTime=at.strftime("%Y%m%d%H%M%S"))
    return build({"QN": qn, "ST": "22", "CN": "2011", "PW": PW, "MN": mn(i), "Flag": 5}, cp)


async def connect(port: int, n: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    conns = []
    for i in range(n):
        conns.append(await asyncio.open_connection("127.0.0.1", port))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    return conns


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, frame: bytes) -> float:
    start = time.perf_counter()
    writer.write(frame)
    answer = await asyncio.wait_for(reader.readline(), 900)
    if b"CN=9014" not in answer:
        raise RuntimeError(f"unexpected answer: {answer[:120]!r}")
    return time.perf_counter() - start


async def throughput(conns: list, per_station: int, first_k: int) -> tuple[int, float, list[float]]:
    frames = [[packet(i, first_k + k) for k in range(per_station)] for i in range(len(conns))]
    lat: list[float] = []

    async def station(i: int) -> None:
        r, w = conns[i]
        for frame in frames[i]:
            lat.append(await exchange(r, w, frame))

    start = time.perf_counter()
    await asyncio.gather(*(station(i) for i in range(len(conns))))
    return len(conns) * per_station, time.perf_counter() - start, lat


async def offered(conns: list, rate: float, seconds: float, first_k: int) -> tuple[int, float, list[float]]:
    n = len(conns)
    period = n / rate  # each station's interval between packets
    count = int(seconds / period)
    frames = [[packet(i, first_k + k) for k in range(count)] for i in range(n)]
    lat: list[float] = []

    async def station(i: int) -> None:
        r, w = conns[i]
        await asyncio.sleep(random.random() * period)
        due = time.perf_counter()
        for frame in frames[i]:
            lat.append(await exchange(r, w, frame))
            due += period
            await asyncio.sleep(max(0.0, due - time.perf_counter()))

    start = time.perf_counter()
    await asyncio.gather(*(station(i) for i in range(n)))
    return n * count, time.perf_counter() - start, lat


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def rss_mib(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--packets", type=int, default=10, help="packets per station in the throughput run")
    parser.add_argument("--rate", type=float, default=5000.0, help="offered load of the latency run")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cg-hj212-tcp-"))
    t0 = time.perf_counter()
    env = prepare(folder, args.stations)
    print(f"setup: demo district + {args.stations} stations in {time.perf_counter() - t0:.0f} s")
    port = free_port()
    server = subprocess.Popen(
        [str(BIN), "hj212", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)

        async def run() -> None:
            conns = await connect(port, args.stations)
            print(f"{len(conns)} stations connected; listener RSS {rss_mib(server.pid)[0]:.0f} MiB")
            sent, took, lat = await throughput(conns, args.packets, 0)
            print(
                f"throughput: {sent:,} packets in {took:.1f} s = {sent / took:,.0f} packets/s "
                f"(answer p50 {pct(lat, 50):.0f} ms, p99 {pct(lat, 99):.0f} ms with {len(conns)} in flight)"
            )
            print(f"listener RSS after it: {rss_mib(server.pid)[0]:.0f} MiB")
            if sent / took < args.rate:
                print(f"offered-load run skipped: {args.rate:,.0f}/s is above the measured throughput")
                for _, w in conns:
                    w.close()
                return
            sent, took, lat = await offered(conns, args.rate, args.seconds, args.packets)
            print(
                f"offered {args.rate:,.0f}/s for {args.seconds:.0f} s: {sent:,} packets in {took:.1f} s = "
                f"{sent / took:,.0f} packets/s; answer p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms"
            )
            for _, w in conns:
                w.close()

        asyncio.run(run())
        rss, peak = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    from sqlalchemy import func, select

    from civicgrid.db import unit_of_work
    from civicgrid.models import Reading

    with unit_of_work(write=False) as s:
        rows = s.scalar(select(func.count(Reading.id)))
    print(f"rows stored: {rows:,} (7 per packet)")
    print(f"listener RSS {rss:.0f} MiB, peak {peak:.0f} MiB")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
