"""``civicgrid env aqi|water-class`` and ``civicgrid hj212 inspect``: the indices and the packet checker.

Pure commands: they need no database, so a field engineer can run them anywhere CivicGrid is installed.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from civicgrid.console import console, err, fail

env_app = typer.Typer(
    help="环境指数：空气质量指数（HJ 633）和地表水水质类别（GB 3838）", no_args_is_help=True
)
hj212_app = typer.Typer(help="HJ 212 数据包：接收站点数据（TCP）、检查现场机报文", no_args_is_help=True)
station_app = typer.Typer(help="监测站点：新增、列表、停用", no_args_is_help=True)


def _pairs(items: list[str], known: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        name, eq, raw = item.partition("=")
        if not eq:
            raise fail(f"参数应写成 名称=数值：{item}", code=2)
        if name not in known:
            raise fail(f"未知的指标 {name}；可用：{'、'.join(known)}", code=2)
        try:
            value = float(raw)
        except ValueError:
            raise fail(f"{name} 的数值无法识别：{raw}", code=2) from None
        if value < 0 or value != value or value in (float("inf"), float("-inf")):
            raise fail(f"{name} 的数值不能为负数或非有限数：{raw}", code=2)
        out[name] = value
    if not out:
        raise fail("请至少给出一个指标，例如 PM2.5=80", code=2)
    return out


def _today() -> date:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@env_app.command("aqi")
def aqi_command(
    values: Annotated[
        list[str], typer.Argument(help="浓度，如 PM2.5=80 PM10=120 SO2=10 NO2=40 CO=1.0 O3_8h=100")
    ],
    day: Annotated[
        str | None, typer.Option("--date", help="日期 YYYY-MM-DD（决定用 2012 版还是 2026 版分级），默认今天")
    ] = None,
    hourly: Annotated[bool, typer.Option("--hourly", help="按小时（实时）AQI 计算，默认按日")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """计算空气质量指数 AQI、级别、首要污染物（μg/m³，CO 为 mg/m³）。"""
    from civicgrid.monitoring import aqi

    try:
        when = date.fromisoformat(day) if day else _today()
    except ValueError:
        raise fail(f"日期应为 YYYY-MM-DD：{day}", code=2) from None
    result = aqi.compute(_pairs(values, aqi.NAMES), day=when, hourly=hourly)
    if json_out:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    if result.aqi is None:
        console.print("这些数值不足以计算 AQI（臭氧 8 小时浓度超过 800 时需同时给出 O3 小时浓度）")
        return
    level = "一二三四五六"[(result.level or 1) - 1]
    console.print(f"AQI {result.aqi}  {level}级 {result.category}  （HJ 633-{result.edition} 分级）")
    console.print("首要污染物：" + ("、".join(result.primary) if result.primary else "无（AQI ≤ 50）"))
    console.print("分指数：" + "  ".join(f"{k} {v}" for k, v in result.iaqi.items()))
    if result.exceeding:
        console.print("超标污染物：" + "、".join(result.exceeding))


@env_app.command("water-class")
def water_class_command(
    values: Annotated[
        list[str], typer.Argument(help="浓度 mg/L，如 DO=6.5 CODMn=4 NH3-N=0.8 TP=0.15 pH=7.2")
    ],
    lake: Annotated[bool, typer.Option("--lake", help="湖库（总磷按湖库标准）")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """按单因子评价法确定地表水水质类别（I–V 类、劣V类）。"""
    from civicgrid.monitoring import water

    result = water.classify(_pairs(values, water.NAMES), lake=lake)
    if json_out:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    console.print(f"水质类别：{result.water_class} 类（{result.label}）")
    console.print("单项：" + "  ".join(f"{k} {v}" for k, v in result.per_indicator.items()))
    if result.worst:
        console.print("定类指标：" + "、".join(result.worst))


def _describe(frame: bytes) -> dict[str, Any]:
    from civicgrid.monitoring import hj212
    from civicgrid.monitoring.hj212 import PacketError

    text = frame.decode("utf-8", "replace").rstrip("\r\n")
    try:
        p = hj212.parse_frame(frame)
    except PacketError as exc:
        return {
            "packet": text,
            "valid": False,
            "error": exc.message,
            "qn_rtn": exc.code,
            "qn_rtn_label": hj212.QNRTN_LABELS.get(exc.code, ""),
            "qn": exc.qn,
            "mn": exc.mn,
        }
    return {
        "packet": text,
        "valid": True,
        "version": p.version,
        "header": dict(p.header),
        "command": hj212.COMMANDS.get(p.cn or "", "未知命令"),
        "system": hj212.SYSTEM_CODES.get(p.st or "", "未知系统"),
        "wants_answer": p.wants_answer,
        "cp": dict(p.cp),
        "values": {k: dict(v) for k, v in p.values.items()},
        "deviations": list(p.deviations),
    }


@hj212_app.command("inspect")
def inspect_command(
    source: Annotated[str, typer.Argument(help="报文文件；- 或省略表示从标准输入读取")] = "-",
    json_out: Annotated[bool, typer.Option("--json", help="每个数据包输出一行 JSON")] = False,
) -> None:
    """逐个检查 HJ 212 报文：是否有效、为何无效（应答的 QnRtn）、解析出的字段、不规范之处。

    有任何无效报文时退出码为 1，全部有效为 0。"""
    from civicgrid.monitoring.framing import Framer

    if source == "-":
        data = sys.stdin.buffer.read()
    else:
        path = Path(source)
        if not path.is_file():
            raise fail(f"文件不存在：{source}", code=2)
        data = path.read_bytes()
    if not data.endswith(b"\n"):
        data += b"\r\n"  # a packet pasted without its line end
    framer = Framer()
    reports = [_describe(frame) for frame in framer.feed(data)]
    if not reports:
        raise fail("没有找到以 ## 开头、以换行结尾的报文", code=1)
    for r in reports:
        if json_out:
            typer.echo(json.dumps(r, ensure_ascii=False))
            continue
        if r["valid"]:
            h = r["header"]
            console.print(
                f"[green]有效[/green] HJ 212-{r['version']}  MN={h.get('MN')}"
                f"  CN={h.get('CN')}（{r['command']}）  ST={h.get('ST')}（{r['system']}）"
                f"  QN={h.get('QN', '无')}" + ("  需要应答" if r["wants_answer"] else "")
            )
            for code, fields in r["values"].items():
                console.print(
                    f"    {code}: " + ", ".join(f"{k}={v}" for k, v in fields.items()), markup=False
                )
            for key, value in r["cp"].items():
                console.print(f"    {key} = {value}", markup=False)
            for d in r["deviations"]:
                console.print(f"    [yellow]不规范[/yellow]：{d}")
        else:
            console.print(
                f"[red]无效[/red] {r['error']}  （应答 9011 QnRtn={r['qn_rtn']} {r['qn_rtn_label']}）",
            )
    if framer.garbage_bytes:
        (err if json_out else console).print(f"报文之外的多余字节：{framer.garbage_bytes}")
    if not all(r["valid"] for r in reports):
        raise typer.Exit(1)


@station_app.command("add")
def station_add(
    mn: Annotated[str, typer.Option("--mn", help="站点 MN（数据包中的设备唯一标识，≤ 24 位）")],
    kind: Annotated[
        str, typer.Option("--kind", help="类型：air 空气、water 地表水、dust 扬尘、source 污染源、noise 噪声")
    ],
    name: Annotated[str, typer.Option("--name", help="站点名称")],
    lng: Annotated[float, typer.Option("--lng", help="经度（WGS84）")],
    lat: Annotated[float, typer.Option("--lat", help="纬度（WGS84）")],
    password: Annotated[
        str, typer.Option("--password", help="访问密码 PW（默认 123456，建议每站单独设置）")
    ] = "123456",
    target_class: Annotated[
        str | None, typer.Option("--target-class", help="地表水断面的目标水质类别，如 III")
    ] = None,
    lake: Annotated[bool, typer.Option("--lake", help="湖库断面（总磷按湖库标准）")] = False,
    interval: Annotated[int, typer.Option("--interval", help="实时数据间隔（秒）")] = 60,
) -> None:
    """新增监测站点，并定位到所在单元网格。"""
    from civicgrid.db import unit_of_work
    from civicgrid.errors import AppError
    from civicgrid.monitoring import stations

    data = stations.StationIn(mn, kind, name, lng, lat, password, target_class, lake, interval)
    try:
        with unit_of_work() as session:
            st = stations.add(session, data)
            out = stations.present(st)
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    console.print(
        f"已新增站点 {out['mn']}（{out['name']}，{out['kind_label']}），位于网格 {out['grid_code']}"
    )


@station_app.command("list")
def station_list(
    kind: Annotated[str | None, typer.Option("--kind", help="只列出某类站点")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出监测站点。"""
    from civicgrid.db import unit_of_work
    from civicgrid.monitoring import stations

    with unit_of_work(write=False) as session:
        rows = [stations.present(s) for s in stations.listing(session, kind=kind)]
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        console.print("还没有监测站点：用 civicgrid station add 新增")
        return
    for r in rows:
        state = "在用" if r["active"] else "已停用"
        seen = r["last_seen_at"] or "从未上报"
        console.print(
            f"{r['mn']:<24} {r['kind_label']:<6} {r['name']}  网格 {r['grid_code']}  {state}  最近上报 {seen}"
        )


