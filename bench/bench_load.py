"""Load test on loopback against `civicgrid serve --workers N`, on SQLite and on PostgreSQL in the same run.

Two mixes, each run on every database asked for, each on a freshly built demo district (300 old cases):
- ``reports``: 70 % reads, 30 % report submissions, driven by wrk with a Lua script (as in issue 6), then
  a bare endpoint (/healthz) of the same stack for the ratio.
- ``staff``: reports and reads alongside staff actions through the real API, driven by a Python
  asyncio/httpx generator (``bench/loadgen.py``): each queued report is registered, dispatched, signed, fed
  back, sent for checking, checked and closed, each by the role that does it, so every action is legal
  when taken; plus PII reveals and logins. Per-kind counts, non-2xx, p50/p99.

On PostgreSQL a fresh database ``civicgrid_bench_<pid>`` is created on the local cluster, migrated, given the
demo district and dropped at the end; a sampler records what its sessions wait on during the run.

    .venv/bin/python bench/bench_load.py [--database sqlite|postgresql|both] [--mix reports|staff|both]
        [--duration 600] [--connections 16] [--workers 4] [--threads 1] [--pg-url postgresql+psycopg://...]

Needs Debian's wrk for the reports mix (installed by `make bench` when missing). Targets only 127.0.0.1
and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

import loadgen
import pgwaits

BIN = Path(sys.executable).parent / "civicgrid"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid, *map(int, out)]


LUA = r"""
local reads = {}
local posts = {}
local n, np, nr = 0, 0, 0
init = function(args)
  reads = %(reads)s
  posts = %(posts)s
