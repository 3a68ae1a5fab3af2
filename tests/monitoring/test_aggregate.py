"""Hourly and daily aggregates, the station-aggregate job and the Parquet archive (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from tests.builders import grid_point

from civicgrid.models import Reading, Station
from civicgrid.models.monitoring import MonitoringMark, StationAggregate, StationIndex
from civicgrid.monitoring import aggregate, stations
from civicgrid.monitoring.means import O3_1H_MAX, O3_8H

pytestmark = pytest.mark.db

PM25, PM10, SO2, O3 = "a34004", "a34002", "a21026", "a05024"
HOUR = datetime(2026, 11, 10, 2, tzinfo=UTC)  # 10:00 local
DAY = date(2026, 11, 10)
DAY0 = datetime(2026, 11, 9, 16, tzinfo=UTC)  # local midnight of DAY


def make_station(session: Session, mn: str, kind: str = "air", index: int = 3, **kw: object) -> Station:
    p = grid_point(session, index)
    data = stations.StationIn(mn, kind, f"站点{mn}", p.lng, p.lat, **kw)  # type: ignore[arg-type]
    return stations.add(session, data)


def add(
    session: Session,
    st: Station,
    window: str,
    code: str,
    at: datetime,
    value: float | None,
    flag: str = "N",
    received_at: datetime | None = None,
) -> None:
    session.add(
        Reading(
            station_id=st.id, window=window, code=code, at=at, value=value, flag=flag,
            received_at=received_at or at + timedelta(hours=1),
        )
    )  # fmt: skip


def agg(session: Session, st: Station, window: str, at: datetime, code: str) -> StationAggregate:
    row = session.scalar(
        select(StationAggregate).where(
            StationAggregate.station_id == st.id,
            StationAggregate.window == window,
            StationAggregate.at == at,
            StationAggregate.code == code,
        )
    )
    assert row is not None, (window, at, code)
    return row


def index_of(session: Session, st: Station, window: str, at: datetime) -> StationIndex | None:
    return session.scalar(
        select(StationIndex).where(
            StationIndex.station_id == st.id, StationIndex.window == window, StationIndex.at == at
        )
    )


def test_an_hour_from_minutes_counts_only_n_values(session: Session) -> None:
    st = make_station(session, "AGG-MIN-1")
    for m in range(60):
        at = HOUR + timedelta(minutes=m)
        if m < 50:
            add(session, st, "min", PM25, at, 30.0 if m % 2 else 50.0)
        else:
            add(session, st, "min", PM25, at, 999.0, "D")  # a faulty analyser: never in the mean
        add(session, st, "min", SO2, at, 500.0, "M")  # maintenance all hour
    add(session, st, "rt", PM25, HOUR + timedelta(seconds=30), 300.0)  # real-time: minutes win
    session.flush()
    assert aggregate.aggregate_hour(session, st, HOUR + timedelta(minutes=17)) == 2
    pm = agg(session, st, "hour", HOUR, PM25)
    assert (pm.mean, pm.valid, pm.flags, pm.flag, pm.source) == (40.0, 50, {"N": 50, "D": 10}, "N", "min")
    assert (pm.vmin, pm.vmax) == (30.0, 50.0)
    so2 = agg(session, st, "hour", HOUR, SO2)
    assert (so2.mean, so2.valid, so2.flags, so2.flag) == (None, 0, {"M": 60}, "M")
    idx = index_of(session, st, "hour", HOUR)
    assert idx is not None
    # hourly AQI of PM2.5 40 (24-h column, 2026 table): 50 + 50/25 × 5 = 60; SO2 has no valid value
    assert (idx.aqi, idx.level, idx.primary_pollutants, idx.complete) == (60, 2, "PM2.5", False)


def test_real_time_values_make_the_hour_without_minutes(session: Session) -> None:
    st = make_station(session, "AGG-RT-1")
    for s in range(0, 3600, 600):
        add(session, st, "rt", PM10, HOUR + timedelta(seconds=s), float(s // 60))  # 0, 10, … 50
    session.flush()
    aggregate.aggregate_hour(session, st, HOUR)
    row = agg(session, st, "hour", HOUR, PM10)
    assert (row.mean, row.valid, row.source) == (25.0, 6, "rt")


def test_the_stations_own_hourly_packet_is_preferred_and_recomputing_replaces(session: Session) -> None:
    st = make_station(session, "AGG-OWN-1")
    for m in range(60):
        add(session, st, "min", PM25, HOUR + timedelta(minutes=m), 10.0)
        add(session, st, "min", PM10, HOUR + timedelta(minutes=m), 20.0)
    add(session, st, "hour", PM25, HOUR, 80.0)  # CN 2061 for PM2.5 only
    session.flush()
    aggregate.aggregate_hour(session, st, HOUR)
    aggregate.aggregate_hour(session, st, HOUR)  # again: replaced, not doubled
    pm25 = agg(session, st, "hour", HOUR, PM25)
    assert (pm25.mean, pm25.valid, pm25.source) == (80.0, 1, "station")
    pm10 = agg(session, st, "hour", HOUR, PM10)
    assert (pm10.mean, pm10.source) == (20.0, "min")
    n = session.scalar(
        select(func.count()).select_from(StationAggregate).where(StationAggregate.station_id == st.id)
    )
    assert n == 2
    assert (
        session.scalar(select(func.count()).select_from(StationIndex).where(StationIndex.station_id == st.id))
        == 1
    )
    # A station's flagged hourly value is not valid, even if minutes were fine.
    session.execute(
        update(Reading).where(Reading.station_id == st.id, Reading.window == "hour").values(flag="C")
    )
    aggregate.aggregate_hour(session, st, HOUR)
    pm25 = agg(session, st, "hour", HOUR, PM25)
    assert (pm25.mean, pm25.flag, pm25.source) == (None, "C", "station")


def test_a_day_needs_20_valid_hours_and_gets_o3_and_aqi(session: Session) -> None:
    st = make_station(session, "AGG-DAY-1")
    for h in range(24):
        at = DAY0 + timedelta(hours=h)
        if h < 20:
            add(session, st, "hour", PM25, at, 80.0)
        else:
            add(session, st, "hour", PM25, at, 500.0, "D")
        if h < 19:
            add(session, st, "hour", PM10, at, 100.0)  # 19 valid hours: no daily mean
        add(session, st, "hour", O3, at, 200.0 if 10 <= h < 18 else 50.0)
    session.flush()
    got = aggregate.aggregate_pending(session, now=DAY0 + timedelta(days=1, minutes=5))
    assert (got.skipped, got.hours, got.days) == (False, 24, 1)
    pm25 = agg(session, st, "day", DAY0, PM25)
    assert (pm25.mean, pm25.valid, pm25.flags, pm25.source) == (80.0, 20, {"N": 20, "D": 4}, "hour")
    pm10 = agg(session, st, "day", DAY0, PM10)
    assert (pm10.mean, pm10.valid) == (None, 19)
    assert agg(session, st, "day", DAY0, O3_8H).mean == 200.0  # 10:00–18:00
    assert agg(session, st, "day", DAY0, O3_1H_MAX).mean == 200.0
    idx = index_of(session, st, "day", DAY0)
    assert idx is not None
    # PM2.5 80 on the 2026 table: 100 + 50/55 × 20 = 118.2 → 119; O3_8h 200: 100 + 50/55 × 40 = 136.4 → 137;
    # O3 1-h max 200 → 100. AQI 137, 三级, primary O3_8h.
    assert (idx.aqi, idx.level, idx.primary_pollutants) == (137, 3, "O3_8h")


def test_the_stations_daily_packet_is_preferred(session: Session) -> None:
    st = make_station(session, "AGG-DAY-2")
    for h in range(24):
        add(session, st, "hour", PM25, DAY0 + timedelta(hours=h), 10.0)
    add(session, st, "day", PM25, DAY0, 33.0)  # CN 2031
    session.flush()
    aggregate.aggregate_pending(session, now=DAY0 + timedelta(days=2))
    row = agg(session, st, "day", DAY0, PM25)
    assert (row.mean, row.source) == (33.0, "station")
    assert agg(session, st, "hour", DAY0 + timedelta(hours=5), PM25).mean == 10.0


def test_water_stations_get_a_class_per_hour_and_day(session: Session) -> None:
    st = make_station(session, "AGG-WATER-1", kind="water", target_class="III")
    for h in (0, 4, 8, 12, 16, 20):  # a sample every 4 hours is enough for a day
        at = DAY0 + timedelta(hours=h)
        add(session, st, "hour", "w21003", at, 0.9 if h < 12 else 1.3)  # NH3-N: III, then IV
        add(session, st, "hour", "w01009", at, 6.5)  # DO: II
    session.flush()
    aggregate.aggregate_pending(session, now=DAY0 + timedelta(days=1, hours=1))
    first = index_of(session, st, "hour", DAY0)
    last = index_of(session, st, "hour", DAY0 + timedelta(hours=20))
    assert first is not None and last is not None
    assert (first.water_class, last.water_class, first.aqi) == ("III", "IV", None)
    day = index_of(session, st, "day", DAY0)
    assert day is not None and day.water_class == "IV"  # NH3-N daily mean 1.1
    assert agg(session, st, "day", DAY0, "w21003").mean == pytest.approx(1.1)


def test_the_job_takes_closed_hours_and_late_data_since_its_last_run(session: Session) -> None:
    st = make_station(session, "AGG-JOB-1")
    session.query(MonitoringMark).delete()
    now = HOUR + timedelta(minutes=30)  # HOUR is still open
    add(session, st, "min", PM25, HOUR - timedelta(minutes=10), 20.0, received_at=now - timedelta(minutes=9))
    add(session, st, "min", PM25, HOUR + timedelta(minutes=10), 30.0, received_at=now - timedelta(minutes=19))
    session.flush()
    first = aggregate.aggregate_pending(session, now=now)
    assert first.hours == 1  # only the closed hour before HOUR
    assert agg(session, st, "hour", HOUR - timedelta(hours=1), PM25).mean == 20.0
    open_hour = select(func.count()).where(
        StationAggregate.station_id == st.id, StationAggregate.window == "hour", StationAggregate.at == HOUR
    )
    assert session.scalar(open_hour) == 0
    # One hour later: HOUR has closed (its data came before the last run), and a late minute of the
    # hour before arrives: both are (re)computed.
    later = now + timedelta(hours=1)
    add(session, st, "min", PM25, HOUR - timedelta(minutes=5), 40.0, received_at=later - timedelta(minutes=5))
    session.flush()
    second = aggregate.aggregate_pending(session, now=later)
    assert second.hours == 2
    assert agg(session, st, "hour", HOUR - timedelta(hours=1), PM25).mean == 30.0
    assert agg(session, st, "hour", HOUR, PM25).mean == 30.0
    # Nothing new: nothing to do.
    assert aggregate.aggregate_pending(session, now=later + timedelta(hours=2)).hours == 0


def test_old_minutes_move_to_parquet_and_still_read_back(session: Session, tmp_path: Path) -> None:
    st = make_station(session, "AGG-ARCH-1")
    now = datetime(2026, 11, 30, 4, tzinfo=UTC)
    old = datetime(2026, 10, 31, 15, 50, tzinfo=UTC)  # local 2026-10-31 23:50 … 2026-11-01 00:09
    for m in range(20):
        add(session, st, "min", PM25, old + timedelta(minutes=m), float(m), "N" if m % 5 else "D")
    recent = now - timedelta(days=1)
    add(session, st, "min", PM25, recent, 99.0)
    add(session, st, "hour", PM25, old, 7.0)  # hourly readings stay in the table
    session.flush()
    root = tmp_path / "archive"
    got = aggregate.archive(session, now, root=root)
    assert got.rows == 20 and got.files == 2  # two local months
    assert sorted(p.parent.name for p in root.glob("kind=air/month=*/part-*.parquet")) == [
        "month=2026-10",
        "month=2026-11",
    ]
    left = session.scalars(select(Reading).where(Reading.station_id == st.id).order_by(Reading.at)).all()
    assert [(r.window, r.value) for r in left] == [("hour", 7.0), ("min", 99.0)]
    back = aggregate.archived(st, "min", old, old + timedelta(hours=1), root=root)
    assert [(r.at, r.value, r.flag) for r in back] == [
        (old + timedelta(minutes=m), float(m), "N" if m % 5 else "D") for m in range(20)
    ]
    assert (
        aggregate.archived(st, "min", old + timedelta(minutes=12), old + timedelta(minutes=14), root=root)[
            0
        ].value
        == 12.0
    )
    assert aggregate.archived(st, "rt", old, now, root=root) == []
    assert aggregate.archive(session, now, root=root).rows == 0  # nothing more to move


def test_series_reads_the_table_and_the_default_archive_together(session: Session) -> None:
    st = make_station(session, "AGG-ARCH-2")
    now = datetime(2026, 11, 30, 4, tzinfo=UTC)
    start = now - timedelta(days=8, minutes=2)
    for m in range(4):  # two archived, two (newer than 7 days) kept
        add(session, st, "min", PM10, start + timedelta(days=m // 2, minutes=m), 10.0 + m)
    session.flush()
    aggregate.archive(session, now, batch=1000)
    assert session.scalar(select(func.count()).select_from(Reading).where(Reading.station_id == st.id)) == 2
    rows = aggregate.series(session, st, "min", start, now)
    assert [r.value for r in rows] == [10.0, 11.0, 12.0, 13.0]
    assert all(r.at.tzinfo is not None for r in rows)
    # A batch whose deletion was rolled back gets archived again: its rows still read back once.
    import shutil

    files = sorted(aggregate.archive_root().glob("kind=air/month=*/part-*.parquet"))
    mine = [f for f in files if b"AGG-ARCH-2" in f.read_bytes()]
    assert mine
    shutil.copy(mine[0], mine[0].with_name("part-again.parquet"))
    assert [r.value for r in aggregate.series(session, st, "min", start, now)] == [10.0, 11.0, 12.0, 13.0]


def test_the_registered_job_aggregates_and_archives_committed_data(db: object) -> None:
    from sqlalchemy import delete

    from civicgrid.db import unit_of_work
    from civicgrid.jobs.runner import registered, run_job
    from civicgrid.models import utcnow

    now = utcnow()
    closed = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    old = closed - timedelta(days=8)
    with unit_of_work() as s:
        s.execute(delete(MonitoringMark))
        st = make_station(s, "AGG-JOB-2")
        for m in range(0, 60, 10):
            add(s, st, "min", PM25, closed + timedelta(minutes=m), 42.0, received_at=now)
            add(s, st, "min", PM25, old + timedelta(minutes=m), 7.0, received_at=now)
        sid = st.id
    try:
        (job,) = registered(["station-aggregate"])
        summary = run_job(job)
        assert re.search(r"归档分钟/实时数据 \d+ 条", summary), summary  # ≥ 6: other tests' rows may join
        with unit_of_work(write=False) as s:
            got = s.get(Station, sid)
            assert got is not None
            assert agg(s, got, "hour", closed, PM25).mean == 42.0
            kept = s.scalars(select(Reading.at).where(Reading.station_id == sid)).all()
            assert len(kept) == 6 and min(kept) >= closed
            back = aggregate.series(s, got, "min", old, old + timedelta(hours=1))
            assert [r.value for r in back] == [7.0] * 6
        assert run_job(job) == "未到汇总时间"  # the next beat, within the interval
    finally:
        with unit_of_work() as s:
            for model in (StationAggregate, StationIndex, Reading):
                s.execute(delete(model).where(model.station_id == sid))
            s.execute(delete(Station).where(Station.id == sid))
            s.execute(delete(MonitoringMark))