@station_app.command("deactivate")
def station_deactivate(mn: Annotated[str, typer.Argument(help="站点 MN")]) -> None:
    """停用站点：其数据包此后以 MN 错误（QnRtn=4）拒收，历史数据保留。"""
    from civicgrid.db import unit_of_work
    from civicgrid.errors import AppError
    from civicgrid.monitoring import stations

    try:
        with unit_of_work() as session:
            stations.deactivate(session, mn)
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    console.print(f"已停用站点 {mn}")


@hj212_app.command("serve")
def serve_command(
    host: Annotated[
        str | None, typer.Option("--host", help="监听地址（默认取设置 CIVICGRID_MONITORING_HJ212_HOST）")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="监听端口（默认 9212）")] = None,
) -> None:
    """在前台运行 HJ 212 TCP 接收服务（生产环境请用 civicgrid services run hj212）。"""
    import asyncio
    import threading

    from civicgrid.monitoring.service import serve
    from civicgrid.monitoring.settings import get_monitoring_settings

    s = get_monitoring_settings()
    h, p = host or s.hj212_host, port or s.hj212_port
    console.print(f"HJ 212 接收服务监听 {h}:{p}（Ctrl+C 停止）")
    try:
        asyncio.run(serve(h, p, threading.Event()))
    except OSError as exc:
        raise fail(f"无法监听 {h}:{p}：{exc.strerror}", code=2) from None
    except KeyboardInterrupt:
        console.print("已停止")


def register(app: typer.Typer) -> None:
    app.add_typer(env_app, name="env")
    app.add_typer(hj212_app, name="hj212")
    app.add_typer(station_app, name="station")