end
request = function()
  n = n + 1
  if n %% 10 < 3 then
    np = np + 1
    local p = posts[(np %% #posts) + 1]
    return wrk.format("POST", "/api/v1/reports", {["Content-Type"] = "application/json"}, p)
  end
  nr = nr + 1
  local r = reads[(nr %% #reads) + 1]
  return wrk.format("GET", r[1], r[2] and {["Authorization"] = r[2]} or {})
end
"""


def lua_table(items: Sequence[object]) -> str:
    def enc(x: object) -> str:
        if isinstance(x, list):
            return "{" + ",".join(enc(y) for y in x) + "}"
        if x is None:
            return "nil"
        return json.dumps(x, ensure_ascii=False)

    return "{" + ",".join(enc(x) for x in items) + "}"


def parse_wrk(out: str) -> dict[str, float]:
    def to_ms(v: str) -> float:
        num = float(re.match(r"[\d.]+", v).group())  # type: ignore[union-attr]
        return (
            num / 1000
            if v.endswith("us")
            else num * 1000
            if v.endswith("s") and not v.endswith("ms")
            else num
        )

    res: dict[str, float] = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+\w+)", out)
        res[f"p{pct}_ms"] = to_ms(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["errors"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = float(sum(map(int, m.groups()))) if m else 0.0
    res["requests"] = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return res


# --- The stack under test: a database, the demo district, `civicgrid serve` ---------------------------------


@dataclass
class Stack:
    database: str
    base: str
    pids: list[int]
    db_url: str
    token: str = ""
    points: list[tuple[float, float]] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


def _pg_exec(admin_url: str, sql: str) -> None:
    import psycopg

    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def stack(database: str, args: argparse.Namespace) -> Iterator[Stack]:
    folder = Path(tempfile.mkdtemp(prefix=f"cg-load-{database}-"))
    dbname = f"civicgrid_bench_{os.getpid()}"
    if database == "sqlite":
        url = f"sqlite:///{folder / 'load.db'}"
    else:
        url = args.pg_url.rsplit("/", 1)[0] + f"/{dbname}"
        _pg_exec(args.pg_url, f'DROP DATABASE IF EXISTS "{dbname}"')
        _pg_exec(args.pg_url, f'CREATE DATABASE "{dbname}"')
    env = dict(
        os.environ,
        CIVICGRID_DATABASE_URL=url,
        CIVICGRID_DATA_DIR=str(folder),
        CIVICGRID_SWEEPER_INTERVAL_S="0",
    )
    server: subprocess.Popen[bytes] | None = None
    log: Any = subprocess.DEVNULL
    if args.server_log:
        log = open(f"{args.server_log}.{database}", "ab")  # noqa: SIM115 - closed in finally
    try:
        subprocess.run(
            [str(BIN), "init", "--demo", "--cases", "300"], env=env, check=True, capture_output=True
        )
        port = free_port()
        server = subprocess.Popen(
            [
                *(str(BIN), "serve", "--port", str(port)),
                *("--workers", str(args.workers), "--threads", str(args.threads)),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        time.sleep(5)  # one worker answers /healthz; let the others finish starting too
        s = Stack(database, base, children(server.pid), url)
        s.token = httpx.post(
            base + "/api/v1/auth/token",
            data={"username": "operator", "password": "civicgrid2026"},
            timeout=60,
        ).json()["access_token"]
        grids = httpx.get(base + "/api/v1/grids", params={"street": "320508003"}, timeout=60).json()[
            "features"
        ][:200]
        for f in grids:
            ring = f["geometry"]["coordinates"][0]
            s.points.append((sum(p[0] for p in ring[:-1]) / 4, sum(p[1] for p in ring[:-1]) / 4))
        # Case numbers run per category and day (at most 9,999), so the reports spread over the categories, as
        # a district's reports do.
        services = httpx.get(base + "/open311/v2/services.json", timeout=60).json()
        s.codes = [x["service_code"] for x in services if x["service_code"] != "E0899"]
        yield s
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        if log is not subprocess.DEVNULL:
            log.close()
        if database == "postgresql":
            with contextlib.suppress(Exception):
                _pg_exec(args.pg_url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def sampling(s: Stack) -> Iterator[pgwaits.Sampler | None]:
    """On PostgreSQL, sample what the bench database's sessions wait on while the block runs."""
    if s.database != "postgresql":
        yield None
        return
    sampler = pgwaits.Sampler(s.db_url)
    sampler.start()
    try:
        yield sampler
    finally:
        sampler.stop()


# --- Mix 1: reads and reports, wrk --------------------------------------------------------------------------


def reports_mix(s: Stack, args: argparse.Namespace) -> dict[str, Any]:
    tracked = []
    for i, (lng, lat) in enumerate(s.points[:20]):
        r = httpx.post(
            s.base + "/api/v1/reports",
            json={"description": f"负载测试样例 {i}", "lng": lng, "lat": lat, "category_code": "E0899"},
            timeout=60,
        ).json()
        tracked.append((r["number"], r["query_code"]))
    reads: list[object] = []
    for number, code in tracked:
        reads.append([f"/api/v1/track/{number}?code={code}", None])
        reads.append([f"/api/v1/cases?page_size=20&number={number}", f"Bearer {s.token}"])
    reads += [[f"/api/v1/locate?lng={lng}&lat={lat}", None] for lng, lat in s.points[:40]]
    reads += [["/api/v1/cases?page_size=20", f"Bearer {s.token}"]] * 10
    reads += [["/open311/v2/services.json", None]] * 5
    posts = [
        json.dumps(
            {
                "description": f"负载测试上报，第{i}件，请尽快处理",
                "lng": lng,
                "lat": lat,
                "category_code": s.codes[i % len(s.codes)],
            },
            ensure_ascii=False,
        )
        for i, (lng, lat) in enumerate(s.points * 3)
    ]
    folder = Path(tempfile.mkdtemp(prefix="cg-wrk-"))
    script = folder / "mix.lua"
    script.write_text(LUA % {"reads": lua_table(reads), "posts": lua_table(posts)}, encoding="utf-8")
    subprocess.run(["wrk", "-t2", "-c8", "-d10s", "-s", str(script), s.base], capture_output=True)  # warm-up
    rss0 = rss_kib(s.pids)
    with sampling(s) as sampler:
        mixed = subprocess.run(
            [
                *("wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency"),
                *("-s", str(script), s.base),
            ],
            capture_output=True,
            text=True,
        ).stdout
    rss1 = rss_kib(s.pids)
    bare = subprocess.run(
        ["wrk", "-t2", f"-c{args.connections}", "-d30s", "--latency", s.base + "/healthz"],
        capture_output=True,
        text=True,
    ).stdout
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "mixed": parse_wrk(mixed),
        "bare": parse_wrk(bare),
        "rss": (rss0, rss1),
        "waits": sampler.summary() if sampler else None,
    }


def print_reports(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    print("\n### Mix `reports`: 70 % reads / 30 % reports (wrk)\n")
    print(
        "| database | run | duration | connections | requests | req/s | p50 | p99 | non-2xx | socket errors "
        "| server RSS start → end |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for database, r in results.items():
        m, b = r["mixed"], r["bare"]
        rss0, rss1 = r["rss"]
        print(
            f"| {database} | mixed | {args.duration} s | {args.connections} | {m['requests']:.0f} | "
            f"{m['rps']:.0f} | {m['p50_ms']:.1f} ms | {m['p99_ms']:.1f} ms | {m['errors']:.0f} | "
            f"{m['socket_errors']:.0f} | {rss0 / 1024:.0f} → {rss1 / 1024:.0f} MiB "
            f"({(rss1 - rss0) / max(rss0, 1) * 100:+.1f} %) |"
        )
        print(
            f"| {database} | bare /healthz | 30 s | {args.connections} | {b['requests']:.0f} | "
            f"{b['rps']:.0f} | {b['p50_ms']:.1f} ms | {b['p99_ms']:.1f} ms | {b['errors']:.0f} | "
            f"{b['socket_errors']:.0f} | |"
        )
    if {"sqlite", "postgresql"} <= results.keys():
        ratio = results["postgresql"]["mixed"]["rps"] / max(results["sqlite"]["mixed"]["rps"], 1e-9)
        print(f"\nPostgreSQL / SQLite throughput (mixed): {ratio:.2f}")


# --- Mix 2: staff actions, the Python generator -------------------------------------------------------------


def staff_mix(s: Stack, args: argparse.Namespace) -> dict[str, Any]:
    cfg = loadgen.Config(
        base=s.base,
        points=s.points,
        codes=s.codes,
        connections=args.connections,
        duration_s=args.duration,
        max_requests=args.max_requests,
        prepare=args.prepare,
    )
    with sampling(s) as sampler:
        result = asyncio.run(loadgen.run(cfg))
    return {"load": result, "waits": sampler.summary() if sampler else None}


def print_staff(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    print("\n### Mix `staff`: reports, reads and staff actions (Python asyncio/httpx generator)\n")
    for database, r in results.items():
        res: loadgen.Result = r["load"]
        print(
            f"\n{database}: {res.requests} requests in {res.elapsed_s:.0f} s = {res.rps:.0f} req/s, "
            f"{args.connections} connections; prepared {res.prepared} dispatched cases first\n"
        )
        print("| kind | requests | non-2xx | 5xx | p50 | p99 | max |")
        print("|---|---|---|---|---|---|---|")
        for row in res.rows():
            print(
                f"| {row['kind']} | {row['n']} | {row['non2xx']} | {row['5xx']} | {row['p50']:.1f} ms | "
                f"{row['p99']:.1f} ms | {row['max']:.0f} ms |"
            )
        if res.errors:
            print("\nnon-2xx samples: " + "; ".join(res.errors[:8]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--mix", choices=("reports", "staff", "both"), default="both")
    ap.add_argument("--duration", type=int, default=600)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-requests", type=int, default=1_000_000, help="staff mix: stop after this many")
    ap.add_argument("--prepare", type=int, default=120, help="staff mix: cases dispatched before the run")
    ap.add_argument("--server-log", help="append the servers' log to this path (.sqlite / .postgresql)")
    ap.add_argument("--pg-url", default=PG_ADMIN_URL, help="an admin URL of the PostgreSQL cluster")
    args = ap.parse_args()
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    mixes = ("reports", "staff") if args.mix == "both" else (args.mix,)
    if "reports" in mixes and not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    results: dict[str, dict[str, dict[str, Any]]] = {m: {} for m in mixes}
    for mix in mixes:
        for database in databases:
            print(f"== {mix} on {database} …", file=sys.stderr, flush=True)
            with stack(database, args) as s:
                results[mix][database] = reports_mix(s, args) if mix == "reports" else staff_mix(s, args)
    if "reports" in results:
        print_reports(results["reports"], args)
    if "staff" in results:
        print_staff(results["staff"], args)
    for mix, by_db in results.items():
        waits = by_db.get("postgresql", {}).get("waits")
        if waits:
            print(f"\n### What PostgreSQL sessions waited on (mix `{mix}`, sampled every 0.2 s)\n")
            print(waits)


if __name__ == "__main__":
    main()
