"""The HJ 212 TCP listener: many stations stay connected; each frame is checked and answered per the standard.

This module owns sockets only. Who a station is (its MN and PW) comes from a :class:`StationBook`; what is
done with an accepted packet is the :class:`PacketSink`'s business (the service stores readings). Both are
called with plain data, so the listener is tested over real TCP with a book and a sink of the test's own.

Per frame: a CRC or format error that still shows QN and MN is answered with 9011 ``QnRtn`` (9 for a bad
CRC); an unknown MN with 4, a wrong PW with 3; an accepted data packet whose Flag asks for an answer gets 9014
with its QN. Every deviation and refusal is counted per station (:class:`StationStats`). A bad packet, a
slow reader or a station that floods garbage never stops the listener or disturbs another connection: each
connection has its own framer, its own bounded buffer and an idle timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from civicgrid.monitoring import hj212
from civicgrid.monitoring.framing import Framer
from civicgrid.monitoring.hj212 import Packet, PacketError

log = logging.getLogger(__name__)

READ_SIZE = 65536
IDLE_TIMEOUT_S = 600.0  # a station that says nothing for ten minutes is disconnected (it reconnects)


class StationBook(Protocol):
    def password(self, mn: str) -> str | None:
        """The station's PW, or None when no active station has this MN."""
        ...


PacketSink = Callable[[Packet], Awaitable[None]]


@dataclass
class StationStats:
    packets: int = 0
    accepted: int = 0
    refused: Counter[int] = field(default_factory=Counter)  # by QnRtn code
    deviations: Counter[str] = field(default_factory=Counter)
    garbage_bytes: int = 0


@dataclass
class ListenerStats:
    connections: int = 0
    open_connections: int = 0
    frames: int = 0
    unaddressable: int = 0  # frames without a readable MN (not answered, not attributable)
    sink_errors: int = 0
    stations: dict[str, StationStats] = field(default_factory=dict)

    def station(self, mn: str) -> StationStats:
        return self.stations.setdefault(mn, StationStats())


class Hj212Listener:
    def __init__(
        self, book: StationBook, sink: PacketSink, *, idle_timeout_s: float = IDLE_TIMEOUT_S
    ) -> None:
        self.book = book
        self.sink = sink
        self.idle_timeout_s = idle_timeout_s
        self.stats = ListenerStats()
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (0 picks a free one)."""
        self._server = await asyncio.start_server(self._serve, host, port, limit=READ_SIZE, backlog=1024)
        sock = self._server.sockets[0]
        return int(sock.getsockname()[1])

    async def serve_forever(self) -> None:
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        self.stats.open_connections += 1
        framer = Framer()
        last_mn: str | None = None
        try:
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(READ_SIZE), self.idle_timeout_s)
                except (TimeoutError, ConnectionError):
                    break
                if not data:
                    break
                before = framer.garbage_bytes
                for frame in framer.feed(data):
                    answer, mn = await self.handle(frame)
                    last_mn = mn or last_mn
                    if answer:
                        writer.write(answer)
                if last_mn and framer.garbage_bytes > before:
                    self.stats.station(last_mn).garbage_bytes += framer.garbage_bytes - before
                await writer.drain()
        except Exception:  # one connection's failure is logged and closed, never the listener's
            log.exception("HJ 212 connection failed")
        finally:
            self.stats.open_connections -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def handle(self, frame: bytes) -> tuple[bytes | None, str | None]:
        """One frame → (the answer to send or None, the station's MN if it could be read)."""
        self.stats.frames += 1
        try:
            packet = hj212.parse_frame(frame)
        except PacketError as err:
            if not err.mn:
                self.stats.unaddressable += 1
                return None, None
            st = self.stats.station(err.mn)
            st.packets += 1
            st.refused[err.code] += 1
            return hj212.request_answer(err.code, qn=err.qn, mn=err.mn), err.mn
        mn = packet.mn or ""
        st = self.stats.station(mn)
        st.packets += 1
        st.deviations.update(packet.deviations)
        expected = self.book.password(mn)
        if expected is None or packet.pw != expected:
            code = hj212.QN_BAD_MN if expected is None else hj212.QN_BAD_PW
            st.refused[code] += 1
            return hj212.request_answer(code, qn=packet.qn, mn=mn, version=packet.version), mn
        if packet.cn == "9015":  # 2025 heartbeat: alive, nothing to store
            st.accepted += 1
            return (hj212.data_answer(packet) if packet.wants_answer else None), mn
        try:
            await self.sink(packet)
        except Exception:
            self.stats.sink_errors += 1
            log.exception("storing a packet of %s failed", mn)
            st.refused[hj212.QN_REJECTED] += 1
            return hj212.request_answer(hj212.QN_REJECTED, qn=packet.qn, mn=mn, version=packet.version), mn
        st.accepted += 1
        if not packet.wants_answer:
            return None, mn
        if packet.cn in hj212.DATA_COMMANDS or packet.cn == "2021":
            return hj212.data_answer(packet), mn
        return hj212.request_answer(hj212.QN_READY, qn=packet.qn, mn=mn, version=packet.version), mn
