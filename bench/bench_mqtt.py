"""MQTT → stored: how fast `civicgrid mqtt ingest` workers drain a shared subscription into the database.

Run: .venv/bin/python bench/bench_mqtt.py [--messages 5000] [--stations 300] [--processes 1 2] [--kind hj212]

A private Mosquitto (a temporary config on a free loopback port, no per-client queue limit) and a temporary
SQLite database with the demo district and N stations. For each process count P: P persistent sessions of one
share group are opened, `--messages` messages are published with QoS 1 (2017 real-time air packets of 7
pollutants, or the same readings as JSON), then P `civicgrid mqtt ingest` processes start and the time from
their start to the last row committed is measured (the stored-row count is polled). Every message is new
(its own DataTime), so each stores 7 rows; the run checks that exactly messages × 7 rows were stored.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

BIN = Path(sys.executable).parent / "civicgrid"
CODES = ("a34004", "a34002", "a21026", "a21004", "a21005", "a05024", "a01001")
PW = "135790"
INGEST = (str(BIN), "mqtt", "ingest", "--workers", "1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mn(i: int) -> str:
    return f"BENCHMQ{i:05d}"


def prepare_db(folder: Path, n: int) -> dict[str, str]:
    env = dict(
        os.environ,
        CIVICGRID_DATABASE_URL=f"sqlite:///{folder / 'mqtt.db'}",
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


def start_broker(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_inflight_messages 0\n"
    )
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen(
        [mosquitto, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("mosquitto did not start")


def payload(kind: str, i: int, k: int) -> bytes:
    at = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=k)
    values = {c: (i * 7 + k * 13 + j) % 300 + 0.5 for j, c in enumerate(CODES)}
    if kind == "json":
        return json.dumps({"ts": int(at.timestamp() * 1000), "values": values}).encode()
    from civicgrid.monitoring.hj212 import build, cp_text

    local = at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d%H%M%S")
    cp = cp_text({c: {"Rtd": v, "Flag": "N"} for c, v in values.items()}, DataTime=local)
    return build({"QN": local + "000", "ST": "22", "CN": "2011", "PW": PW, "MN": mn(i), "Flag": 4}, cp)


def open_session(port: int, client_id: str, group: str) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from civicgrid.monitoring.mqtt import topic_filters

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    done = threading.Event()
    c.on_subscribe = lambda *_: done.set()
    c.connect("127.0.0.1", port, clean_start=True, properties=props)
    c.loop_start()
    c.subscribe([(f, 1) for f in topic_filters(group)])
    assert done.wait(10)
    c.disconnect()
    c.loop_stop()


def publish(port: int, messages: list[tuple[str, bytes]]) -> float:
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    start = time.perf_counter()
    infos = [c.publish(topic, body, qos=1) for topic, body in messages]
    for info in infos:
        info.wait_for_publish(60)
    took = time.perf_counter() - start
    c.disconnect()
    c.loop_stop()
    return took


def stored_rows() -> int:
    from sqlalchemy import func, select

    from civicgrid.db import unit_of_work
    from civicgrid.models import Reading

    with unit_of_work(write=False) as s:
        return int(s.scalar(select(func.count(Reading.id))) or 0)


def run_once(
    env: dict[str, str], port: int, processes: int, kind: str, n: int, stations: int, k0: int
) -> None:
    group = f"bench{k0}"
    ids = [f"bench{k0}-p{p}" for p in range(processes)]
    for cid in ids:
        open_session(port, f"{cid}-1", group)
    topic = "civicgrid/stations/{}/" + kind
    messages = [(topic.format(mn(m % stations)), payload(kind, m % stations, k0 + m)) for m in range(n)]
    took = publish(port, messages)
    print(f"  published {n:,} {kind} messages (QoS 1) in {took:.1f} s = {n / took:,.0f}/s (queued)")
    before = stored_rows()
    target = before + n * len(CODES)
    start = time.perf_counter()
    workers = [
        subprocess.Popen(
            [*INGEST, "--broker", f"mqtt://127.0.0.1:{port}", "--group", group, "--client-id", cid],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for cid in ids
    ]
    try:
        rows = before
        while rows < target and time.perf_counter() - start < 900:
            time.sleep(0.5)
            rows = stored_rows()
        took = time.perf_counter() - start
    finally:
        for w in workers:
            w.send_signal(signal.SIGINT)
        for w in workers:
            w.wait(60)
    ok = "all stored once" if rows == target else f"MISMATCH: {rows - before:,} rows, expected {n * 7:,}"
    print(
        f"  {processes} ingest process(es): {n:,} messages stored in {took:.1f} s = "
        f"{n / took:,.0f} messages/s "
        f"({(rows - before) / took:,.0f} rows/s; includes ~process start-up) — {ok}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--stations", type=int, default=300)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--kind", choices=("hj212", "json"), default="hj212")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cg-mqtt-"))
    env = prepare_db(folder, args.stations)
    broker, port = start_broker(folder)
    try:
        for round_, processes in enumerate(args.processes):
            print(f"{processes} process(es), {args.kind}:")
            run_once(env, port, processes, args.kind, args.messages, args.stations, 100_000 * (round_ + 1))
    finally:
        broker.terminate()
        broker.wait(10)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
