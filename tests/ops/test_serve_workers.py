"""`civicgrid serve --workers N`: N processes with a socket each, a crashed worker replaced, SIGTERM stops
all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "civicgrid"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _workers(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid), "-f", "multiprocessing"], capture_output=True, text=True)
    kids = [int(p) for p in out.stdout.split()]
    # The spawn context's resource tracker is a child too; workers are the ones listening.
    return [k for k in kids if "resource_tracker" not in Path(f"/proc/{k}/cmdline").read_text()]


def test_workers_share_the_port_and_are_replaced_and_stopped(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(
        os.environ, CIVICGRID_DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}", CIVICGRID_SWEEPER_INTERVAL_S="0"
    )
    subprocess.run([str(BIN), "migrate"], env=env, check=True, capture_output=True, timeout=120)
    proc = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port), "--workers", "2", "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_workers(proc.pid)) < 2:
            time.sleep(0.2)
        first = _workers(proc.pid)
        assert len(first) == 2
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200

        os.kill(first[0], signal.SIGKILL)  # a worker crashes: the parent starts another
        while time.monotonic() < deadline and (
            set(_workers(proc.pid)) & {first[0]} or len(_workers(proc.pid)) < 2
        ):
            time.sleep(0.2)
        now = _workers(proc.pid)
        assert len(now) == 2 and first[0] not in now and first[1] in now

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(40) == 0
        assert all(not Path(f"/proc/{w}").exists() for w in now)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = subprocess.run(
            [str(BIN), "serve", "--port", str(port), "--workers", "2"],
            env=dict(os.environ, CIVICGRID_DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert r.returncode == 2
    assert f"无法监听 127.0.0.1:{port}" in r.stderr
