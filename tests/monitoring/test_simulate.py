"""The station simulator: its packets (valid CRC, the station's own PW), its values (normal, and over
the rules when asked), and its clients against the real HJ 212 listener service and database — every
station's readings stored, a listener restart survived, and ``civicgrid station simulate`` through the real
entry point."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from tests.builders import grid_point

from civicgrid.db import unit_of_work
from civicgrid.models import Reading, Station
from civicgrid.monitoring import aqi, hj212, rules, stations, water
from civicgrid.monitoring.service import serve
from civicgrid.monitoring.simulate import (
    Model,
    SimStation,
    SimStats,
    Simulator,
    data_packet,
    load_stations,
    spread,
)

BIN = Path(sys.executable).parent / "civicgrid"
AIR = SimStation("SIMAIR0001", "air", "pw0001")
WATER = SimStation("SIMWAT0001", "water", "pw0002", target_class="III")
DUST = SimStation("SIMDST0001", "dust", "pw0003")
SOURCE = SimStation("SIMSRC0001", "source", "pw0004", permit_limits={"a21002": 50.0})
ALL = (AIR, WATER, DUST, SOURCE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- Packets and values (pure) ------------------------------------------------------------------------------


def test_packets_carry_the_standards_crc_and_the_stations_own_pw() -> None:
    at = datetime(2026, 11, 30, 10, 0)
    model = Model(AIR, seed=1)
    values = model.values(at)
    rt = data_packet(AIR, "2011", at, values, seq=3)
    hour = data_packet(AIR, "2061", at, spread(values, {}, model.rng), sent=at + timedelta(hours=1))
    for frame in (rt, hour):
        seg = frame[6:-6]
        assert frame.startswith(b"##%04d" % len(seg)) and frame.endswith(b"\r\n")
        assert frame[-6:-2].decode() == f"{hj212.crc16(seg):04X}"
        p = hj212.parse_frame(frame)  # raises on a bad CRC
        assert (p.mn, p.pw, p.st, p.flag, p.deviations) == ("SIMAIR0001", "pw0001", "22", 5, ())
        assert p.wants_answer and len(p.qn or "") == 17
    p = hj212.parse_frame(rt)
    assert p.cn == "2011" and p.cp["DataTime"] == "20261130100000"
    assert {c: float(f["Rtd"]) for c, f in p.values.items()} == values
    assert all(f["Flag"] == "N" for f in p.values.values())
    h = hj212.parse_frame(hour)
    assert h.cn == "2061" and set(h.values["a34004"]) == {"Avg", "Min", "Max", "Flag"}
    assert (
        float(h.values["a34004"]["Min"])
        <= float(h.values["a34004"]["Avg"])
        <= float(h.values["a34004"]["Max"])
    )


def _aqi(values: dict[str, float], day: date) -> int:
    names = {
        "a34004": "PM2.5",
        "a34002": "PM10",
        "a21026": "SO2",
        "a21004": "NO2",
        "a21005": "CO",
        "a05024": "O3",
    }
    got = aqi.compute({names[c]: v for c, v in values.items()}, day=day, hourly=True).aqi
    assert got is not None
    return got


def test_normal_values_stay_inside_the_rules_and_intensity_one_breaks_them() -> None:
    start = datetime(2026, 11, 1)
    models = {s.mn: Model(s, seed="t") for s in ALL}
    for i in range(24 * 14):  # two weeks of hours, every curve and the drift
        at = start + timedelta(hours=i)
        air = models[AIR.mn].values(at)
        assert 0 < _aqi(air, at.date()) <= 150
        assert models[DUST.mn].values(at)["a34002"] <= 150
        w = models[WATER.mn].values(at)
        got = water.classify(
            {"DO": w["w01009"], "NH3-N": w["w21003"], "TP": w["w21011"], "CODMn": w["w01019"]}
        )
        assert got.water_class is not None and not water.worse_than(got.water_class, "III")
        assert models[SOURCE.mn].values(at)["a21002"] < 50
    at = start + timedelta(days=20, hours=3)
    assert _aqi(models[AIR.mn].values(at, 1.0), at.date()) > 200
    assert models[DUST.mn].values(at, 1.0)["a34002"] > 150
    w = models[WATER.mn].values(at, 1.0)
    assert water.classify({"NH3-N": w["w21003"]}).water_class == "劣V"
    assert models[SOURCE.mn].values(at, 1.0)["a21002"] > 50
    # the same station and seed give the same values (the demo is reproducible)
    assert Model(AIR, seed="x").values(start) == Model(AIR, seed="x").values(start)
    assert rules.exceeds(Model(DUST, seed=2).values(at, 1.0)["a34002"], 150)


# --- Against the real listener and database -----------------------------------------------------------------


@pytest.fixture
def sim_stations(db: object) -> Iterator[list[SimStation]]:
    with unit_of_work() as s:
        for i, st in enumerate(ALL):
            p = grid_point(s, 40 + i)
            stations.add(
                s,
                stations.StationIn(
                    st.mn, st.kind, f"模拟站{i}", p.lng, p.lat, st.password, target_class=st.target_class
                ),
            )
    try:
        yield list(ALL)
    finally:
        with unit_of_work() as s:
            ids = select(Station.id).where(Station.mn.in_([st.mn for st in ALL]))
            s.execute(delete(Reading).where(Reading.station_id.in_(ids)))
            s.execute(delete(Station).where(Station.mn.in_([st.mn for st in ALL])))


class Listener:
    """The real HJ 212 listener service (``service.serve``) in a thread, stoppable and restartable."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.stop = threading.Event()
        ready, stop = threading.Event(), self.stop
        self.thread = threading.Thread(
            target=lambda: asyncio.run(serve("127.0.0.1", self.port, stop, ready)), daemon=True
        )
        self.thread.start()
        assert ready.wait(15)

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(15)


