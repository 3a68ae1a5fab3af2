"""HJ 212 packets: the standard's own example, CRC refusals, versions, lenient parsing and answers."""

from __future__ import annotations

import pytest

from civicgrid.monitoring import hj212
from civicgrid.monitoring.hj212 import PacketError, build, crc16, parse_frame

STANDARD = (
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
    b"CP=&&RtdInterval=30&&1C80\r\n"
)


def modbus_crc(data: bytes) -> int:
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_the_standards_example_checks_with_1c80_and_modbus_would_not() -> None:
    segment = STANDARD[6:-6]
    assert crc16(segment) == 0x1C80
    assert modbus_crc(segment) == 0x0759
    p = parse_frame(STANDARD)
    assert (p.qn, p.st, p.cn, p.pw, p.mn) == (
        "20160801085857223",
        "32",
        "1062",
        "100000",
        "010000A8900016F000169DC0",
    )
    assert p.flag == 5 and p.wants_answer and p.version == "2017"
    assert p.cp == {"RtdInterval": "30"}
    assert p.deviations == ()


def test_a_modbus_crc_is_refused_with_qnrtn_9_and_the_packet_still_addressed() -> None:
    bad = STANDARD.replace(b"1C80", b"0759")
    with pytest.raises(PacketError) as err:
        parse_frame(bad)
    assert err.value.code == hj212.QN_BAD_CRC
    assert err.value.qn == "20160801085857223" and err.value.mn == "010000A8900016F000169DC0"
    assert "应为 1C80" in err.value.message


def test_lower_case_crc_is_accepted_and_noted() -> None:
    p = parse_frame(STANDARD.replace(b"1C80", b"1c80"))
    assert p.deviations == ("CRC 为小写",)


def data_packet(flag: int | None = 5, cp: str | None = None) -> bytes:
    cp = cp or "DataTime=20261130100000;a34004-Rtd=80,a34004-Flag=N;a34002-Rtd=120.5,a34002-Flag=N"
    return build(
        {"QN": "20261130100000123", "ST": "22", "CN": "2011", "PW": "123456", "MN": "AIR001", "Flag": flag},
        cp,
    )


def test_a_data_packet_round_trips_with_pollutant_fields() -> None:
    p = parse_frame(data_packet())
    assert p.values == {"a34004": {"Rtd": "80", "Flag": "N"}, "a34002": {"Rtd": "120.5", "Flag": "N"}}
    assert p.data_time is not None and p.data_time.hour == 10
    assert p.cp == {"DataTime": "20261130100000"}


def test_versions_from_the_flag_bits_and_2005_without_flag() -> None:
    assert parse_frame(data_packet(flag=4)).version == "2017"
    assert not parse_frame(data_packet(flag=4)).wants_answer
    assert parse_frame(data_packet(flag=9)).version == "2025"
    old = build(
        {"ST": "32", "CN": "2011", "PW": "123456", "MN": "SRC01"}, "DataTime=20261130100000;011-Rtd=35.2"
    )
    p = parse_frame(old)
    assert p.version == "2005" and p.qn is None and not p.wants_answer
    assert p.values == {"011": {"Rtd": "35.2"}}


def test_an_unknown_version_is_refused_with_qnrtn_6() -> None:
    with pytest.raises(PacketError) as err:
        parse_frame(data_packet(flag=13))
    assert err.value.code == hj212.QN_BAD_FLAG


def test_a_length_counted_in_characters_is_accepted_and_noted() -> None:
    segment = "QN=20261130100000123;ST=22;CN=2011;PW=123456;MN=站点A;Flag=4;CP=&&DataTime=20261130100000&&"
    data = segment.encode()
    frame = b"##%04d" % len(segment) + data + hj212.crc_hex(data).encode() + b"\r\n"
    p = parse_frame(frame)
    assert p.mn == "站点A" and "长度按字符计" in p.deviations


def test_a_wrong_length_is_noted_not_fatal_when_the_crc_holds() -> None:
    frame = b"##0001" + data_packet()[6:]
    assert any(d.startswith("长度不符") for d in parse_frame(frame).deviations)


def test_milliseconds_in_datatime_are_tolerated() -> None:
    p = parse_frame(data_packet(cp="DataTime=20261130100000123;a34004-Rtd=80"))
    assert p.data_time is not None and p.data_time.second == 0 and "DataTime 带毫秒" in p.deviations


def test_a_missing_mn_is_refused_with_qnrtn_4() -> None:
    frame = build({"QN": "20261130100000123", "ST": "22", "CN": "2011", "PW": "1", "Flag": 5}, "")
    with pytest.raises(PacketError) as err:
        parse_frame(frame)
    assert err.value.code == hj212.QN_BAD_MN


def test_split_packets_carry_pnum_and_pno() -> None:
    frame = build(
        {
            "QN": "20261130100000123",
            "ST": "22",
            "CN": "2011",
            "PW": "1",
            "MN": "AIR001",
            "Flag": 7,
            "PNUM": 3,
            "PNO": 2,
        },
        "DataTime=20261130100000",
    )
    assert parse_frame(frame).split == (3, 2)


def test_answers_echo_the_qn_and_check_themselves() -> None:
    p = parse_frame(data_packet())
    ack = parse_frame(hj212.data_answer(p))
    assert (ack.qn, ack.cn, ack.st, ack.mn, ack.flag) == (p.qn, "9014", "91", "AIR001", 4)
    refusal = parse_frame(hj212.request_answer(hj212.QN_BAD_PW, qn=p.qn, mn=p.mn))
    assert refusal.cn == "9011" and refusal.cp == {"QnRtn": "3"}


def test_garbage_that_is_no_packet_is_refused() -> None:
    for junk in (b"hello\r\n", b"##12\r\n", b"##0010abc\r\n"):
        with pytest.raises(PacketError):
            parse_frame(junk)


def test_pollutant_codes_are_data_and_2005_codes_map_onto_2017() -> None:
    from civicgrid.monitoring import pollutants

    t = pollutants.table()
    assert t["a34004"].name == "PM2.5" and t["a21005"].unit == "mg/m³"
    assert pollutants.normalise("060", "2005") == "w21003" and pollutants.normalise("060", "2017") == "060"
    o3 = pollutants.by_index_name("O3")
    assert o3 is not None and o3.code == "a05024"
