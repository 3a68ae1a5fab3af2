"""Hourly and daily aggregates of station readings, and the Parquet archive of old minute data (SPEC §10).

- An hour, per pollutant: the station's own hourly packet (CN 2061) when it sent one, otherwise the mean of
  its minute (2051) or else real-time (2011) values. A day: the station's daily packet (2031), otherwise the
  mean of its valid hours (air needs ≥ 20). Only ``N`` values count (``means``). Ozone also gets the day's
  largest hourly and 8-hour moving means. Air stations get the hour's and day's AQI, water stations the
  water class. Recomputing a window replaces its rows.
- The ``station-aggregate`` job aggregates the closed hours that received data since its last run (and
  their days), then moves minute and real-time readings older than ``archive_after_days`` to Parquet files
  ``<archive_dir>/kind=<kind>/month=YYYY-MM/part-….parquet``: a batch's rows are deleted only after its file
  is written and renamed into place. :func:`series` reads the table and the files together.
"""

from __future__ import annotations

import os
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, delete, select, text
from sqlalchemy.orm import Session

from civicgrid.models import Reading, Station, utcnow
from civicgrid.models.monitoring import MonitoringMark, StationAggregate, StationIndex
from civicgrid.monitoring import aqi, readings, water
from civicgrid.monitoring.means import (
    HOUR,
    LOCAL,
    MIN_VALID_HOURS,
    NORMAL,
    O3,
    O3_1H_MAX,
    O3_8H,
    Summary,
    day_start,
    floor_hour,
    index_names,
    local_day,
    max_1h,
    max_8h,
    summarise,
)
from civicgrid.monitoring.settings import get_monitoring_settings
from civicgrid.settings import get_settings

MARK = "station-aggregate"
LOCK_KEY = 7_312_2026  # advisory lock of the job (PostgreSQL)
SAFETY = timedelta(minutes=2)  # rows stamped just before the last run but committed after it
AIR_NAMES = ("SO2", "NO2", "PM10", "PM2.5", "CO", "O3")
AIR_DAY_NAMES = ("SO2", "NO2", "PM10", "PM2.5", "CO", "O3_8h")
ARCHIVED_WINDOWS = ("rt", "min")


# --- hours and days ---------------------------------------------------------------------------------------


def _hour_summaries(rows: Sequence[Any]) -> dict[str, tuple[str, Summary]]:
    """code → (source, summary) of one hour's readings (window, code, value, vmin, vmax, flag)."""
    by: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by[r.code][r.window].append(r)
    out: dict[str, tuple[str, Summary]] = {}
    for code, windows in by.items():
        if windows.get("hour"):
            own = windows["hour"]
            s = summarise([(r.value, r.flag) for r in own])
            vmin = min((r.vmin for r in own if r.vmin is not None), default=s.vmin)
            vmax = max((r.vmax for r in own if r.vmax is not None), default=s.vmax)
            out[code] = ("station", Summary(s.mean, s.valid, s.flags, vmin, vmax))
        else:
            source = "min" if windows.get("min") else "rt"
            out[code] = (source, summarise([(r.value, r.flag) for r in windows[source]]))
    return out


def _replace(session: Session, station: Station, window: str, at: datetime) -> None:
    for model in (StationAggregate, StationIndex):
        session.execute(
            delete(model).where(model.station_id == station.id, model.window == window, model.at == at)
        )


def _row(station: Station, window: str, at: datetime, code: str, source: str, s: Summary) -> StationAggregate:
    return StationAggregate(
        station_id=station.id,
        window=window,
        code=code,
        at=at,
        mean=s.mean,
        vmin=s.vmin,
        vmax=s.vmax,
        valid=s.valid,
        flag=s.flag,
        flags=dict(s.flags),
        source=source,
        computed_at=utcnow(),
    )


def _index(
    station: Station, window: str, at: datetime, values: dict[str, float], required: Sequence[str]
) -> StationIndex | None:
    """The AQI (air) or the water class (water) of a window's valid means, by index name."""
    if station.kind == "air":
        names = set(aqi.NAMES)
        got = aqi.compute(
            {n: v for n, v in values.items() if n in names},
            day=local_day(at),
            hourly=window == "hour",
        )
        return StationIndex(
            station_id=station.id,
            window=window,
            at=at,
            aqi=got.aqi,
            level=got.level,
            primary_pollutants=",".join(got.primary) or None,
            complete=all(n in values for n in required),
            computed_at=utcnow(),
        )
    if station.kind == "water":
        names = set(water.NAMES)
        cls = water.classify({n: v for n, v in values.items() if n in names}, lake=station.lake)
        return StationIndex(
            station_id=station.id,
            window=window,
            at=at,
            water_class=cls.water_class,
            complete=bool(cls.per_indicator),
            computed_at=utcnow(),
        )
    return None


