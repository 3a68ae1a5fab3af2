"""The facts warehouse: the live database flattened into facts rows, kept as monthly Parquet partitions.

Layout: ``<root>/facts/month=YYYY-MM/part.parquet`` (month of ``received_at`` in local time) and
``<root>/state.json`` holding the watermark: the greatest ``cases.updated_at`` included by the last
refresh. A refresh rewrites only the months that hold a case updated since (every action stamps
``updated_at``), each partition written to a temporary file and renamed into place, so readers never see
half a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from civicgrid.analytics.facts import FACTS_SCHEMA
from civicgrid.models import Case, CaseEvent, Category, Department
from civicgrid.settings import get_settings
from civicgrid.sla.vector import NAT, get_vector_clock

ACTOR_COLUMNS: dict[str, str] = {
    "send_verify": "send_verify_by",
    "verify": "verify_by",
    "register": "register_by",
    "dispatch": "dispatch_by",
    "send_check": "send_check_by",
    "check": "check_by",
    "close": "close_by",
}
CASE_COLUMNS = (
    "id",
    "number",
    "category_code",
    "source",
    "urgent",
    "street_code",
    "community_code",
    "grid_code",
    "lng",
    "lat",
    "state",
    "received_at",
    "verify_sent_at",
    "verified_at",
    "verify_confirmed",
    "registered_at",
    "dispatched_at",
    "signed_at",
    "feedback_at",
    "check_sent_at",
    "checked_at",
    "closed_at",
    "voided_at",
    "merged_at",
    "due_at",
    "rework_count",
    "return_count",
    "reopen_count",
    "extension_count",
    "held",
    "close_type",
    "rating",
    "report_count",
    "reporter_user_id",
    "updated_at",
)
_MIN = 60
_PARTITION = "part.parquet"


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def month_key(moment: datetime) -> str:
    """The partition key (local month) of a moment."""
    return moment.astimezone(_zone()).strftime("%Y-%m")


def month_bounds(key: str) -> tuple[datetime, datetime]:
    """The UTC instants where local month ``YYYY-MM`` starts and the next one starts."""
    year, month = int(key[:4]), int(key[5:7])
    zone = _zone()
    start = datetime(year, month, 1, tzinfo=zone)
    stop = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), stop.astimezone(UTC)


def live_facts(session: Session, where: ColumnElement[bool] | None = None) -> pa.Table:
    """Facts rows (FACTS_SCHEMA) of the cases matching ``where`` (all cases if None), ordered by id."""
    cond = where if where is not None else true()
    cols = [getattr(Case, c) for c in CASE_COLUMNS]
    q = (
        select(*cols, Department.code, Category.kind, Category.major_code, Case.master_case_id)
        .outerjoin(Department, Department.id == Case.department_id)
        .join(Category, Category.code == Case.category_code)
        .where(cond)
        .order_by(Case.id)
    )
    rows = session.execute(q).all()
    data: dict[str, list[Any]] = {c: [r[i] for r in rows] for i, c in enumerate(CASE_COLUMNS)}
    base = len(CASE_COLUMNS)
    data["department_code"] = [r[base] for r in rows]
    data["kind"] = [r[base + 1] for r in rows]
    data["major_code"] = [r[base + 2] for r in rows]
    data["master_id"] = [r[base + 3] for r in rows]
    actors = _first_actors(session, cond)
    index = {cid: i for i, cid in enumerate(data["id"])}
    for column in ACTOR_COLUMNS.values():
        data[column] = [None] * len(rows)
    for case_id, action, user_id in actors:
        i = index.get(case_id)
        if i is not None:
            data[ACTOR_COLUMNS[action]][i] = user_id
    data["register_due_at"] = [
        _plus(r, 10 if u else 30) for r, u in zip(data["received_at"], data["urgent"], strict=True)
    ]
    data["verify_due_at"] = [_plus(t, 60) for t in data["verify_sent_at"]]
    data["check_due_at"] = [_plus(t, 60) for t in data["check_sent_at"]]
    table = pa.Table.from_pydict(
        {f.name: data[f.name] for f in FACTS_SCHEMA if f.name != "disposal_wmin"}
        | {"disposal_wmin": [None] * len(rows)},
        schema=FACTS_SCHEMA,
    )
    return _with_disposal(table)


def _plus(moment: datetime | None, minutes: int) -> datetime | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment.timestamp() + minutes * _MIN, tz=UTC)


def _first_actors(session: Session, cond: ColumnElement[bool]) -> Sequence[Any]:
    """(case_id, action, actor_user_id) of the first event of each stage action, for the matching cases."""
    first = (
        select(CaseEvent.case_id, CaseEvent.action, func.min(CaseEvent.id).label("eid"))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.action.in_(list(ACTOR_COLUMNS)), cond)
        .group_by(CaseEvent.case_id, CaseEvent.action)
        .subquery()
    )
    q = select(first.c.case_id, first.c.action, CaseEvent.actor_user_id).join(
        CaseEvent, CaseEvent.id == first.c.eid
    )
    return session.execute(q).all()


def _ns(col: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.int64]]:
    arr = col.cast(pa.int64()).fill_null(NAT // 1000).to_numpy()
    return np.where(arr == NAT // 1000, NAT, arr * 1000)


def _with_disposal(table: pa.Table) -> pa.Table:
    """Fill ``disposal_wmin``: working minutes from first dispatch to last feedback, on the vector clock."""
    start, end = _ns(table["dispatched_at"]), _ns(table["feedback_at"])
    both = (start != NAT) & (end != NAT)
    wmin = np.full(len(start), np.nan)
    if both.any():
        years = np.concatenate([start[both], end[both]]).astype("datetime64[ns]").astype("datetime64[Y]")
        lo, hi = int(years.min().astype(int)) + 1970, int(years.max().astype(int)) + 1970
        wmin[both] = get_vector_clock(lo - 1, hi + 1).working_minutes_between(start[both], end[both])
    col = pa.array(wmin, type=pa.float64(), mask=~both)
    return table.set_column(table.schema.get_field_index("disposal_wmin"), "disposal_wmin", col)


# -- partitions --------------------------------------------------------------------------------


def partition_path(root: Path, key: str) -> Path:
    return root / "facts" / f"month={key}" / _PARTITION


def write_partition(root: Path, key: str, table: pa.Table) -> Path:
    """Write one month atomically (temporary file, then rename)."""
    path = partition_path(root, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd", compression_level=1, row_group_size=256_000)
    os.replace(tmp, path)
    return path


def partition_keys(root: Path) -> list[str]:
    folder = root / "facts"
    if not folder.is_dir():
        return []
    return sorted(p.parent.name.split("=", 1)[1] for p in folder.glob(f"month=*/{_PARTITION}"))


@dataclass(frozen=True)
class RefreshResult:
    months: list[str]
    rows: int
    watermark: datetime | None


def load_state(root: Path) -> dict[str, Any]:
    path = root / "state.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def watermark(root: Path) -> datetime | None:
    text = load_state(root).get("watermark")
    return datetime.fromisoformat(text) if text else None


def changed_months(session: Session, since: datetime | None) -> list[str]:
    """Months (local) of the cases updated after ``since`` (all months if None)."""
    q = select(Case.received_at)
    if since is not None:
        q = q.where(Case.updated_at > since)
    return sorted({month_key(t) for t in session.scalars(q)})


def refresh(
    session: Session,
    root: Path,
    *,
    full: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RefreshResult:
    """Rewrite the partitions of months with cases updated since the watermark (all of them with ``full``)."""
    since = None if full else watermark(root)
    new_mark = session.scalar(select(func.max(Case.updated_at)))
    months = changed_months(session, since)
    rows = 0
    for i, key in enumerate(months):
        lo, hi = month_bounds(key)
        table = live_facts(session, (Case.received_at >= lo) & (Case.received_at < hi))
        write_partition(root, key, table)
        rows += table.num_rows
        if progress:
            progress(i + 1, len(months))
    mark = new_mark if new_mark is not None else since
    state = {
        "watermark": mark.isoformat() if mark else None,
        "refreshed_at": datetime.now(UTC).isoformat(),
        "last_months": months,
    }
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / "state.json.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, root / "state.json")
    return RefreshResult(months=months, rows=rows, watermark=mark)


def pending_facts(session: Session, root: Path) -> pa.Table:
    """Facts of the cases updated since the last refresh (to overlay on the partitions)."""
    since = watermark(root)
    return live_facts(session, Case.updated_at > since if since is not None else None)
