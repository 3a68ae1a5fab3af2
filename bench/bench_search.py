"""Benchmark the queue's search at 1 M cases: by whole phone, partial case number, address and keyword.

Run: .venv/bin/python bench/bench_search.py [--cases 1000000] [--queries 200] [--db PATH] [--postgresql URL]

A temporary SQLite database is built by the real migrations (so the FTS5 index and its triggers are the
product's), seeded with the demo district's reference data, and loaded with synthetic cases by
``executemany`` (the index filled once after the load, with the triggers' text). The timed call is the one
the queue and the API make: ``cases.repository.list_cases`` with ``CaseFilter(text=q)`` for a district-wide
reader (the 值班长), first page of 20 rows and the total count — counted, as the queue counts a search,
up to ``search.COUNT_CAP`` (1,000; the queue shows "1000+" beyond). ``--db`` keeps the database for a second
run; ``--postgresql`` loads and times the same data on a PostgreSQL database (give an empty one).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROADS = [
    a + b
    for a in (
        "金鸡湖",
        "星湖",
        "苏州",
        "现代",
        "东环",
        "南施",
        "林泉",
        "钟南",
        "通园",
        "星港",
        "旺墩",
        "华池",
        "若水",
        "松涛",
        "翠微",
        "凤里",
        "方洲",
        "玲珑",
        "青剑湖",
        "独墅湖",
    )
    for b in ("大道", "路", "街", "巷")
]
PLACES = (
    "小区门口",
    "学校附近",
    "菜市场旁",
    "公交站台",
    "河道边",
    "绿地里",
    "人行道上",
    "十字路口",
    "商场后门",
    "地铁口",
    "医院东侧",
    "幼儿园对面",
    "停车场内",
    "桥下",
    "广场上",
    "老旧小区",
    "农贸市场",
    "工地旁",
)
SUBJECTS = (
    "垃圾",
    "井盖",
    "路灯",
    "小广告",
    "共享单车",
    "树木",
    "积水",
    "噪音",
    "油烟",
    "摊贩",
    "围挡",
    "渣土",
    "护栏",
    "座椅",
    "公厕",
    "水管",
    "污水",
    "线缆",
    "机动车",
    "占道经营",
    "垃圾桶",
    "窨井",
    "盲道",
    "路面",
    "招牌",
    "雨水箅子",
    "交通标志",
    "宣传栏",
    "健身器材",
    "消防栓",
    "电线杆",
    "行道树",
    "花坛",
    "排水沟",
)
STATES = (
    "破损",
    "堆放",
    "损坏",
    "乱停",
    "扰民",
    "外溢",
    "缺失",
    "倾倒",
    "遮挡",
    "悬挂",
    "占用",
    "堵塞",
    "散落",
    "脏乱",
    "松动",
    "塌陷",
    "漏水",
    "断裂",
    "倒伏",
    "不亮",
    "冒烟",
    "异味",
    "积存",
    "违规张贴",
)
TAILS = (
    "请尽快处理",
    "影响通行",
    "居民反映多次",
    "存在安全隐患",
    "已持续两天",
    "晚上尤其严重",
    "老人小孩经过危险",
    "希望相关部门处理",
    "拍照为证",
    "",
)
CATEGORIES = (
    "E0102",
    "E0103",
    "E0104",
    "E0505",
    "E0506",
    "C0101",
    "C0118",
    "E0306",
    "E0401",
    "E0504",
    "E0201",
)
PHONES = 200_000  # distinct reporters' phones; one case in three has one


def _phone(i: int) -> str:
    return f"13{(i * 7919) % 1_000_000_000:09d}"


def _rows(n: int, rng: random.Random, start: datetime, refs: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    from civicgrid.security import pii

    hashes: dict[int, str] = {}
    seq: dict[tuple[str, str], int] = {}
    span = 3 * 365 * 24 * 3600
    for i in range(1, n + 1):
        at = start + timedelta(seconds=span * i / n)
        cat = rng.choice(CATEGORIES)
        day = at.strftime("%Y%m%d")
        k = seq[(cat, day)] = seq.get((cat, day), 0) + 1
        desc = f"{rng.choice(PLACES)}{rng.choice(SUBJECTS)}{rng.choice(STATES)}，{rng.choice(TAILS)}"
        addr = f"{rng.choice(ROADS)}{rng.randint(1, 999)}号" if rng.random() < 0.8 else ""
        phone_hash = None
        if i % 3 == 0:
            p = rng.randrange(PHONES)
            phone_hash = hashes.get(p) or hashes.setdefault(p, pii.keyed_hash(_phone(p)))
        state = "closed" if i < n * 0.97 else rng.choice(("received", "dispatched", "processing", "feedback"))
        yield (
            f"{cat}{day}{k:04d}", state, cat, desc, "citizen", refs["lng"], refs["lat"], addr,
            refs["grid"], refs["community"], refs["street"], phone_hash, refs["dept"],
            at.strftime("%Y-%m-%d %H:%M:%S.%f"), at.strftime("%Y-%m-%d %H:%M:%S.%f"),
        )  # fmt: skip


INSERT = (
    "INSERT INTO cases (number, state, category_code, description, source, lng, lat, address, grid_code, "
    "community_code, street_code, reporter_phone_hash, department_id, received_at, updated_at, urgent, "
    "extension_count, rework_count, return_count, reopen_count, held, report_count, warning_level, "
    "supervised) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 1, 0, 0)"
)


def _refs(path: Path) -> dict[str, Any]:
    con = sqlite3.connect(path)
    grid, lng, lat = con.execute(
        "SELECT code, centroid_lng, centroid_lat FROM areas WHERE level = 'grid' ORDER BY code LIMIT 1"
    ).fetchone()
    dept = con.execute("SELECT id FROM departments WHERE code = 'HW'").fetchone()[0]
    con.close()
    return {"grid": grid, "community": grid[:12], "street": grid[:9], "lng": lng, "lat": lat, "dept": dept}


def build_sqlite(path: Path, n: int, seed: int) -> None:
    os.environ["CIVICGRID_DATABASE_URL"] = f"sqlite:///{path}"
    from civicgrid.db import unit_of_work
    from civicgrid.demo.build import build_district
    from civicgrid.migrate import upgrade
    from civicgrid.settings import get_settings

    started = time.perf_counter()
    upgrade(get_settings().database_url)
    with unit_of_work() as session:
        build_district(session)
    refs = _refs(path)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -2000000")  # 2 GiB of page cache: the load updates a dozen indexes
    rng = random.Random(seed)
    # A bulk load indexes once at the end rather than row by row: the migration's triggers are set aside and
    # put back, and the index is filled with the same text they would have written (migration 0013).
    triggers = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'case_search_%'"
    )
    saved = triggers.fetchall()
    t = time.perf_counter()
    with con:
        for name, _ in saved:
            con.execute(f"DROP TRIGGER {name}")
        con.executemany(INSERT, _rows(n, rng, datetime(2023, 12, 1, tzinfo=UTC), refs))
        loaded = time.perf_counter() - t
        con.execute(
            "INSERT INTO case_search(rowid, number, address, description) "
            "SELECT id, number, address || ' ', description || ' ' FROM cases"
        )
        for _, sql in saved:
            con.execute(sql)
    indexed = time.perf_counter() - t - loaded
    con.execute("ANALYZE")
    con.close()
    size = path.stat().st_size / 2**20
    built = time.perf_counter() - started
    print(f"SQLite: {n:,} cases loaded in {loaded:.0f} s, FTS5 index filled in {indexed:.0f} s; ")
    print(f"SQLite: database built in {built:.0f} s, {size:,.0f} MiB")


def queries(path: Path, count: int, seed: int) -> dict[str, list[str]]:
    """The queries an operator types, drawn from the data: ``count`` of each kind."""
    rng = random.Random(seed + 1)
    con = sqlite3.connect(path)
    top = con.execute("SELECT max(id) FROM cases").fetchone()[0]
    sample = [
        con.execute(
            "SELECT number, address, description FROM cases WHERE id = ?", (rng.randint(1, top),)
        ).fetchone()
        for _ in range(count * 2)
    ]
    con.close()
    numbers = []
    for number, _, _ in sample[:count]:
        cut = rng.choice((8, 10, 12))  # the tail of the number: date and sequence, or part of it
        numbers.append(number[-cut:])
    addresses = [a[: rng.randint(4, len(a) - 1)] for _, a, _ in sample if len(a) >= 5][:count]  # 金鸡湖大道12
    words = list(SUBJECTS + STATES)
    keywords = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            keywords.append(rng.choice(SUBJECTS) + rng.choice(STATES))  # 4+ characters: 井盖破损
        elif kind == 1:
            keywords.append(rng.choice(PLACES))  # 小区门口
        elif kind == 2:
            keywords.append(rng.choice(STATES))  # two characters: 异味
        else:
            keywords.append(rng.choice(words))
    phones = [_phone(rng.randrange(PHONES)) for _ in range(count)]
    return {"phone": phones, "number": numbers, "address": addresses, "keyword": keywords}


def time_kind(qs: list[str], exact: bool = False) -> tuple[list[float], list[float], list[int]]:
    from civicgrid.cases import repository, search
    from civicgrid.cases.repository import CaseFilter
    from civicgrid.db import unit_of_work
    from civicgrid.org.roles import Principal

    reader = Principal(user_id=None, username="bench", display_name="值班长", roles=frozenset({"shift_lead"}))
    times, cpu, totals = [], [], []
    cap: dict[str, Any] = {} if exact else {"count_cap": search.COUNT_CAP}
    with unit_of_work(write=False) as session:
        repository.list_cases(session, reader, CaseFilter(text=qs[0]), page=1, page_size=20)  # warm up
        for q in qs:
            t, c = time.perf_counter(), time.process_time()
            _, total = repository.list_cases(session, reader, CaseFilter(text=q), page=1, page_size=20, **cap)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            totals.append(total)
    return times, cpu, totals


def report(label: str, qs: dict[str, list[str]], exact: bool = False) -> None:
    """Wall times, and the process's CPU time per query (steadier when the machine is shared)."""
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(
        f"{label}: {'kind':8} {'queries':>7} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} "
        f"{'cpu med':>8} {'cpu p95':>8} {'median hits':>11}"
    )
    for kind, items in qs.items():
        times, cpu, totals = time_kind(items, exact)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(
            f"{label}: {kind:8} {len(items):>7} {statistics.median(times):>10.1f} {p95:>8.1f} "
            f"{max(times):>8.1f} {statistics.median(cpu):>8.1f} {statistics.quantiles(cpu, n=20)[-1]:>8.1f} "
            f"{statistics.median(totals):>11,.0f}"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def copy_to_postgresql(src: Path, url: str) -> None:
    """The same cases on PostgreSQL (the migrations create the pg_trgm index when the server has it)."""
    os.environ["CIVICGRID_DATABASE_URL"] = url
    from civicgrid.db import get_engine, unit_of_work
    from civicgrid.demo.build import build_district
    from civicgrid.migrate import upgrade
    from civicgrid.settings import get_settings

    get_settings.cache_clear()
    get_engine.cache_clear()
    started = time.perf_counter()
    upgrade(get_settings().database_url)
    with unit_of_work() as session:
        build_district(session)
    dept = get_engine().connect().exec_driver_sql("SELECT id FROM departments WHERE code = 'HW'").scalar()
    lite = sqlite3.connect(src)
    cols = ("number, state, category_code, description, source, lng, lat, address, grid_code, "
            "community_code, "
            "street_code, reporter_phone_hash, received_at, updated_at")  # fmt: skip
    raw = get_engine().raw_connection()
    cur = raw.cursor()
    with cur.copy(
        f"COPY cases ({cols}, department_id, urgent, extension_count, rework_count, return_count, "
        "reopen_count, "
        "held, report_count, warning_level, supervised) FROM STDIN"
    ) as copy:
        for row in lite.execute(f"SELECT {cols} FROM cases"):
            copy.write_row((*row, dept, False, 0, 0, 0, 0, False, 1, 0, False))
    cur.execute("ANALYZE cases")
    raw.commit()
    raw.close()
    print(f"PostgreSQL: copied and indexed in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, help="keep the SQLite database here (reused if it exists)")
    parser.add_argument("--postgresql", help="also time PostgreSQL, on this (empty) database URL")
    parser.add_argument(
        "--kinds", default="phone,number,address,keyword", help="which kinds of query to time"
    )
    parser.add_argument(
        "--exact-count", action="store_true", help="count every match (as the API does), not up to the cap"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="civicgrid-bench-search-"))
    os.environ.setdefault("CIVICGRID_DATA_DIR", str(tmp / "data"))
    path = args.db or tmp / "search.db"
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"SQLite {sqlite3.sqlite_version}")  # fmt: skip
    if not path.exists():
        build_sqlite(path, args.cases, args.seed)
    else:
        os.environ["CIVICGRID_DATABASE_URL"] = f"sqlite:///{path}"
    kinds = args.kinds.split(",")
    qs = {k: v for k, v in queries(path, args.queries, args.seed).items() if k in kinds}
    report("SQLite", qs, args.exact_count)
    if args.postgresql:
        copy_to_postgresql(path, args.postgresql)
        report("PostgreSQL", qs, args.exact_count)


if __name__ == "__main__":
    main()
