"""Load test on loopback: mixed traffic (70 % reads, 30 % report submissions) against `civicgrid serve`,
driven by wrk with a Lua script, then a bare endpoint (/healthz) of the same stack for the ratio. Prints a
Markdown table.

    .venv/bin/python bench/bench_load.py [--duration 600] [--connections 16] [--workers 4] [--threads 1]

Needs Debian's wrk (installed by `make bench` when missing). Targets only 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "civicgrid"


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


def lua_table(items: list[object]) -> str:
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=600)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    folder = Path(tempfile.mkdtemp(prefix="cg-load-"))
    env = dict(
        os.environ,
        CIVICGRID_DATABASE_URL=f"sqlite:///{folder / 'load.db'}",
        CIVICGRID_DATA_DIR=str(folder),
        CIVICGRID_SWEEPER_INTERVAL_S="0",
    )
    subprocess.run([str(BIN), "init", "--demo", "--cases", "300"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        token = httpx.post(
            base + "/api/v1/auth/token", data={"username": "operator", "password": "civicgrid2026"}
        ).json()["access_token"]
        grids = httpx.get(base + "/api/v1/grids", params={"street": "320508003"}, timeout=60).json()[
            "features"
        ][:200]
        points = []
        for f in grids:
            ring = f["geometry"]["coordinates"][0]
            points.append((sum(p[0] for p in ring[:-1]) / 4, sum(p[1] for p in ring[:-1]) / 4))
        tracked = []
        for i, (lng, lat) in enumerate(points[:20]):
            r = httpx.post(
                base + "/api/v1/reports",
                json={"description": f"负载测试样例 {i}", "lng": lng, "lat": lat, "category_code": "E0899"},
            ).json()
            tracked.append((r["number"], r["query_code"]))
        reads: list[object] = []
        for number, code in tracked:
            reads.append([f"/api/v1/track/{number}?code={code}", None])
            reads.append([f"/api/v1/cases?page_size=20&number={number}", f"Bearer {token}"])
        reads += [[f"/api/v1/locate?lng={lng}&lat={lat}", None] for lng, lat in points[:40]]
        reads += [["/api/v1/cases?page_size=20", f"Bearer {token}"]] * 10
        reads += [["/open311/v2/services.json", None]] * 5
        # Case numbers run per category and day (at most 9,999), so the reports spread over the categories, as
        # a district's reports do.
        services = httpx.get(base + "/open311/v2/services.json").json()
        codes = [x["service_code"] for x in services if x["service_code"] != "E0899"]
        posts = [
            json.dumps(
                {
                    "description": f"负载测试上报，第{i}件，请尽快处理",
                    "lng": lng,
                    "lat": lat,
                    "category_code": codes[i % len(codes)],
                },
                ensure_ascii=False,
            )
            for i, (lng, lat) in enumerate(points * 3)
        ]
        script = folder / "mix.lua"
        script.write_text(LUA % {"reads": lua_table(reads), "posts": lua_table(posts)}, encoding="utf-8")
        pids = children(server.pid)
        subprocess.run(
            ["wrk", "-t2", "-c8", "-d10s", "-s", str(script), base], capture_output=True
        )  # warm-up
        rss0 = rss_kib(pids)
        mixed = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--latency",
                "-s",
                str(script),
                base,
            ],
            capture_output=True,
            text=True,
        ).stdout
        rss1 = rss_kib(pids)
        bare = subprocess.run(
            ["wrk", "-t2", f"-c{args.connections}", "-d30s", "--latency", base + "/healthz"],
            capture_output=True,
            text=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(30)
    m, b = parse_wrk(mixed), parse_wrk(bare)
    print(mixed)
    print(
        "| run | duration | connections | requests | req/s | p50 | p99 | non-2xx | socket errors | "
        "server RSS start → end |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| mixed 70 % reads / 30 % reports | {args.duration} s | {args.connections} | {m['requests']:.0f} | "
        f"{m['rps']:.0f} | "
        f"{m['p50_ms']:.1f} ms | {m['p99_ms']:.1f} ms | {m['errors']:.0f} | {m['socket_errors']:.0f} | "
        f"{rss0 / 1024:.0f} → {rss1 / 1024:.0f} MiB ({(rss1 - rss0) / max(rss0, 1) * 100:+.1f} %) |"
    )
    print(
        f"| bare /healthz | 30 s | {args.connections} | {b['requests']:.0f} | {b['rps']:.0f} | "
        f"{b['p50_ms']:.1f} ms | {b['p99_ms']:.1f} ms | {b['errors']:.0f} | {b['socket_errors']:.0f} | |"
    )
    print(f"\nmixed / bare throughput ratio: {m['rps'] / b['rps']:.2f}")


if __name__ == "__main__":
    main()
