"""MQTT ingest through the real broker (Mosquitto) and the database: stored exactly once, bad input refused.

Each run uses its own station MNs, share group and client ids, so runs on SQLite and PostgreSQL (and other
engineers' runs) share the broker without seeing each other's stations.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import delete, func, select
from tests.builders import grid_point

from civicgrid.db import unit_of_work
from civicgrid.models import Reading, Station
from civicgrid.monitoring import stations
from civicgrid.monitoring.hj212 import Packet, build
from civicgrid.monitoring.mqtt import IngestWorker, Store, parse_broker, topic_filters
from civicgrid.monitoring.service import store_packet, store_packets

pytestmark = pytest.mark.db

BIN = Path(sys.executable).parent / "civicgrid"
CLI_INGEST = (str(BIN), "mqtt", "ingest", "--workers", "2")
RUN = uuid.uuid4().hex[:8]
PW = "246810"
MNS = [f"MQ{RUN}{i:02d}" for i in range(4)]  # 12 characters, unique to this run


@pytest.fixture(scope="module")
def station_mns(db: object) -> Iterator[list[str]]:
    with unit_of_work() as s:
        for i, mn in enumerate(MNS):
            p = grid_point(s, 20 + i)
            stations.add(s, stations.StationIn(mn, "air", f"MQTT 测试站 {i}", p.lng, p.lat, PW))
    try:
        yield MNS
    finally:
        with unit_of_work() as s:
            ids = list(s.scalars(select(Station.id).where(Station.mn.in_(MNS))))
            s.execute(delete(Reading).where(Reading.station_id.in_(ids)))
            s.execute(delete(Station).where(Station.id.in_(ids)))


class Broker:
    """The test's side of the broker: publishes with QoS 1 and makes workers with this run's ids."""

    def __init__(self, url: str) -> None:
        self.address = parse_broker(url)
        self.pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.pub.connect(self.address.host, self.address.port)
        self.pub.loop_start()
        self.workers: list[IngestWorker] = []

    def publish(self, mn: str, kind: str, payload: bytes | str) -> None:
        self.pub.publish(f"civicgrid/stations/{mn}/{kind}", payload, qos=1).wait_for_publish(10)

    def worker(self, group: str, name: str, store: Store | None = None) -> IngestWorker:
        w = IngestWorker(
            self.address,
            group=f"t{RUN}{group}",
            client_id=f"t{RUN}-{name}",
            session_expiry_s=120,
            receive_maximum=20,
            store=store or store_packets,
            book=Book(),
        )
        w.start()
        assert w.subscribed.wait(10), "the worker did not subscribe"
        self.workers.append(w)
        return w

    def prepare(self, client_id: str, group: str) -> None:
        """Open the persistent session a worker will resume (subscribed, 120 s expiry), so messages published
        before the worker process is up wait for it."""
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 120
        done = threading.Event()
        c.on_subscribe = lambda *_: done.set()
        c.connect(self.address.host, self.address.port, clean_start=True, properties=props)
        c.loop_start()
        c.subscribe([(f, 1) for f in topic_filters(group)])
        assert done.wait(10)
        c.disconnect()
        c.loop_stop()

    def forget(self, client_id: str) -> None:
        """End a persistent session this run left on the broker."""
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        c.connect(self.address.host, self.address.port, clean_start=True)
        c.disconnect()

    def close(self) -> None:
        for w in self.workers:
            w.stop()
        for w in self.workers:
            self.forget(w.client_id)
        self.pub.disconnect()
        self.pub.loop_stop()


class Book:
    """The active stations' PWs, read from the database each time (``service.DatabaseBook`` caches)."""

    def password(self, mn: str) -> str | None:
        with unit_of_work(write=False) as s:
            return s.scalar(select(Station.password).where(Station.mn == mn, Station.active.is_(True)))


@pytest.fixture
def broker(mqtt_broker: str, station_mns: list[str]) -> Iterator[Broker]:
    b = Broker(mqtt_broker)
    try:
        yield b
    finally:
        b.close()


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def readings(mn: str) -> list[Reading]:
    with unit_of_work(write=False) as s:
        return list(
            s.scalars(
                select(Reading)
                .join(Station, Station.id == Reading.station_id)
                .where(Station.mn == mn)
                .order_by(Reading.at, Reading.code)
            )
        )


def count(mn: str) -> int:
    with unit_of_work(write=False) as s:
        n = s.scalar(
            select(func.count(Reading.id))
            .join(Station, Station.id == Reading.station_id)
            .where(Station.mn == mn)
        )
        return int(n or 0)


def hourly(mn: str, pw: str = PW, hour: int = 10) -> bytes:
    cp = f"DataTime=20261130{hour:02d}0000;a34004-Avg=80,a34004-Flag=N;a34002-Avg=120,a34002-Flag=N"
    return build({"QN": "20261130110000001", "ST": "22", "CN": "2061", "PW": pw, "MN": mn, "Flag": 4}, cp)