def _rt_counts(mns: list[str]) -> dict[str, int]:
    with unit_of_work(write=False) as s:
        rows = s.execute(
            select(Station.mn, func.count(Reading.id))
            .join(Reading, Reading.station_id == Station.id)
            .where(Station.mn.in_(mns), Reading.window == "rt")
            .group_by(Station.mn)
        ).all()
    return {mn: int(n) for mn, n in rows}


def _wait_for(check: object, timeout: float = 20.0) -> bool:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_the_simulator_feeds_every_station_through_the_listener_and_survives_a_restart(
    sim_stations: list[SimStation],
) -> None:
    port = free_port()
    listener = Listener(port)
    listener.start()
    assert [s.mn for s in load_stations([s.mn for s in sim_stations])] == sorted(s.mn for s in sim_stations)
    sim = Simulator(sim_stations, "127.0.0.1", port, interval_s=0.2)
    stop = threading.Event()
    runner = threading.Thread(target=lambda: asyncio.run(sim.run(stop)), daemon=True)
    runner.start()
    mns = [s.mn for s in sim_stations]
    try:
        time.sleep(3)
        assert _wait_for(lambda: set(_rt_counts(mns)) == set(mns)), _rt_counts(mns)
        assert sim.stats.refused_total == 0 and sim.stats.acked > 0
        assert sim.stats.connections == len(mns) and sim.stats.open == len(mns)

        listener.close()  # the listener goes away: every client notices and keeps trying
        assert _wait_for(lambda: sim.stats.open == 0, 15)
        before = _rt_counts(mns)
        listener.start()  # … and comes back on the same port
        assert _wait_for(lambda: sim.stats.open == len(mns), 20), sim.stats
        assert _wait_for(lambda: all(n > before[mn] for mn, n in _rt_counts(mns).items()), 20)
        assert sim.stats.reconnects >= len(mns) and sim.stats.connections >= 2 * len(mns)
    finally:
        stop.set()
        runner.join(20)
        listener.close()
    assert not runner.is_alive()
    assert sim.stats.refused_total == 0
    assert sim.stats.acked >= sim.stats.sent - len(mns) * 3  # all answered but what was in flight
    with unit_of_work(write=False) as s:
        # the real-time values of the station are the ones it sent (a spot check of one row)
        row = s.scalars(
            select(Reading).join(Station).where(Station.mn == AIR.mn, Reading.code == "a34004")
        ).first()
        assert row is not None and row.flag == "N" and row.value is not None and 0 < row.value < 250


def test_a_wrong_password_is_refused_and_counted(sim_stations: list[SimStation]) -> None:
    port = free_port()
    listener = Listener(port)
    listener.start()
    wrong = SimStation(AIR.mn, "air", "nope99")
    stats = SimStats()
    try:
        sim = Simulator([wrong], "127.0.0.1", port, interval_s=0.2)
        stats = asyncio.run(sim.run(duration_s=1.5))
    finally:
        listener.close()
    assert stats.sent > 0 and stats.acked == 0
    assert stats.refused[hj212.QN_BAD_PW] == stats.refused_total >= 1


def test_the_station_simulate_command(sim_stations: list[SimStation]) -> None:
    port = free_port()
    listener = Listener(port)
    listener.start()
    try:
        r = subprocess.run(
            [
                *(str(BIN), "station", "simulate", "--port", str(port)),
                *("--stations", f"{AIR.mn},{DUST.mn}", "--interval", "0.2"),
                *("--minutes", "0.04", "--exceed", DUST.mn),
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
        bad = subprocess.run(
            [
                str(BIN),
                "station",
                "simulate",
                "--port",
                str(port),
                "--stations",
                "NOSUCHMN",
                "--minutes",
                "0.01",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        listener.close()
    assert r.returncode == 0, r.stderr
    assert "模拟 2 个站点" in r.stdout and "拒收 0" in r.stdout.replace("\n", "")
    assert bad.returncode == 2 and "没有这些在用站点：NOSUCHMN" in bad.stderr.replace("\n", "")
    with unit_of_work(write=False) as s:
        dust = s.scalars(
            select(Reading.value).join(Station).where(Station.mn == DUST.mn, Reading.code == "a34002")
        ).all()
    assert dust and min(v or 0 for v in dust) > 150  # --exceed: the site is over the dust rule
