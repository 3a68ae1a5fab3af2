"""督查督办 (issue 15): a tree of 10,000 tasks — its colour summary and the whole coloured tree — and the
monthly 通报 (.docx and .xlsx) over them.

Run: .venv/bin/python bench/bench_supervision.py [--tasks 10000] [--db-dir DIR]
A fresh SQLite database (real migrations, the 16 departments) in a temporary folder; one directive whose
tree has 10 parts × 10 sections × (tasks / 100) items, every task assigned to one of the departments with a
deadline spread over three months around the bulletin's month, milestones on a third of them (some met
late), a monthly report cadence, a quarter of them closed, 退办 events on 5 % and late reports on 10 %.
Each figure is the median of 5 runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--db-dir", type=Path, default=None)
    args = parser.parse_args()
    folder = args.db_dir or Path(tempfile.mkdtemp(prefix="civicgrid-bench-supervision-"))
    os.environ.setdefault("CIVICGRID_ENV", "test")
    os.environ["CIVICGRID_DATA_DIR"] = str(folder / "data")
    os.environ["CIVICGRID_DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"

    from sqlalchemy import select

    from civicgrid.catalog.service import load_reference_data
    from civicgrid.db import unit_of_work
    from civicgrid.migrate import upgrade
    from civicgrid.models import Department, Directive, ProgressReport, SupervisionTask
    from civicgrid.settings import get_settings
    from civicgrid.supervision import bulletin, service

    upgrade(get_settings().database_url)
    now = datetime(2026, 4, 10, 2, 0, tzinfo=UTC)
    today = date(2026, 4, 10)
    t0 = time.perf_counter()
    with unit_of_work() as s:
        load_reference_data(s)
        s.flush()
        units = [d.id for d in s.scalars(select(Department).order_by(Department.code))]
        d = Directive(title="基准", source="文件", text="", created_at=now)
        s.add(d)
        s.flush()
        per = max(1, args.tasks // 100)
        n = 0
        for i in range(10):
            part = _task(d.id, None, i, f"{i + 1}、", units[i % len(units)], now, n)
            s.add(part)
            s.flush()
            for j in range(10):
                sec = _task(d.id, part.id, j, f"（{j + 1}）", units[(i + j) % len(units)], now, n + 1)
                s.add(sec)
                s.flush()
                items = [
                    _task(d.id, sec.id, k, f"{k + 1}.", units[(i + j + k) % len(units)], now, n + 2 + k)
                    for k in range(per - 2 if (i, j) == (0, 0) else per)
                ]
                s.add_all(items)
                s.flush()
                for t in items:
                    if t.id % 20 == 0:
                        s.add(_event(t.id, now - timedelta(days=t.id % 30 + 10)))
                    if t.id % 10 == 0:
                        s.add(
                            ProgressReport(
                                task_id=t.id,
                                department_id=t.lead_unit_id,
                                at=now - timedelta(days=t.id % 30 + 10),
                                percent=50,
                                text="进展",
                                late=True,
                            )
                        )
                n += 2 + len(items)
        directive_id = d.id
    total = n
    print(
        f"built {total} tasks in {time.perf_counter() - t0:.1f} s "
        f"({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})"
    )

    def timed(fn: object) -> float:
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            fn()  # type: ignore[operator]
            runs.append(time.perf_counter() - start)
        return statistics.median(runs)

    def summary_only() -> None:
        with unit_of_work(write=False) as s:
            service.directive_summary(s, directive_id, today)

    def whole_tree() -> None:
        with unit_of_work(write=False) as s:
            service.tree(s, directive_id, today)

    out = folder / "通报"

    def bulletin_docx() -> None:
        with unit_of_work(write=False) as s:
            b = bulletin.build(s, "2026-03", now)
        bulletin.write(b, out.with_suffix(".docx"))

    def bulletin_xlsx() -> None:
        with unit_of_work(write=False) as s:
            b = bulletin.build(s, "2026-03", now)
        bulletin.write(b, out.with_suffix(".xlsx"))

    with unit_of_work(write=False) as s:
        tasks = s.scalars(select(SupervisionTask)).all()
        print("colours:", service.colour_summary(tasks, today))
        b = bulletin.build(s, "2026-03", now)
        print(f"bulletin: {len(b.rows)} units, {len(b.red)} red, {len(b.yellow)} yellow")
    print(f"colour summary (service.directive_summary): median {timed(summary_only) * 1000:.0f} ms")
    print(f"whole coloured tree (service.tree):          median {timed(whole_tree) * 1000:.0f} ms")
    print(f"bulletin .docx (build + write):              median {timed(bulletin_docx):.2f} s")
    print(f"bulletin .xlsx (build + write):              median {timed(bulletin_xlsx):.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def _task(
    directive_id: int, parent_id: int | None, pos: int, number: str, unit: int, now: datetime, n: int
) -> Any:
    from civicgrid.models import SupervisionTask

    start = date(2026, 2, 15)
    deadline = start + timedelta(days=n % 90)
    milestones = []
    if n % 3 == 0:
        due = deadline - timedelta(days=10)
        met = None if n % 2 else (due + timedelta(days=n % 5 - 2)).isoformat()
        milestones = [{"date": due.isoformat(), "target": "节点", "met_on": met}]
    done = n % 4 == 0
    done_on = deadline + timedelta(days=n % 7 - 3) if done else None
    return SupervisionTask(
        directive_id=directive_id,
        parent_id=parent_id,
        position=pos,
        number=number,
        title=f"任务{n}",
        body="",
        lead_unit_id=unit,
        co_unit_ids=[],
        deadline=deadline,
        milestones=milestones,
        cadence="monthly",
        state="done" if done else "doing",
        percent=100 if done else 50,
        assigned_at=datetime(2026, 2, 1, 2, 0, tzinfo=UTC),
        done_at=datetime.combine(done_on, datetime.min.time(), UTC) if done_on else None,
        done_on=done_on,
        last_report_on=date(2026, 3, 20) if n % 2 else None,
        created_at=now,
        updated_at=now,
    )


def _event(task_id: int, at: datetime) -> Any:
    from civicgrid.models import TaskEvent

    # Events written straight (a bench): their links are not computed.
    return TaskEvent(
        task_id=task_id,
        action="return",
        actor_role="supervisor",
        from_state="applied",
        to_state="doing",
        note="退办",
        data={},
        created_at=at,
        chain_seq=None,
        prev_hash="",
        hash="",
        link_alg="none",
    )


if __name__ == "__main__":
    main()
