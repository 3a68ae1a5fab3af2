"""Long-running services run in processes of their own: started, watched through heartbeats, restarted after
a crash, stopped cleanly."""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicgrid.domains import Service
from civicgrid.jobs import services

SERVICE = """
    import os
    from pathlib import Path

    OUT = Path(os.environ["THROWAWAY_SERVICE_DIR"])

    def steady(stop) -> None:
        (OUT / f"steady-{os.getpid()}").write_text("started")
        while not stop.wait(0.05):
            pass
        (OUT / f"steady-{os.getpid()}").write_text("stopped cleanly")

    def flaky(stop) -> None:
        marker = OUT / "flaky-crashed-once"
        if not marker.exists():
            marker.write_text("x")
            raise RuntimeError("模拟崩溃")
        while not stop.wait(0.05):
            pass
"""


@pytest.fixture
def service_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "throwaway_service.py").write_text(textwrap.dedent(SERVICE), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("THROWAWAY_SERVICE_DIR", str(out))
    sys.path.insert(0, str(tmp_path))
    yield out
    sys.path.remove(str(tmp_path))


def _wait(cond, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_supervisor_starts_restarts_and_stops(service_module: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    declared = [
        Service("steady", "稳定服务", "throwaway_service:steady"),
        Service("flaky", "首次崩溃的服务", "throwaway_service:flaky"),
    ]
    monkeypatch.setattr(services, "registered", lambda names=(): declared)
    sup = services.Supervisor(declared)

    def poll_until(cond) -> bool:  # type: ignore[no-untyped-def]
        return _wait(lambda: (sup.poll(), cond())[1])

    try:
        assert poll_until(
            lambda: (
                services.status()["flaky"].endswith("重启 1 次）")
                and services.status()["steady"].startswith("运行中")
            )
        )
        lines = services.status()
        assert lines["steady"].endswith("重启 0 次）")
        assert lines["flaky"].endswith("重启 1 次）")  # it crashed once and was started again
        steady = next(c for c in sup.children if c.service.name == "steady").process
        assert steady is not None and steady.is_alive()
    finally:
        sup.stop()
    assert not steady.is_alive()
    assert [p.read_text() for p in service_module.glob("steady-*")] == ["stopped cleanly"]
    assert services.status() == {"steady": "未运行", "flaky": "未运行"}


def test_services_run_without_services_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from civicgrid.cli import app

    monkeypatch.setattr(services, "registered", lambda names=(): [])
    result = CliRunner().invoke(app, ["services", "run"])
    assert result.exit_code == 2 and "没有登记任何常驻服务" in result.output
