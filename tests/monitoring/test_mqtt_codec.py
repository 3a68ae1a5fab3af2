"""The pure parts of MQTT ingest: broker URLs, topics, JSON messages as the packets a station would send."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from civicgrid.monitoring.hj212 import build, parse_frame
from civicgrid.monitoring.mqtt import (
    Broker,
    MessageError,
    decode,
    hj212_packet,
    json_packet,
    parse_broker,
    parse_topic,
    topic_filters,
)
from civicgrid.monitoring.readings import rows_of

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
TS = int(datetime(2026, 11, 30, 2, 0, tzinfo=UTC).timestamp() * 1000)  # 10:00 in Asia/Shanghai


def test_broker_urls() -> None:
    assert parse_broker("mqtt://127.0.0.1:1883") == Broker("127.0.0.1", 1883)
    assert parse_broker("mqtt://broker") == Broker("broker", 1883)
    assert parse_broker("mqtts://u%40x:p%3Aw@broker") == Broker("broker", 8883, True, "u@x", "p:w")
    for bad in ("http://broker", "broker:1883", "mqtt://", "mqtt://h:99999"):
        with pytest.raises(ValueError, match="MQTT"):
            parse_broker(bad)


def test_topics() -> None:
    assert topic_filters("g1") == (
        "$share/g1/civicgrid/stations/+/hj212",
        "$share/g1/civicgrid/stations/+/json",
    )
    assert parse_topic("civicgrid/stations/AIR0001/hj212") == ("AIR0001", "hj212")
    assert parse_topic("civicgrid/stations/AIR0001/json") == ("AIR0001", "json")
    for bad in ("civicgrid/stations/AIR0001/xml", "civicgrid/stations//json", "other/AIR0001/json", "json"):
        with pytest.raises(MessageError) as e:
            parse_topic(bad)
        assert e.value.reason == "bad_topic"


def test_a_json_message_makes_the_rows_of_the_same_hj212_packet() -> None:
    payload = json.dumps(
        {"ts": TS, "window": "hour", "values": {"a34004": 80, "a34002": 120.5}, "flags": {"a34002": "D"}}
    ).encode()
    frame = build(
        {"QN": "20261130110000001", "ST": "22", "CN": "2061", "PW": "1", "MN": "AIR1", "Flag": 4},
        "DataTime=20261130100000;a34004-Avg=80;a34002-Avg=120.5,a34002-Flag=D",
    )
    assert rows_of(7, json_packet("AIR1", payload), NOW) == rows_of(7, parse_frame(frame), NOW)
    rows = rows_of(7, json_packet("AIR1", payload), NOW)
    assert [(r["window"], r["code"], r["value"], r["flag"]) for r in rows] == [
        ("hour", "a34004", 80.0, "N"),
        ("hour", "a34002", 120.5, "D"),
    ]
    assert rows[0]["at"] == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_json_defaults_to_real_time_and_keeps_flag_only_and_null_values() -> None:
    packet = json_packet(
        "W1", json.dumps({"ts": TS, "values": {"w01009": None}, "flags": {"w21003": "F"}}).encode()
    )
    rows = rows_of(1, packet, NOW)
    assert [(r["window"], r["code"], r["value"], r["flag"]) for r in rows] == [
        ("rt", "w01009", None, "N"),
        ("rt", "w21003", None, "F"),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        b"{",
        b"[1, 2]",
        b'{"values": {"a34004": 1}}',
        b'{"ts": true, "values": {"a34004": 1}}',
        b'{"ts": 12, "values": {"a34004": 1}}',
        b'{"ts": 1764468000000, "values": {}}',
        b'{"ts": 1764468000000, "values": {"a34004": "80"}}',
        b'{"ts": 1764468000000, "values": {"a34004": false}}',
        b'{"ts": 1764468000000, "values": {"a34004": 1e999}}',
        b'{"ts": 1764468000000, "values": {"a-34004": 1}}',
        b'{"ts": 1764468000000, "values": {"a34004": 1}, "window": "week"}',
        b'{"ts": 1764468000000, "values": {"a34004": 1}, "flags": {"a34004": "NORMAL"}}',
        b'{"ts": 1764468000000, "values": {"a34004": 1}, "flags": []}',
        b"\xff\xfe",
    ],
)
def test_bad_json_is_refused_with_a_reason(payload: bytes) -> None:
    with pytest.raises(MessageError) as e:
        json_packet("AIR1", payload)
    assert e.value.reason == "bad_json" and e.value.message


def test_raw_packets_with_or_without_crlf_and_their_refusals() -> None:
    frame = build(
        {"QN": "20261130100000001", "ST": "22", "CN": "2011", "PW": "1", "MN": "AIR1", "Flag": 4}, ""
    )
    assert hj212_packet("AIR1", frame).mn == "AIR1"
    assert hj212_packet("AIR1", frame.rstrip(b"\r\n")).mn == "AIR1"
    cases = {
        b"hello": "bad_packet",
        frame[:-6] + b"FFFF\r\n": "bad_crc",
        frame[:40]: "bad_crc",  # truncated: its last four characters are no CRC of the rest
        b"##12;QN=1;CP=&&&&": "bad_packet",  # no four-digit length
    }
    for payload, reason in cases.items():
        with pytest.raises(MessageError) as e:
            hj212_packet("AIR1", payload)
        assert e.value.reason == reason
    with pytest.raises(MessageError) as e:
        decode("civicgrid/stations/AIR2/hj212", frame)
    assert e.value.reason == "mn_mismatch"
