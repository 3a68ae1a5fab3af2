"""Station → TCP → stored readings, through the real listener service and the database."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from tests.builders import auth, grid_point

from civicgrid.db import unit_of_work
from civicgrid.errors import InvalidInput, OutsideDistrict
from civicgrid.models import Reading, Station
from civicgrid.monitoring import stations
from civicgrid.monitoring.hj212 import build, parse_frame
from civicgrid.monitoring.service import serve

pytestmark = pytest.mark.db

MN = "TESTAIR0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def station(db: object) -> Iterator[str]:
    with unit_of_work() as s:
        p = grid_point(s, 5)
        stations.add(s, stations.StationIn(MN, "air", "测试空气站", p.lng, p.lat, "654321"))
    try:
        yield MN
    finally:
        with unit_of_work() as s:
            s.execute(delete(Station).where(Station.mn == MN))


@pytest.fixture
def listener(station: str) -> Iterator[int]:
    port = free_port()
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=lambda: asyncio.run(serve("127.0.0.1", port, stop, ready)), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield port
    finally:
        stop.set()
        thread.join(10)


def hourly(pw: str = "654321", qn: str = "20261130110000001", mn: str = MN) -> bytes:
    cp = (
        "DataTime=20261130100000;a34004-Avg=80,a34004-Min=60,a34004-Max=95,a34004-Flag=N;"
        "a34002-Avg=120,a34002-Flag=N;a21026-Avg=10,a21026-Flag=M"
    )
    return build({"QN": qn, "ST": "22", "CN": "2061", "PW": pw, "MN": mn, "Flag": 5}, cp)


def exchange(port: int, *frames: bytes) -> list[bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        answers = []
        f = sock.makefile("rb")
        for frame in frames:
            sock.sendall(frame)
            answers.append(f.readline())
        return answers


def test_an_hourly_packet_is_stored_once_even_when_sent_twice(listener: int) -> None:
    first, again, wrong_pw = exchange(listener, hourly(), hourly(qn="20261130110000002"), hourly(pw="000000"))
    assert parse_frame(first).cn == "9014" and parse_frame(again).cn == "9014"
    assert parse_frame(wrong_pw).cp == {"QnRtn": "3"}
    with unit_of_work(write=False) as s:
        st = s.scalar(select(Station).where(Station.mn == MN))
        assert st is not None and st.last_seen_at is not None
        rows = s.scalars(select(Reading).where(Reading.station_id == st.id).order_by(Reading.code)).all()
    got = {(r.code, r.window, r.value, r.vmin, r.vmax, r.flag) for r in rows}
    assert got == {
        ("a34004", "hour", 80.0, 60.0, 95.0, "N"),
        ("a34002", "hour", 120.0, None, None, "N"),
        ("a21026", "hour", 10.0, None, None, "M"),  # M (maintenance): kept, not a fault
    }
    # DataTime is Beijing time at the start of the hour: 10:00 +08:00 is 02:00 UTC.
    assert {r.at for r in rows} == {datetime(2026, 11, 30, 2, 0, tzinfo=UTC)}


def test_a_deactivated_station_is_refused_as_an_unknown_mn(listener: int) -> None:
    with unit_of_work() as s:
        stations.deactivate(s, MN)
    time.sleep(1.1)  # the station book is re-read for an unknown MN at most once a second
    (answer,) = exchange(listener, hourly())
    assert parse_frame(answer).cp == {"QnRtn": "4"}


def test_station_checks(session: Session) -> None:
    p = grid_point(session, 1)
    with pytest.raises(InvalidInput, match="目标水质类别"):
        stations.add(session, stations.StationIn("W1", "water", "断面", p.lng, p.lat))
    with pytest.raises(InvalidInput, match="MN 应为"):
        stations.add(session, stations.StationIn("bad mn!", "air", "站", p.lng, p.lat))
    with pytest.raises(InvalidInput, match="系统保留字"):  # /stations/rules: the rules
        stations.add(session, stations.StationIn("rules", "air", "站", p.lng, p.lat))
    with pytest.raises(OutsideDistrict):
        stations.add(session, stations.StationIn("FAR1", "air", "远处", 116.4, 39.9))
    st = stations.add(session, stations.StationIn("W2", "water", "断面", p.lng, p.lat, target_class="III"))
    assert st.grid_code == p.grid_code and stations.present(st)["kind_label"] == "地表水"
    assert "password" not in stations.present(st)


def test_the_stations_api_lists_reads_and_refuses_bad_input(client: TestClient, session: Session) -> None:
    p = grid_point(session, 2)
    st = stations.add(session, stations.StationIn("API001", "air", "接口测试站", p.lng, p.lat, "111111"))
    from civicgrid.monitoring.hj212 import parse_frame as parse
    from civicgrid.monitoring.readings import store

    store(session, st, parse(hourly(mn="API001")))
    headers = auth(session, "operator")
    listed = client.get("/api/v1/stations", headers=headers)
    assert listed.status_code == 200
    assert [s["mn"] for s in listed.json()] == ["API001"] and "password" not in listed.json()[0]
    got = client.get(
        "/api/v1/stations/API001/readings",
        params={"from": "2026-11-30T00:00:00", "to": "2026-12-01T00:00:00", "interval": "hour"},
        headers=headers,
    )
    assert got.status_code == 200, got.text
    assert sorted((r["code"], r["value"]) for r in got.json()["readings"]) == [
        ("a21026", 10.0),
        ("a34002", 120.0),
        ("a34004", 80.0),
    ]
    assert client.get("/api/v1/stations/NOPE/readings", headers=headers).status_code == 404
    bad = client.get(
        "/api/v1/stations/API001/readings",
        params={"from": "2026-12-01T00:00:00", "to": "2026-11-30T00:00:00"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["detail"] == "起始时间应早于结束时间"
    assert client.get("/api/v1/stations").status_code == 401
    assert client.post("/api/v1/stations/API001/deactivate", headers=headers).status_code == 403


def test_store_counts_the_new_rows_on_either_database(session: Session) -> None:
    """readings.store says how many rows were new — 0 for a packet sent again (PostgreSQL used to say -1)."""
    from civicgrid.monitoring import readings

    p = grid_point(session, 2)
    st = stations.add(session, stations.StationIn("CNT1", "air", "计数站", p.lng, p.lat, password="123456"))
    header = {"QN": "20261130090500001", "ST": "22", "CN": "2061", "PW": "123456", "MN": "CNT1", "Flag": 5}
    cp = "DataTime=20261130090000;a34004-Avg=35,a34004-Flag=N;a34002-Avg=60,a34002-Flag=N"
    frame = build(header, cp)
    packet = parse_frame(frame)
    assert readings.store(session, st, packet) == 2
    assert readings.store(session, st, packet) == 0
    assert (
        session.scalar(select(Reading.value).where(Reading.station_id == st.id, Reading.code == "a34004"))
        == 35
    )
