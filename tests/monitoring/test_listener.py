"""The HJ 212 listener over real TCP sockets on loopback: answers, refusals, split reads, garbage, fuzz."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from civicgrid.monitoring import hj212
from civicgrid.monitoring.hj212 import Packet, build, parse_frame
from civicgrid.monitoring.listener import Hj212Listener

Scenario = Callable[[int, list[Packet], Hj212Listener], Awaitable[None]]


class Book:
    def __init__(self, stations: dict[str, str]) -> None:
        self.stations = stations

    def password(self, mn: str) -> str | None:
        return self.stations.get(mn)


def packet(
    mn: str, pw: str = "123456", flag: int = 5, qn: str = "20261130100000123", cn: str = "2011"
) -> bytes:
    cp = "DataTime=20261130100000;a34004-Rtd=80,a34004-Flag=N"
    return build({"QN": qn, "ST": "22", "CN": cn, "PW": pw, "MN": mn, "Flag": flag}, cp)


async def with_listener(test: Scenario, stations: dict[str, str] | None = None) -> None:
    stored: list[Packet] = []

    async def sink(p: Packet) -> None:
        stored.append(p)

    listener = Hj212Listener(
        Book(stations or {"AIR001": "123456", "AIR002": "654321"}), sink, idle_timeout_s=5
    )
    port = await listener.start("127.0.0.1", 0)
    try:
        await test(port, stored, listener)
    finally:
        await listener.stop()


async def read_answer(reader: asyncio.StreamReader) -> Packet:
    return parse_frame(await asyncio.wait_for(reader.readuntil(b"\r\n"), 5))


def test_a_data_packet_is_stored_and_answered_9014_with_its_qn() -> None:
    async def test(port: int, stored: list[Packet], listener: Hj212Listener) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(packet("AIR001"))
        ack = await read_answer(reader)
        assert (ack.cn, ack.qn, ack.mn, ack.st) == ("9014", "20261130100000123", "AIR001", "91")
        assert [p.mn for p in stored] == ["AIR001"]
        writer.close()

    asyncio.run(with_listener(test))


def test_refusals_bad_crc_9_wrong_pw_3_unknown_mn_4_and_the_connection_stays_open() -> None:
    async def test(port: int, stored: list[Packet], listener: Hj212Listener) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        good = packet("AIR001")
        writer.write(good[:-6] + b"0000\r\n")
        assert (await read_answer(reader)).cp == {"QnRtn": "9"}
        writer.write(packet("AIR001", pw="000000"))
        assert (await read_answer(reader)).cp == {"QnRtn": "3"}
        writer.write(packet("NOSUCH"))
        assert (await read_answer(reader)).cp == {"QnRtn": "4"}
        writer.write(good)
        assert (await read_answer(reader)).cn == "9014"
        assert len(stored) == 1
        st = listener.stats.stations["AIR001"]
        assert st.refused == {9: 1, 3: 1} and st.accepted == 1
        writer.close()

    asyncio.run(with_listener(test))


def test_no_answer_when_the_flag_asks_none_and_split_reads_are_joined() -> None:
    async def test(port: int, stored: list[Packet], listener: Hj212Listener) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        data = packet("AIR001", flag=4) + packet("AIR001", qn="20261130100100123")
        for i in range(0, len(data), 7):
            writer.write(data[i : i + 7])
            await writer.drain()
        ack = await read_answer(reader)
        assert ack.qn == "20261130100100123"  # the first (Flag=4) packet got no answer
        assert len(stored) == 2
        writer.close()

    asyncio.run(with_listener(test))


def test_a_fuzzing_station_never_disturbs_a_good_one() -> None:
    async def test(port: int, stored: list[Packet], listener: Hj212Listener) -> None:
        rng = random.Random(14)
        _bad_r, bad_w = await asyncio.open_connection("127.0.0.1", port)
        good_r, good_w = await asyncio.open_connection("127.0.0.1", port)
        for i in range(50):
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
            choice = i % 4
            if choice == 0:
                junk = b"##9999" + junk  # a huge declared length
            elif choice == 1:
                junk = packet("AIR002", pw="654321")[: rng.randrange(5, 60)]  # truncated
            bad_w.write(junk)
            good_w.write(packet("AIR001", qn=f"20261130100{i:03d}000"))
            await good_w.drain()
            assert (await read_answer(good_r)).qn == f"20261130100{i:03d}000"
        assert sum(p.mn == "AIR001" for p in stored) == 50
        assert listener.stats.open_connections == 2
        bad_w.close()
        good_w.close()

    asyncio.run(with_listener(test))


def test_a_failing_sink_is_answered_rejected_and_the_listener_goes_on() -> None:
    async def test(port: int, stored: list[Packet], listener: Hj212Listener) -> None:
        calls = {"n": 0}
        original = listener.sink

        async def flaky(p: Packet) -> None:
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("database down")
            await original(p)

        listener.sink = flaky
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(packet("AIR001"))
        assert (await read_answer(reader)).cp == {"QnRtn": str(hj212.QN_REJECTED)}
        writer.write(packet("AIR001"))
        assert (await read_answer(reader)).cn == "9014"
        assert listener.stats.sink_errors == 1 and len(stored) == 1
        writer.close()

    asyncio.run(with_listener(test))


def test_hundreds_of_stations_connected_at_once() -> None:
    stations = {f"AIR{i:04d}": "123456" for i in range(300)}

    async def test(port: int, stored: list[Packet], listener: Hj212Listener) -> None:
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in stations]
        for (_, w), mn in zip(conns, stations, strict=True):
            w.write(packet(mn))
        answers = await asyncio.gather(*(read_answer(r) for r, _ in conns))
        assert sorted(a.mn or "" for a in answers) == sorted(stations)
        assert listener.stats.open_connections == 300
        for _, w in conns:
            w.close()

    asyncio.run(with_listener(test, stations))
