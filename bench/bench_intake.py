"""Report → dispatched latency through the real HTTP stack, and duplicate detection precision/recall on a
generated ground truth. Prints Markdown tables.

    .venv/bin/python bench/bench_intake.py [--reports 300] [--pairs 400]

1. Latency: inspector reports (a trusted source, auto-dispatched) are POSTed one at a time to a live
   `civicgrid serve` on loopback; the time from sending the request to receiving the answer in which the case
   is already dispatched.
2. Duplicates: a generated ground truth of report pairs — true duplicates (same problem, 0–80 m apart, minutes
   to hours apart, same or near-synonymous text) and distractors (same category farther away or after the
   window, other categories nearby, similar words about a different thing) — fed through the real intake on an
   empty district; precision, recall and F1 of the merge decision.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "civicgrid"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def latency(n: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="cg-intake-"))
    env = dict(
        os.environ,
        CIVICGRID_DATABASE_URL=f"sqlite:///{folder / 'i.db'}",
        CIVICGRID_DATA_DIR=str(folder),
        CIVICGRID_SWEEPER_INTERVAL_S="0",
    )
    subprocess.run([str(BIN), "init", "--demo", "--cases", "0"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)],
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
        with httpx.Client(base_url=base, timeout=30) as c:
            token = c.post(
                "/api/v1/auth/token", data={"username": "inspector003", "password": "civicgrid2026"}
            ).json()["access_token"]
            feats = c.get("/api/v1/grids", params={"street": "320508003"}).json()["features"]
            rng = random.Random(3)
            times = []
            dispatched = 0
            for i in range(n + 10):
                ring = rng.choice(feats)["geometry"]["coordinates"][0]
                lng = sum(p[0] for p in ring[:-1]) / 4
                lat = sum(p[1] for p in ring[:-1]) / 4
                body = {
                    "description": f"巡查发现路面破损，第{i}处",
                    "lng": lng + rng.uniform(-3e-4, 3e-4),
                    "lat": lat + rng.uniform(-3e-4, 3e-4),
                    "category_code": rng.choice(["E0306", "C0118", "E0102", "C0305"]),
                    "source": "inspector",
                }
                t0 = time.perf_counter()
                r = c.post("/api/v1/reports", json=body, headers={"Authorization": f"Bearer {token}"})
                dt = (time.perf_counter() - t0) * 1000
                if i >= 10 and r.json()["state"] == "dispatched":  # warm-up
                    dispatched += 1
                    times.append(dt)
    finally:
        server.terminate()
        server.wait(30)
    times.sort()
    return {
        "n": len(times),
        "dispatched": dispatched,
        "median": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
        "max": times[-1],
    }


def duplicates(pairs: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="cg-dedupe-"))
    url = f"sqlite:///{folder / 'd.db'}"
    os.environ["CIVICGRID_DATABASE_URL"] = url
    os.environ["CIVICGRID_DATA_DIR"] = str(folder)
    from civicgrid.cases.intake import ReportIn, report
    from civicgrid.db import make_engine, session_factory, unit_of_work
    from civicgrid.demo.build import build_district
    from civicgrid.migrate import upgrade
    from civicgrid.org.roles import ANONYMOUS_CITIZEN

    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as s:
        plan, _ = build_district(s)
    rng = random.Random(5)
    phrasing = {
        "E0102": ["垃圾桶满了垃圾袋堆在地上", "路边垃圾没人收，味道很大", "垃圾溢出来了，堆在桶旁边"],
        "C0101": ["自来水井盖破了一个洞", "上水井盖松动，踩上去晃", "水表井盖缺了一块"],
        "E0505": ["汽车停在人行道上挡路", "机动车乱停占了盲道", "小区门口车辆乱停"],
        "C0118": ["路灯晚上不亮", "这一排路灯坏了", "路灯一闪一闪的"],
    }
    cats = list(phrasing)
    tp = fp = fn = tn = 0
    t0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
    grids = list(plan.grids)
    m_per_deg = 111_320.0
    with session_factory(engine)() as s:
        for i in range(pairs):
            g = grids[(i * 37) % len(grids)]
            c = g.geometry.centroid
            cat = cats[i % len(cats)]
            at = t0 + timedelta(hours=i * 80)  # pairs never interfere with each other in time
            master = report(
                s,
                ReportIn(description=rng.choice(phrasing[cat]), lng=c.x, lat=c.y, category_code=cat),
                ANONYMOUS_CITIZEN,
                now=at,
            ).case
            kind = i % 5
            if kind in (0, 1):  # a true duplicate: nearby, later, same category, any wording
                d, h, other_cat, text, truth = (
                    rng.uniform(0, 80),
                    rng.uniform(0.05, 48),
                    cat,
                    rng.choice(phrasing[cat]),
                    True,
                )
            elif kind == 2:  # same category but far away
                d, h, other_cat, text, truth = (
                    rng.uniform(180, 400),
                    rng.uniform(0.05, 48),
                    cat,
                    rng.choice(phrasing[cat]),
                    False,
                )
            elif kind == 3:  # same category, same place, after the window (a new occurrence)
                d, h, other_cat, text, truth = (
                    rng.uniform(0, 50),
                    rng.uniform(80, 200),
                    cat,
                    rng.choice(phrasing[cat]),
                    False,
                )
            else:  # another problem at the same place
                oc = cats[(i + 1 + rng.randrange(len(cats) - 1)) % len(cats)]
                d, h, other_cat, text, truth = (
                    rng.uniform(0, 50),
                    rng.uniform(0.05, 24),
                    oc,
                    rng.choice(phrasing[oc]),
                    False,
                )
            ang = rng.uniform(0, 2 * math.pi)
            lng = c.x + d * math.cos(ang) / (m_per_deg * math.cos(math.radians(c.y)))
            lat = c.y + d * math.sin(ang) / m_per_deg
            try:
                dup = report(
                    s,
                    ReportIn(description=text, lng=lng, lat=lat, category_code=other_cat),
                    ANONYMOUS_CITIZEN,
                    now=at + timedelta(hours=h),
                ).case
            except Exception:
                continue  # fell outside the district
            merged = dup.master_case_id == master.id
            tp += merged and truth
            fp += merged and not truth
            fn += (not merged) and truth
            tn += (not merged) and not truth
        s.rollback()
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {
        "pairs": tp + fp + fn + tn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=300)
    ap.add_argument("--pairs", type=int, default=400)
    args = ap.parse_args()
    lat = latency(args.reports)
    print("| report → dispatched (HTTP, loopback, SQLite) | n | auto-dispatched | median | p95 | max |")
    print("|---|---|---|---|---|---|")
    print(
        f"| inspector reports | {lat['n']} | {lat['dispatched']} | {lat['median']:.1f} ms | "
        f"{lat['p95']:.1f} ms | {lat['max']:.1f} ms |"
    )
    dup = duplicates(args.pairs)
    print("\n| duplicate detection | pairs | TP | FP | FN | TN | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| generated ground truth | {dup['pairs']} | {dup['tp']} | {dup['fp']} | {dup['fn']} | "
        f"{dup['tn']} | {dup['precision']:.3f} | {dup['recall']:.3f} | {dup['f1']:.3f} |"
    )


if __name__ == "__main__":
    main()