def _named(means: dict[str, float | None]) -> dict[str, float]:
    names = index_names(means)
    return {names[c]: v for c, v in means.items() if c in names and v is not None}


def aggregate_hour(session: Session, station: Station, start: datetime) -> int:
    """(Re)compute one hour of one station; returns the number of pollutant rows written."""
    start = floor_hour(start)
    rows = session.execute(
        select(Reading.window, Reading.code, Reading.value, Reading.vmin, Reading.vmax, Reading.flag).where(
            Reading.station_id == station.id,
            Reading.window.in_(("rt", "min", "hour")),
            Reading.at >= start,
            Reading.at < start + HOUR,
        )
    ).all()
    _replace(session, station, "hour", start)
    summaries = _hour_summaries(rows)
    for code, (source, s) in summaries.items():
        session.add(_row(station, "hour", start, code, source, s))
    if summaries:
        index = _index(
            station, "hour", start, _named({c: s.mean for c, (_, s) in summaries.items()}), AIR_NAMES
        )
        if index is not None:
            session.add(index)
    session.flush()
    return len(summaries)


def aggregate_days(session: Session, station: Station, days: Iterable[date]) -> int:
    """(Re)compute days of one station from its daily packets or else its hours; returns rows written."""
    wanted = sorted(set(days))
    if not wanted:
        return 0
    lo, hi = day_start(wanted[0]), day_start(wanted[-1] + timedelta(days=1))
    hours: dict[date, dict[str, list[tuple[datetime, float | None, str]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for code, at, mean, flag in session.execute(
        select(
            StationAggregate.code, StationAggregate.at, StationAggregate.mean, StationAggregate.flag
        ).where(
            StationAggregate.station_id == station.id,
            StationAggregate.window == "hour",
            StationAggregate.at >= lo,
            StationAggregate.at < hi,
        )
    ):
        hours[local_day(at)][code].append((at, mean, flag))
    packets: dict[date, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for r in session.execute(
        select(Reading.code, Reading.at, Reading.value, Reading.vmin, Reading.vmax, Reading.flag).where(
            Reading.station_id == station.id, Reading.window == "day", Reading.at >= lo, Reading.at < hi
        )
    ):
        packets[local_day(r.at)][r.code].append(r)
    written = 0
    for day in wanted:
        written += _write_day(session, station, day, hours.get(day, {}), packets.get(day, {}))
    session.flush()
    return written


def _write_day(
    session: Session,
    station: Station,
    day: date,
    hours: dict[str, list[tuple[datetime, float | None, str]]],
    packets: dict[str, list[Any]],
) -> int:
    at = day_start(day)
    _replace(session, station, "day", at)
    min_valid = MIN_VALID_HOURS.get(station.kind, 1)
    means: dict[str, float | None] = {}
    n = 0
    for code in sorted(set(hours) | set(packets)):
        if packets.get(code):
            own = packets[code]
            s = summarise([(r.value, r.flag) for r in own])
            source = "station"
        else:
            s = summarise(
                [(mean, NORMAL if mean is not None else flag) for _, mean, flag in hours[code]],
                min_valid=min_valid,
            )
            source = "hour"
        session.add(_row(station, "day", at, code, source, s))
        means[code] = s.mean
        n += 1
    named = _named(means)
    if O3 in hours and station.kind in MIN_VALID_HOURS:
        series24: list[float | None] = [None] * 24
        for moment, mean, _ in hours[O3]:
            series24[moment.astimezone(LOCAL).hour] = mean
        valid = sum(1 for v in series24 if v is not None)
        for code, value, name in (
            (O3_1H_MAX, max_1h(series24) if valid >= min_valid else None, "O3"),
            (O3_8H, max_8h(series24), "O3_8h"),
        ):
            s = Summary(value, valid, {NORMAL: valid} if valid else {})
            session.add(_row(station, "day", at, code, "hour", s))
            n += 1
            named.pop(name, None)
            if value is not None:
                named[name] = value
    if n:
        index = _index(station, "day", at, named, AIR_DAY_NAMES)
        if index is not None:
            session.add(index)
    return n


# --- the job ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AggregateResult:
    skipped: bool = False  # another process holds the job's lock
    hours: int = 0
    days: int = 0
    due: bool = True  # False: the last run is more recent than the interval asked for


def _lock(session: Session) -> bool:
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}).scalar())
    return True  # SQLite: a unit of work begins with BEGIN IMMEDIATE, which excludes other writers


def aggregate_pending(
    session: Session, now: datetime | None = None, *, every_s: float = 0.0, first_days: int | None = None
) -> AggregateResult:
    """Aggregate every closed hour (and its day) that received readings since the last run (if that run
    is at least ``every_s`` seconds old). A first run looks back ``first_days`` (default: the setting)."""
    now = now or utcnow()
    if not _lock(session):
        return AggregateResult(skipped=True)
    mark = session.get(MonitoringMark, MARK)
    if mark is not None and every_s and (now - mark.at).total_seconds() < every_s:
        return AggregateResult(due=False)
    boundary = floor_hour(now)  # hours starting before it are closed
    windows = Reading.window.in_(("rt", "min", "hour", "day"))  # the (window, at) index
    if mark is None:
        days_back = get_monitoring_settings().aggregate_first_days if first_days is None else first_days
        first = boundary - timedelta(days=days_back)
        conds: list[ColumnElement[bool]] = [windows & (Reading.at >= first)]
    else:  # late data (by the received_at index), and the hours that were still open at the last run
        conds = [Reading.received_at > mark.at - SAFETY, windows & (Reading.at >= floor_hour(mark.at))]
    touched: set[tuple[int, str, datetime]] = set()
    for cond in conds:
        q = select(Reading.station_id, Reading.window, Reading.at).where(cond).distinct()
        touched.update((sid, w, at) for sid, w, at in session.execute(q))
    hours: dict[int, set[datetime]] = defaultdict(set)
    days: dict[int, set[date]] = defaultdict(set)
    for station_id, window, at in touched:
        if window == "day":
            if at < boundary:
                days[station_id].add(local_day(at))
            continue
        hour = floor_hour(at)
        if hour < boundary:
            hours[station_id].add(hour)
            days[station_id].add(local_day(hour))
    n_hours = n_days = 0
    for station_id in sorted(set(hours) | set(days)):
        station = session.get(Station, station_id)
        if station is None:
            continue
        for hour in sorted(hours.get(station_id, ())):
            aggregate_hour(session, station, hour)
            n_hours += 1
        aggregate_days(session, station, days.get(station_id, ()))
        n_days += len(days.get(station_id, ()))
    if mark is None:
        session.add(MonitoringMark(name=MARK, at=now))
    else:
        mark.at = now
    session.flush()
    return AggregateResult(False, n_hours, n_days)


def run_job() -> str:
    """The periodic job (``civicgrid jobs run station-aggregate``): aggregates, then the archive.

    Declared with a one-minute beat; it works every ``aggregate_interval_s`` (a monitoring setting, read
    here rather than where the domain is declared, which must stay light for ``civicgrid --help``)."""
    from civicgrid.db import unit_of_work

    every = get_monitoring_settings().aggregate_interval_s
    if every <= 0:
        return "已关闭（CIVICGRID_MONITORING_AGGREGATE_INTERVAL_S=0）"
    with unit_of_work() as session:
        r = aggregate_pending(session, every_s=every - 1)
    if r.skipped:
        return "另一个进程正在汇总，本次跳过"
    if not r.due:
        return "未到汇总时间"
    moved = files = 0
    while True:
        with unit_of_work() as session:
            a = archive(session)
        moved += a.rows
        files += a.files
        if a.rows < get_monitoring_settings().archive_batch_rows:
            break
    return f"汇总小时 {r.hours} 个、日 {r.days} 个；归档分钟/实时数据 {moved} 条（{files} 个文件）"


# --- the archive ------------------------------------------------------------------------------------------


def archive_root() -> Path:
    return get_monitoring_settings().archive_dir or get_settings().data_dir / "warehouse" / "station-readings"


@dataclass(frozen=True)
class ArchiveResult:
    rows: int = 0
    files: int = 0


def _month(at: datetime) -> str:
    return at.astimezone(LOCAL).strftime("%Y-%m")


def _write_parquet(path: Path, columns: dict[str, list[Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ts = pa.timestamp("us", tz="UTC")
    schema = pa.schema(
        [
            ("mn", pa.string()),
            ("station_id", pa.int64()),
            ("window", pa.string()),
            ("code", pa.string()),
            ("at", ts),
            ("value", pa.float64()),
            ("vmin", pa.float64()),
            ("vmax", pa.float64()),
            ("flag", pa.string()),
            ("received_at", ts),
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.table(columns, schema=schema), tmp, compression="zstd")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def archive(
    session: Session, now: datetime | None = None, *, root: Path | None = None, batch: int | None = None
) -> ArchiveResult:
    """Move a batch of old minute and real-time readings to Parquet; rows go once their file is in place."""
    cfg = get_monitoring_settings()
    now = now or utcnow()
    if not _lock(session):
        return ArchiveResult()
    cutoff = now - timedelta(days=cfg.archive_after_days)
    rows = session.execute(
        select(
            Reading.id,
            Station.mn,
            Station.kind,
            Reading.station_id,
            Reading.window,
            Reading.code,
            Reading.at,
            Reading.value,
            Reading.vmin,
            Reading.vmax,
            Reading.flag,
            Reading.received_at,
        )
        .join(Station, Station.id == Reading.station_id)
        .where(Reading.window.in_(ARCHIVED_WINDOWS), Reading.at < cutoff)
        .order_by(Reading.at, Reading.id)
        .limit(batch or cfg.archive_batch_rows)
    ).all()
    if not rows:
        return ArchiveResult()
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in rows:
        groups[(r.kind, _month(r.at))].append(r)
    base = root or archive_root()
    stamp = now.strftime("%Y%m%dT%H%M%S")
    for (kind, month), part in groups.items():
        cols = ("mn", "station_id", "window", "code", "at", "value", "vmin", "vmax", "flag", "received_at")
        data = {c: [getattr(r, c) for r in part] for c in cols}
        path = base / f"kind={kind}" / f"month={month}" / f"part-{stamp}-{secrets.token_hex(4)}.parquet"
        _write_parquet(path, data)
    ids = [r.id for r in rows]
    for i in range(0, len(ids), 900):
        session.execute(delete(Reading).where(Reading.id.in_(ids[i : i + 900])))
    return ArchiveResult(len(rows), len(groups))


def _months(since: datetime, until: datetime) -> list[str]:
    out: list[str] = []
    cur = since.astimezone(LOCAL).date().replace(day=1)
    last = (until - timedelta(microseconds=1)).astimezone(LOCAL).date()
    while cur <= last:
        out.append(cur.strftime("%Y-%m"))
        cur = (cur + timedelta(days=32)).replace(day=1)
    return out


def archived(
    station: Station, window: str, since: datetime, until: datetime, *, root: Path | None = None
) -> list[Reading]:
    """A station's archived readings of one window in [since, until), read from Parquet with DuckDB.

    The rows come back as detached ``Reading`` objects (not in any session); a row archived twice (a batch
    whose deletion was rolled back) comes back once."""
    if window not in ARCHIVED_WINDOWS or since >= until:
        return []
    base = root or archive_root()
    files = sorted(
        str(f) for m in _months(since, until) for f in base.glob(f"kind=*/month={m}/part-*.parquet")
    )
    if not files:
        return []
    import duckdb

    con = duckdb.connect(":memory:", config={"threads": 1})
    try:
        got = con.execute(
            'SELECT code, epoch_us("at"), any_value(value), any_value(vmin), any_value(vmax), '
            "any_value(flag), epoch_us(any_value(received_at)) FROM read_parquet(?) "
            'WHERE mn = ? AND "window" = ? AND "at" >= ? AND "at" < ? GROUP BY code, "at" ORDER BY 2, 1',
            [files, station.mn, window, since.astimezone(UTC), until.astimezone(UTC)],
        ).fetchall()
    finally:
        con.close()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return [
        Reading(
            station_id=station.id,
            window=window,
            code=code,
            at=epoch + timedelta(microseconds=at),
            value=value,
            vmin=vmin,
            vmax=vmax,
            flag=flag,
            received_at=epoch + timedelta(microseconds=received),
        )
        for code, at, value, vmin, vmax, flag, received in got
    ]


def series(
    session: Session, station: Station, window: str, since: datetime, until: datetime
) -> list[Reading]:
    """Like ``readings.series``, and for minute and real-time data the archived rows too (the table wins)."""
    live = readings.series(session, station, window, since, until)
    if window not in ARCHIVED_WINDOWS:
        return live
    old = archived(station, window, since, until)
    if not old:
        return live
    seen = {(r.at, r.code) for r in live}
    merged = live + [r for r in old if (r.at, r.code) not in seen]
    merged.sort(key=lambda r: (r.at, r.code))
    return merged
