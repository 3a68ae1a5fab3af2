"""Slowloris: a client that sends its request head slowly, or nothing at all, loses its connection (408)
after ``header_timeout_s`` (issue 11, defect 14). uvicorn itself would keep it open for ever."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import uvicorn

from civicgrid.ops.server import ServeOptions, uvicorn_config
from civicgrid.settings import get_settings


async def tiny_app(
    scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """`civicgrid serve`'s uvicorn configuration (a 1 s head deadline) in a thread, serving a tiny app."""
    monkeypatch.setenv("CIVICGRID_HEADER_TIMEOUT_S", "1")
    get_settings.cache_clear()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn_config(
        ServeOptions("127.0.0.1", port, False), host="127.0.0.1", port=port, lifespan="off"
    )
    config.app = tiny_app  # the real app is not needed to test the connection handling
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.05)
    try:
        yield port
    finally:
        srv.should_exit = True
        thread.join(10)
        monkeypatch.delenv("CIVICGRID_HEADER_TIMEOUT_S")
        get_settings.cache_clear()


def _until_closed(sock: socket.socket, drip: bytes | None, limit_s: float) -> tuple[bytes, float]:
    """Read until the server closes the connection (sending ``drip`` every quarter second); what was
    received and after how long (``limit_s`` means never)."""
    sock.settimeout(0.25)
    received = b""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            if drip is not None:
                try:
                    sock.sendall(drip)
                except OSError:
                    return received, time.monotonic() - t0
            continue
        except OSError:
            return received, time.monotonic() - t0
        if not chunk:
            return received, time.monotonic() - t0
        received += chunk
    return received, limit_s


def test_half_a_header_dripped_slowly_is_cut_off(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: civicgrid\r\n")
        received, after = _until_closed(sock, b"X-Slow: 1\r\n", limit_s=8)
    assert after < 4
    assert received.startswith(b"HTTP/1.1 408 ")
    assert "请求头接收超时".encode() in received


def test_a_silent_connection_is_cut_off(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        received, after = _until_closed(sock, None, limit_s=8)
    assert after < 4
    assert received.startswith(b"HTTP/1.1 408 ")


def test_a_prompt_client_is_served_and_may_keep_its_connection(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        for _ in range(2):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: civicgrid\r\n\r\n")
            sock.settimeout(5)
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.6)  # less than the deadline between requests


def test_serve_uses_the_deadline_from_the_settings() -> None:
    os.environ["CIVICGRID_HEADER_TIMEOUT_S"] = "7"
    get_settings.cache_clear()
    try:
        config = uvicorn_config(ServeOptions("127.0.0.1", 8000, False))
    finally:
        del os.environ["CIVICGRID_HEADER_TIMEOUT_S"]
        get_settings.cache_clear()
    assert isinstance(config.http, type) and config.http.__name__.startswith("HeadTimeout")
    assert config.http.head_timeout_s == 7  # type: ignore[attr-defined]
    assert get_settings().header_timeout_s == 10.0
