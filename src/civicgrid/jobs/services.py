"""Long-running services (``Domain.services``: the HJ 212 TCP listener, the MQTT consumer, …), each in a
process of its own under ``civicgrid services run``, never as a thread inside a web worker.

The supervisor starts one child process per service, restarts a child that dies (after 1 s, 2 s, 4 s … up to a
minute, reset once a child has run for a minute), and on SIGTERM/SIGINT asks every child to stop (the service
function's ``stop`` event is set), waits, and kills what does not stop. Each child writes a heartbeat file in
``<data_dir>/services/``; ``/readyz`` reports every declared service from these files (``status``), so a web
worker on the same host can tell whether the listeners are alive without talking to them.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civicgrid import domains
from civicgrid.domains import Service
from civicgrid.settings import get_settings

log = logging.getLogger("civicgrid.services")
BEAT_S = 2.0
STALE_S = 15.0
MAX_BACKOFF_S = 60.0


def state_dir() -> Path:
    return get_settings().data_dir / "services"


def registered(names: Iterable[str] = ()) -> list[Service]:
    services = {s.name: s for s in domains.each("services")}
    wanted = list(names)
    unknown = [n for n in wanted if n not in services]
    if unknown:
        raise KeyError(f"没有这个服务：{'、'.join(unknown)}（可用：{'、'.join(services) or '无'}）")
    return [services[n] for n in wanted] if wanted else list(services.values())


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _child(ref: str, name: str, folder: str, restarts: int) -> None:
    """The body of a service process: heartbeat, then the service until SIGTERM asks it to stop."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    beat_file = Path(folder) / f"{name}.json"
    started = time.time()

    def beat() -> None:
        while not stop.is_set():
            _write(
                beat_file,
                {"pid": os.getpid(), "started": started, "beat": time.time(), "restarts": restarts},
            )
            stop.wait(BEAT_S)

    threading.Thread(target=beat, name=f"{name}-beat", daemon=True).start()
    domains.resolve(ref)(stop)
    stop.set()
    beat_file.unlink(missing_ok=True)


@dataclass
class _Child:
    service: Service
    process: mp.process.BaseProcess | None = None
    started: float = 0.0
    restarts: int = 0
    backoff: float = 1.0
    retry_at: float = 0.0


class Supervisor:
    def __init__(self, services: Iterable[Service]) -> None:
        self.children = [_Child(s) for s in services]
        self.stopping = threading.Event()
        self._ctx = mp.get_context("spawn")  # a clean interpreter: no inherited engines, locks or threads
        self.folder = state_dir()
        self.folder.mkdir(parents=True, exist_ok=True)

    def _start(self, child: _Child) -> None:
        s = child.service
        child.process = self._ctx.Process(
            target=_child, args=(s.run, s.name, str(self.folder), child.restarts), name=f"civicgrid-{s.name}"
        )
        child.process.start()
        child.started = time.monotonic()
        log.info("service %s started (pid %s)", s.name, child.process.pid)

    def poll(self) -> None:
        """Restart children that died (with back-off); called every fraction of a second by ``run``."""
        now = time.monotonic()
        for child in self.children:
            p = child.process
            if p is not None and p.is_alive():
                if now - child.started > MAX_BACKOFF_S:
                    child.backoff = 1.0
                continue
            if p is not None:  # it died: its heartbeat goes with it, and a restart is scheduled
                (self.folder / f"{child.service.name}.json").unlink(missing_ok=True)
                log.error(
                    "service %s exited with %s; restarting in %.0f s",
                    child.service.name,
                    p.exitcode,
                    child.backoff,
                )
                child.process = None
                child.retry_at = now + child.backoff
                child.backoff = min(child.backoff * 2, MAX_BACKOFF_S)
                child.restarts += 1
                continue
            if now >= child.retry_at:
                self._start(child)

    def run(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        while not self.stopping.is_set():
            self.poll()
            self.stopping.wait(0.2)
        self.stop()

    def stop(self, grace_s: float = 10.0) -> None:
        self.stopping.set()
        alive = [c.process for c in self.children if c.process is not None and c.process.is_alive()]
        for p in alive:
            p.terminate()  # SIGTERM: the child's stop event
        deadline = time.monotonic() + grace_s
        for p in alive:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(2)
        for c in self.children:
            (self.folder / f"{c.service.name}.json").unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status() -> dict[str, str]:
    """A health line per declared service, from the heartbeat files (for ``/readyz``)."""
    out = {}
    for s in registered():
        path = state_dir() / f"{s.name}.json"
        try:
            beat = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            out[s.name] = "未运行"
            continue
        age = time.time() - float(beat.get("beat", 0))
        if not _alive(int(beat.get("pid", 0))):
            out[s.name] = "未运行（进程已退出）"
        elif age > STALE_S:
            out[s.name] = f"无心跳（{age:.0f} 秒）"
        else:
            restarts = int(beat.get("restarts", 0))
            out[s.name] = f"运行中（进程 {beat.get('pid')}，重启 {restarts} 次）"
    return out
