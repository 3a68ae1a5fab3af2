"""A deadline for a request's head (its request line and headers): the slowloris guard uvicorn lacks.

uvicorn times out an idle keep-alive connection, but only until its first byte arrives, and a new
connection not at all: a client that sends a header line every few seconds, or nothing, holds its
connection (and a little memory) for as long as it likes, and a few thousand such clients exhaust the
server's file descriptors. ``with_head_timeout`` derives from uvicorn's HTTP protocol class one that arms a
timer whenever it starts waiting for a request head — when the connection opens and after each response —
and disarms it when the head has arrived (uvicorn then starts the request's cycle). A client too slow
gets ``408`` and the connection is closed. Request bodies are not covered: the body limit and the
endpoints bound those.
"""

from __future__ import annotations

import asyncio
from typing import Any

_BODY = "请求头接收超时，连接已关闭\n".encode()
REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\n" + f"content-length: {len(_BODY)}\r\n\r\n".encode() + _BODY
)


def with_head_timeout(base: type[asyncio.Protocol], seconds: float) -> type[asyncio.Protocol]:
    """``base`` (uvicorn's httptools or h11 protocol) with a ``seconds`` deadline for every request head."""

    class HeadTimeoutProtocol(base):  # type: ignore[valid-type,misc]
        head_timeout_s = seconds
        _head_timer: asyncio.TimerHandle | None = None
        _head_after: Any = None  # the cycle that was current when the wait began

        def _arm_head_timer(self) -> None:
            self._disarm_head_timer()
            self._head_after = self.cycle
            self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

        def _disarm_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if self.transport.is_closing() or self.cycle is not self._head_after:
                return
            if self.cycle is None or self.cycle.response_complete:  # nothing is being answered: say why
                self.transport.write(REQUEST_TIMEOUT)
            self.transport.close()

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._arm_head_timer()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._head_timer is not None and self.cycle is not self._head_after:
                self._disarm_head_timer()  # a request's head is complete: its cycle has started

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and not getattr(self, "pipeline", None):
                self._arm_head_timer()  # waiting for the next request on this keep-alive connection

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_head_timer()
            super().connection_lost(exc)

    HeadTimeoutProtocol.__name__ = HeadTimeoutProtocol.__qualname__ = f"HeadTimeout{base.__name__}"
    return HeadTimeoutProtocol