def ts(i: int) -> int:
    return int(datetime(2026, 11, 30, 2, 0, tzinfo=UTC).timestamp() * 1000) + i * 60_000


def rt_json(i: int, value: float = 35.5) -> str:
    return json.dumps({"ts": ts(i), "values": {"a34004": value}})


def test_a_raw_packet_and_a_json_message_are_stored(broker: Broker) -> None:
    mn = MNS[0]
    w = broker.worker("raw", "raw")
    broker.publish(mn, "hj212", hourly(mn).rstrip(b"\r\n"))  # without CRLF, as gateways publish it
    broker.publish(
        mn,
        "json",
        json.dumps({"ts": ts(0), "values": {"a34004": 35.5, "a21026": 7}, "flags": {"a21026": "D"}}),
    )
    wait_for(lambda: w.stats.stored == 2)
    rows = {(r.window, r.code): r for r in readings(mn)}
    assert set(rows) == {("hour", "a34004"), ("hour", "a34002"), ("rt", "a34004"), ("rt", "a21026")}
    assert rows[("hour", "a34004")].value == 80.0
    assert rows[("hour", "a34004")].at.replace(tzinfo=UTC) == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert rows[("rt", "a34004")].value == 35.5 and rows[("rt", "a34004")].flag == "N"
    assert rows[("rt", "a21026")].value == 7.0 and rows[("rt", "a21026")].flag == "D"
    assert rows[("rt", "a34004")].at.replace(tzinfo=UTC) == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert not [k for k in w.stats.refused if k[0] in MNS]


def test_bad_messages_are_acknowledged_counted_and_the_worker_goes_on(broker: Broker) -> None:
    mn, other = MNS[1], MNS[2]
    unknown = f"NO{RUN}99"
    w = broker.worker("bad", "bad")
    bad_crc = hourly(mn)[:-6] + b"0000\r\n"
    broker.publish(mn, "hj212", b"this is not a packet")
    broker.publish(mn, "hj212", bad_crc)
    broker.publish(mn, "hj212", hourly(other))  # another station's packet on this station's topic
    broker.publish(mn, "hj212", hourly(mn, pw="000000"))
    broker.publish(mn, "json", b"{not json")
    broker.publish(mn, "json", json.dumps({"values": {"a34004": 1}}))  # no ts
    broker.publish(mn, "json", json.dumps({"ts": ts(1), "values": {"a34004": "high"}}))
    broker.publish(unknown, "json", rt_json(1))
    broker.publish(mn, "json", rt_json(2))  # the one good message, last
    wait_for(lambda: w.stats.stored == 1)
    wait_for(lambda: sum(n for (who, _), n in w.stats.refused.items() if who in (mn, unknown)) == 8)
    assert {k: n for k, n in w.stats.refused.items() if k[0] in (mn, unknown)} == {
        (mn, "bad_packet"): 1,
        (mn, "bad_crc"): 1,
        (mn, "mn_mismatch"): 1,
        (mn, "bad_pw"): 1,
        (mn, "bad_json"): 3,
        (unknown, "unknown_station"): 1,
    }
    assert [(r.window, r.code, r.value) for r in readings(mn)] == [("rt", "a34004", 35.5)]
    assert count(other) == 0
    # Acknowledged: the same session, reconnected, gets none of them again.
    w.stop()
    again = broker.worker("bad", "bad")
    broker.publish(mn, "json", rt_json(3))
    wait_for(lambda: again.stats.stored == 1)
    time.sleep(0.5)
    assert again.stats.redelivered == 0
    assert not [k for k in again.stats.refused if k[0] in (mn, unknown)]
    assert count(mn) == 2


def test_two_workers_in_one_share_group_store_200_messages_exactly_once(broker: Broker) -> None:
    mn = MNS[3]
    a, b = broker.worker("split", "a"), broker.worker("split", "b")
    for i in range(200):
        broker.publish(mn, "json", rt_json(100 + i, value=float(i)))
    wait_for(lambda: a.stats.stored + b.stats.stored >= 200, timeout=90)
    time.sleep(0.5)
    assert a.stats.stored + b.stats.stored == 200  # no message taken twice
    assert a.stats.stored > 0 and b.stats.stored > 0  # the stream was split
    got = readings(mn)
    assert len(got) == 200
    assert sorted(r.value for r in got if r.value is not None) == [float(i) for i in range(200)]


def test_a_worker_stopped_mid_stream_loses_nothing_and_doubles_nothing(broker: Broker) -> None:
    mn = MNS[0]
    before = count(mn)
    w = broker.worker("restart", "r")
    for i in range(40):
        broker.publish(mn, "json", rt_json(1000 + i))
    wait_for(lambda: w.stats.stored == 40)
    w.stop()
    for i in range(40, 80):  # published while no worker of the group is connected
        broker.publish(mn, "json", rt_json(1000 + i))
    time.sleep(0.3)
    assert count(mn) == before + 40
    back = broker.worker("restart", "r")  # the same client id: the broker kept its session
    wait_for(lambda: back.stats.stored == 40)
    time.sleep(0.5)
    assert back.stats.stored == 40
    assert count(mn) == before + 80


