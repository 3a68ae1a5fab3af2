"""``civicgrid station simulate``: the stations, simulated, talking HJ 212 to the real TCP listener."""

from __future__ import annotations

from typing import Annotated

import typer

from civicgrid.console import console, err, fail


def simulate(
    host: Annotated[str, typer.Option("--host", help="HJ 212 接收服务的地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="HJ 212 接收服务的端口")] = 9212,
    stations: Annotated[
        str, typer.Option("--stations", help="要模拟的站点 MN，逗号分隔；all 为全部在用站点")
    ] = "all",
    interval: Annotated[
        float, typer.Option("--interval", min=0.05, help="实时数据（2011）发送间隔，秒")
    ] = 30.0,
    minutes: Annotated[
        str, typer.Option("--minutes", help="运行多少分钟（可为小数）；forever 为一直运行，按 Ctrl-C 停止")
    ] = "forever",
    exceed: Annotated[
        list[str] | None, typer.Option("--exceed", help="让这个站点的数据超标（可重复）")
    ] = None,
    speed: Annotated[
        float, typer.Option("--speed", min=0.01, max=100_000, help="模拟时钟的倍速（60：每秒一分钟）")
    ] = 1.0,
) -> None:
    """模拟监测站点：每个站点一条 TCP 连接，向 HJ 212 接收服务发送实时、分钟、小时数据包并统计应答。"""
    import asyncio
    import threading

    from civicgrid.monitoring.simulate import SimStats, Simulator, load_stations

    if minutes == "forever":
        duration: float | None = None
    else:
        try:
            duration = float(minutes) * 60
        except ValueError:
            raise fail(f"--minutes 应为数字或 forever：{minutes}", code=2) from None
        if not duration > 0:
            raise fail("--minutes 应大于 0", code=2)
    wanted = None if stations.strip() == "all" else [m.strip() for m in stations.split(",") if m.strip()]
    found = load_stations(wanted)
    if wanted:
        missing = sorted(set(wanted) - {s.mn for s in found})
        if missing:
            raise fail(f"没有这些在用站点：{'、'.join(missing)}", code=2)
    if not found:
        raise fail("没有在用的监测站点；先用 civicgrid station add 添加，或 civicgrid init --demo", code=2)
    unknown_exceed = sorted(set(exceed or ()) - {s.mn for s in found})
    if unknown_exceed:
        raise fail(f"--exceed 的站点不在模拟之列：{'、'.join(unknown_exceed)}", code=2)

    sim = Simulator(found, host, port, interval_s=interval, speed=speed, exceed=frozenset(exceed or ()))
    console.print(
        f"模拟 {len(found)} 个站点 → {host}:{port}，实时数据每 {interval:g} 秒一包"
        + (f"，时钟 {speed:g} 倍速" if speed != 1 else "")
        + (f"，超标站点：{'、'.join(exceed or ())}" if exceed else "")
        + "。按 Ctrl-C 停止。"
    )
    live = sys_isatty()
    ticks = [0]

    def report(stats: SimStats) -> None:
        """Each second on a terminal (one line, rewritten); every 10 s into a log."""
        ticks[0] += 1
        if live:
            err.print(stats.line(), end="\r")
        elif ticks[0] % 10 == 0:
            err.print(stats.line())

    stop = threading.Event()
    try:
        result = asyncio.run(sim.run(stop, duration, report))
    except KeyboardInterrupt:
        stop.set()
        result = sim.stats
    if live:
        err.print()
    by_cn = "、".join(f"{cn} {n}" for cn, n in sorted(result.by_cn.items()))
    refused = "，".join(f"QnRtn={code} {n}" for code, n in sorted(result.refused.items()))
    console.print(
        f"共发送 {result.sent} 包（{by_cn or '无'}），确认 {result.acked}，拒收 {result.refused_total}"
        + (f"（{refused}）" if refused else "")
        + f"，补发 {result.resent}，连接 {result.connections} 次（重连 {result.reconnects} 次，"
        f"连接失败 {result.connect_failures} 次）。"
    )
    if result.sent and not result.acked:
        raise typer.Exit(1)


def sys_isatty() -> bool:
    import sys

    return sys.stderr.isatty()


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``civicgrid station`` (declared after ``civicgrid.monitoring.cli``)."""
    from civicgrid.monitoring.cli import station_app

    station_app.command("simulate")(simulate)
