"""Drill: several app processes (as on several hosts) against one PostgreSQL primary with a streaming replica
serving the leader dashboard and the analytics reads.

The primary is the machine's cluster on 127.0.0.1:5432; the replica is a second cluster made here with
``pg_basebackup -R`` into a temporary directory and started with ``pg_ctl`` on a free port. The primary must
accept replication connections from loopback (``host replication all 127.0.0.1/32 trust`` in pg_hba.conf).
Skipped with the reason when that is not available, but failing under CI=true.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent / "civicgrid"
PRIMARY = ("127.0.0.1", 5432)
MAX_LAG_S = 2.0
_AT_LEAST_PRIMARY = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


def _need(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _pg_bin(name: str) -> str | None:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _psql(sql: str, port: int = PRIMARY[1], db: str = "postgres") -> str:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=db, autocommit=True) as conn:
        cur = conn.execute(sql)
        row = cur.fetchone() if cur.description else None
        return "" if row is None else str(row[0])


def _wait(check: Callable[[], Any], timeout: float, what: str, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            last = check()
            if last:
                return last
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


@contextlib.contextmanager
def _replica(folder: Path) -> Iterator[tuple[int, Callable[[], None]]]:
    """A hot standby of the primary on a free port; yields (port, stop)."""
    data = folder / "replica"
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    backup = subprocess.run(
        _as_postgres(
            [
                _pg_bin("pg_basebackup") or "pg_basebackup",
                *("-h", PRIMARY[0], "-p", str(PRIMARY[1]), "-U", "postgres"),
                *("-D", str(data), "-R", "-X", "stream", "-c", "fast"),
            ]
        ),
        capture_output=True,
        text=True,
    )
    _need(
        backup.returncode == 0,
        f"pg_basebackup from the primary failed (allow `host replication all 127.0.0.1/32 trust` in "
        f"pg_hba.conf): {backup.stderr.strip()[-300:]}",
    )
    # A hot standby needs at least the primary's values of these.
    same = "".join(f"{k} = {_psql(f'SHOW {k}')}\n" for k in _AT_LEAST_PRIMARY)
    (data / "postgresql.conf").write_text(
        f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{folder}'\n"
        "hot_standby = on\nshared_buffers = 32MB\nhot_standby_feedback = on\n"
        f"wal_receiver_status_interval = 1s\n{same}"
    )
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    if os.geteuid() == 0:
        for p in (data / "postgresql.conf", data / "pg_hba.conf"):
            shutil.chown(p, "postgres")
    pg_ctl = _pg_bin("pg_ctl") or "pg_ctl"
    log = folder / "replica.log"
    log.touch()
    if os.geteuid() == 0:
        shutil.chown(log, "postgres")
    started = subprocess.run(
        _as_postgres([pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"]),
        capture_output=True,
        text=True,
    )
    assert started.returncode == 0, log.read_text(errors="replace")[-2000:]
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            subprocess.run(
                _as_postgres([pg_ctl, "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"]),
                capture_output=True,
            )
            stopped = True

    try:
        yield port, stop
    except BaseException:
        print(log.read_text(errors="replace")[-2000:])
        raise
    finally:
        stop()


def _healthy(base: str) -> bool:
    return httpx.get(base + "/healthz", timeout=2).status_code == 200


@contextlib.contextmanager
def _apps(env: dict[str, str], folder: Path, names: tuple[str, ...]) -> Iterator[list[str]]:
    """One `civicgrid serve` per name (as on separate hosts), started together; yields their base URLs."""
    procs: list[subprocess.Popen[bytes]] = []
    bases = []
    try:
        for name in names:
            port = _free_port()
            with (folder / f"{name}.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        [str(BIN), "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            _wait(partial(_healthy, base), 120, base)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _reported(client: httpx.Client, base: str) -> tuple[int, str, str | None]:
    """The leader dashboard's 上报数 KPI, where it was read, and the reported replica lag."""
    r = client.get(base + "/leader", timeout=10)
    assert r.status_code == 200, r.text[:300]
    m = re.search(r'data-kpi="reported">(\d+)<', r.text)
    assert m, "the dashboard shows 上报数"
    return int(m.group(1)), r.headers["X-CivicGrid-Read-Source"], r.headers.get("X-CivicGrid-Replica-Lag")