def test_a_worker_that_dies_before_storing_gets_the_message_again(broker: Broker) -> None:
    mn = MNS[1]
    before = count(mn)
    gate, seen = threading.Event(), threading.Event()

    def hanging_store(packets: Sequence[Packet]) -> list[int | Exception]:
        # stores 5 messages, then hangs as a dying process would
        out: list[int | Exception] = []
        for packet in packets:
            if stored_by_first.stats.stored + len(out) >= 5:
                seen.set()
                gate.wait(30)
                raise RuntimeError("gone")
            out.append(store_packet(packet))
        return out

    stored_by_first = broker.worker("crash", "c", store=hanging_store)
    for i in range(10):
        broker.publish(mn, "json", rt_json(2000 + i))
    assert seen.wait(30)
    stored_by_first.kill()  # gone without acknowledging messages 6…10
    gate.set()
    assert count(mn) == before + 5
    back = broker.worker("crash", "c")
    wait_for(lambda: count(mn) == before + 10)
    time.sleep(0.5)
    assert back.stats.redelivered >= 1  # the broker sent the unacknowledged message again
    assert back.stats.stored >= 5 and count(mn) == before + 10


def test_the_mqtt_service_stores_when_enabled(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    from civicgrid.monitoring import mqtt as ingest
    from civicgrid.monitoring.settings import get_monitoring_settings

    mn = MNS[2]
    before = count(mn)
    monkeypatch.setenv("CIVICGRID_MONITORING_MQTT_ENABLED", "true")
    monkeypatch.setenv("CIVICGRID_MONITORING_MQTT_BROKER", str(broker.address))
    monkeypatch.setenv("CIVICGRID_MONITORING_MQTT_GROUP", f"t{RUN}svc")
    monkeypatch.setenv("CIVICGRID_MONITORING_MQTT_CLIENT_ID", f"t{RUN}-svc")
    monkeypatch.setenv("CIVICGRID_MONITORING_MQTT_SESSION_EXPIRY_S", "120")
    get_monitoring_settings.cache_clear()
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    try:
        broker.prepare(f"t{RUN}-svc-1", f"t{RUN}svc")
        thread.start()
        broker.publish(mn, "hj212", hourly(mn, hour=11))
        wait_for(lambda: count(mn) == before + 2)
    finally:
        stop.set()
        thread.join(15)
        get_monitoring_settings.cache_clear()
    assert not thread.is_alive()
    broker.forget(f"t{RUN}-svc-1")


@pytest.mark.slow  # three CLI processes: ~10 s on an idle machine, a minute on a loaded one
def test_civicgrid_mqtt_ingest_and_publish_through_the_real_entry_point(
    broker: Broker, tmp_path: Path
) -> None:
    mn = MNS[3]
    before = count(mn)
    for i in (1, 2):
        broker.prepare(f"t{RUN}-cli-{i}", f"t{RUN}cli")
    ingest = subprocess.Popen(
        [*CLI_INGEST, "--broker", str(broker.address), "--group", f"t{RUN}cli", "--client-id", f"t{RUN}-cli"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        packets = tmp_path / "packets.txt"
        packets.write_bytes(hourly(mn, hour=12) + hourly(mn, hour=13))
        pub = subprocess.run(
            [str(BIN), "mqtt", "publish", mn, str(packets), "--broker", str(broker.address)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert pub.returncode == 0, pub.stderr
        assert "发布 2 条消息" in pub.stdout
        wait_for(lambda: count(mn) == before + 4, timeout=60)
    finally:
        ingest.send_signal(signal.SIGINT)  # Ctrl+C
        out, _ = ingest.communicate(timeout=30)
    assert ingest.returncode == 0, out
    assert "已停止" in out and "入库" in out
    for i in (1, 2):
        broker.forget(f"t{RUN}-cli-{i}")
    bad = subprocess.run(
        [str(BIN), "mqtt", "publish", mn, str(tmp_path / "none.txt")], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "无法读取" in bad.stderr + bad.stdout


def test_a_batch_with_a_failing_packet_stores_the_others(
    station_mns: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from civicgrid.monitoring import alarms
    from civicgrid.monitoring.hj212 import parse_frame

    good, bad = MNS[2], MNS[3]
    before = count(good), count(bad)
    real = alarms.after_store

    def failing(session: object, station: Station, packet: Packet) -> None:
        if station.mn == bad:
            raise RuntimeError("a rule failed")
        real(session, station, packet)  # type: ignore[arg-type]

    monkeypatch.setattr(alarms, "after_store", failing)
    results = store_packets([parse_frame(hourly(good, hour=20)), parse_frame(hourly(bad, hour=20))])
    assert isinstance(results[1], RuntimeError) and not isinstance(results[0], Exception)
    assert (count(good), count(bad)) == (before[0] + 2, before[1])
