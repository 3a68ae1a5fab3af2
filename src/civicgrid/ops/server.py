"""`civicgrid serve`: one uvicorn server per worker process, each listening on its own ``SO_REUSEPORT``
socket.

uvicorn's own ``--workers`` share one listening socket and whichever worker is awake first accepts. A few
long-lived keep-alive connections (nginx's upstream pool, a load tester) can then all land on one worker while
the others idle. With a socket per worker the kernel spreads new connections evenly over them.

The parent process only supervises: it starts the workers, starts a new one when a worker dies, and stops
them all on SIGTERM or SIGINT.

Every server, one worker or many, reads request heads under a deadline (``header_timeout_s``,
ops/head_timeout.py): uvicorn has none of its own.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uvicorn

APP = "civicgrid.asgi:app"


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    access_log: bool


def _socket(opts: ServeOptions) -> socket.socket:
    family = socket.AF_INET6 if ":" in opts.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((opts.host, opts.port))
    return sock


def check_port(opts: ServeOptions) -> None:
    """Fail early, in the parent, with the operating system's reason (the port is taken, the host is
    wrong)."""
    _socket(opts).close()  # bound, never listening: it takes no connections


def uvicorn_config(opts: ServeOptions, **extra: Any) -> uvicorn.Config:
    """uvicorn's configuration for our app, with the request-head deadline."""
    import uvicorn
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from civicgrid.ops.head_timeout import with_head_timeout
    from civicgrid.settings import get_settings

    http = with_head_timeout(AutoHTTPProtocol, get_settings().header_timeout_s)
    return uvicorn.Config(APP, log_level="info", access_log=opts.access_log, http=http, **extra)


def run_one(opts: ServeOptions) -> None:
    """Serve in this process (one worker) until SIGTERM or SIGINT."""
    import uvicorn

    uvicorn.Server(uvicorn_config(opts, host=opts.host, port=opts.port)).run()


def _worker(opts: ServeOptions) -> None:
    import uvicorn

    sock = _socket(opts)
    sock.listen(2048)
    uvicorn.Server(uvicorn_config(opts)).run(sockets=[sock])


def run(opts: ServeOptions, workers: int) -> None:
    """Serve with ``workers`` processes until SIGTERM or SIGINT."""
    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        proc = ctx.Process(target=_worker, args=(opts,), name="civicgrid-worker")
        proc.start()
        return proc

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    procs = [start() for _ in range(workers)]
    started = [time.monotonic()] * workers
    quick_deaths = 0
    try:
        while not stopping:
            time.sleep(0.5)
            for i, proc in enumerate(procs):
                if proc.is_alive() or stopping:
                    continue
                # A worker that dies at once, again and again, cannot start (a broken setting): give up.
                quick_deaths = quick_deaths + 1 if time.monotonic() - started[i] < 5 else 0
                if quick_deaths >= 2 * workers:
                    raise SystemExit(f"工作进程反复启动失败（退出码 {proc.exitcode}），请查看上面的日志")
                procs[i], started[i] = start(), time.monotonic()  # a crashed worker is replaced
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # uvicorn finishes the requests in flight on SIGTERM
        deadline = time.monotonic() + 30
        for proc in procs:
            proc.join(max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