def test_two_app_hosts_one_primary_and_a_streaming_replica() -> None:
    _need(
        bool(_pg_bin("pg_basebackup")) and bool(_pg_bin("pg_ctl")), "pg_basebackup/pg_ctl are not installed"
    )
    _need(os.geteuid() != 0 or shutil.which("runuser") is not None, "runuser is needed to start PostgreSQL")
    try:
        _psql("SELECT 1")
    except Exception as exc:
        _need(False, f"no PostgreSQL primary on 127.0.0.1:5432: {exc}")

    folder = Path(tempfile.mkdtemp(prefix="cg-replica-"))
    folder.chmod(0o755)
    dbname = f"civicgrid_drill_{os.getpid()}"
    primary_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{dbname}"
    try:
        _psql(f'DROP DATABASE IF EXISTS "{dbname}"')
        _psql(f'CREATE DATABASE "{dbname}"')
        env = dict(
            os.environ,
            CIVICGRID_DATABASE_URL=primary_url,
            CIVICGRID_DATA_DIR=str(folder / "app"),
            CIVICGRID_SWEEPER_INTERVAL_S="0",
        )
        subprocess.run(
            [str(BIN), "init", "--demo", "--cases", "60"], env=env, check=True, capture_output=True
        )
        with _replica(folder) as (rport, stop_replica):
            replica_url = f"postgresql+psycopg://postgres@127.0.0.1:{rport}/{dbname}"
            _wait(lambda: _psql("SELECT pg_is_in_recovery()", rport, dbname) == "True", 30, "the standby")
            env |= dict(
                CIVICGRID_READ_DATABASE_URL=replica_url,
                CIVICGRID_READ_MAX_LAG_S=str(MAX_LAG_S),
                CIVICGRID_READ_RETRY_S="1",
            )
            with _apps(env, folder, ("a", "b")) as (a, b), httpx.Client() as leader:
                token = httpx.post(
                    b + "/api/v1/auth/token", data={"username": "leader", "password": "civicgrid2026"}
                ).json()["access_token"]
                leader.cookies.set("civicgrid_token", token)
                feature = httpx.get(a + "/api/v1/grids", params={"street": "320508003"}, timeout=60).json()[
                    "features"
                ][0]
                ring = feature["geometry"]["coordinates"][0][:-1]
                lng, lat = sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)

                def report(base: str, i: int) -> None:
                    r = httpx.post(
                        base + "/api/v1/reports",
                        json={
                            "description": f"副本演练上报 {i}",
                            "lng": lng,
                            "lat": lat + i * 1e-5,
                            "category_code": "E0899",
                        },
                        timeout=30,
                    )
                    assert r.status_code == 201, r.text

                # 1. B reads the dashboard from the replica and reports its lag.
                n0, source, lag = _wait(
                    lambda: (x := _reported(leader, b))[1] == "replica" and x, 10, "replica"
                )
                assert lag is not None and 0 <= float(lag) <= MAX_LAG_S

                # 2. A report written through A (the primary) shows on B's dashboard once the replica has it.
                report(a, 0)  # the first report loads the classifier: not part of the measurement
                n0 += 1
                _wait(lambda: _reported(leader, b)[0] == n0, 30, "the first report on B")
                report(a, 1)
                started = time.monotonic()
                seen = _wait(lambda: (x := _reported(leader, b))[0] == n0 + 1 and x, 10, "the report on B")
                visible_after = time.monotonic() - started
                assert seen[1] == "replica"
                print(
                    f"\nreport on A visible on B's replica-read dashboard after {visible_after * 1000:.0f} ms"
                )
                assert visible_after < 5

                # Writes go to the primary even from a process with a read URL (the replica refuses writes).
                report(b, 2)
                _wait(lambda: _reported(leader, b)[0] == n0 + 2, 10, "B's own report")

                # 3. Replay paused: the replica falls behind. Until it is MAX_LAG_S behind B may still read it
                # (stale, but labelled); after that B reads the primary and sees the new report at once.
                _psql("SELECT pg_wal_replay_pause()", rport, dbname)
                report(a, 3)
                count, source, lag = _reported(leader, b)
                assert (count, source) in {(n0 + 2, "replica"), (n0 + 3, "primary")}
                count, source, lag = _wait(
                    lambda: (x := _reported(leader, b))[1] == "primary" and x, 3 * MAX_LAG_S + 5, "fallback"
                )
                assert count == n0 + 3
                assert lag is not None and float(lag) > MAX_LAG_S  # the lag that sent it there is reported
                _psql("SELECT pg_wal_replay_resume()", rport, dbname)
                count, source, lag = _wait(
                    lambda: (x := _reported(leader, b))[1] == "replica" and x, 15, "the replica again"
                )
                assert count == n0 + 3

                # 4. The replica stops: the dashboard keeps answering, from the primary, with fresh figures.
                stop_replica()
                report(a, 4)
                for base in (b, a):
                    count, source, lag = _reported(leader, base)
                    assert (count, source, lag) == (n0 + 4, "primary", None)
                r = httpx.get(
                    b + "/api/v1/analytics/dashboard",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                assert r.status_code == 200 and r.headers["X-CivicGrid-Read-Source"] == "primary"
    finally:
        with contextlib.suppress(Exception):
            _psql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)
