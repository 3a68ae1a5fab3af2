"""``civicgrid mqtt ingest`` (the MQTT consumer in the foreground) and ``civicgrid mqtt publish`` (send a
station's packets to the broker, for a field engineer checking a gateway, or for tests and demos)."""

from __future__ import annotations

from typing import Annotated

import typer

from civicgrid.console import console, err, fail

mqtt_app = typer.Typer(help="MQTT：从消息服务器接收站点数据（共享订阅）、发布测试报文", no_args_is_help=True)


@mqtt_app.command("ingest")
def ingest_command(
    broker: Annotated[
        str | None,
        typer.Option("--broker", help="MQTT 服务器，如 mqtt://127.0.0.1:1883（默认取设置）"),
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, max=32, help="接收进程数")] = None,
    group: Annotated[str | None, typer.Option("--group", help="共享订阅组名（多台机器用同一组分担）")] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="客户端标识前缀（第 i 个为 前缀-i，须稳定）")
    ] = None,
) -> None:
    """在前台接收 MQTT 站点数据并入库（生产环境请用 civicgrid services run mqtt）。Ctrl+C 停止。"""
    import logging
    import signal
    import threading

    from civicgrid.monitoring.mqtt import REASONS, run_workers
    from civicgrid.monitoring.settings import get_monitoring_settings

    s = get_monitoring_settings()
    url = broker or s.mqtt_broker
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    n = workers or s.mqtt_workers
    console.print(f"MQTT 数据接收：{url}，共享组 {group or s.mqtt_group}，{n} 个接收进程（Ctrl+C 停止）")
    try:
        done = run_workers(
            stop,
            broker=url,
            group=group or s.mqtt_group,
            client_id=client_id or s.mqtt_client_id,
            workers=n,
            keepalive_s=s.mqtt_keepalive_s,
            session_expiry_s=s.mqtt_session_expiry_s,
            receive_maximum=s.mqtt_receive_maximum,
        )
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    for w in done:
        console.print(f"{w.client_id}：{w.stats.summary()}")
        for (who, reason), count in sorted(w.stats.refused.items()):
            console.print(f"  拒收 {who}：{REASONS[reason]} × {count}")
    console.print("已停止")


@mqtt_app.command("publish")
def publish_command(
    mn: Annotated[str, typer.Argument(help="站点 MN（主题 civicgrid/stations/MN/…）")],
    file: Annotated[str, typer.Argument(help="报文文件，- 为标准输入")] = "-",
    json_payload: Annotated[
        bool, typer.Option("--json", help="文件是一条 JSON 数据（发到 …/json），而不是 HJ 212 报文")
    ] = False,
    broker: Annotated[str | None, typer.Option("--broker", help="MQTT 服务器（默认取设置）")] = None,
) -> None:
    """把文件中的 HJ 212 报文（每个 ## 报文一条消息）或一条 JSON 数据以 QoS 1 发布给站点的主题。"""
    import sys
    from pathlib import Path

    import paho.mqtt.client as mqtt

    from civicgrid.monitoring.framing import Framer
    from civicgrid.monitoring.mqtt import TOPIC_ROOT, parse_broker
    from civicgrid.monitoring.settings import get_monitoring_settings

    try:
        address = parse_broker(broker or get_monitoring_settings().mqtt_broker)
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise fail(f"无法读取 {file}：{exc.strerror}", code=2) from None
    if json_payload:
        topic, payloads = f"{TOPIC_ROOT}/{mn}/json", [data.strip()]
    else:
        topic = f"{TOPIC_ROOT}/{mn}/hj212"
        payloads = Framer().feed(data if data.endswith(b"\n") else data + b"\r\n")
        if not payloads:
            raise fail("文件中没有 HJ 212 报文（## 开头，以回车换行结尾）", code=2)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set()
    try:
        client.connect(address.host, address.port)
    except OSError as exc:
        raise fail(f"无法连接 MQTT 服务器 {address}：{exc.strerror or exc}", code=2) from None
    client.loop_start()
    try:
        infos = [client.publish(topic, p, qos=1) for p in payloads]
        for info in infos:
            info.wait_for_publish(10)
        sent = sum(1 for i in infos if i.is_published())
    finally:
        client.disconnect()
        client.loop_stop()
    if sent < len(payloads):
        err.print(f"只发布了 {sent}/{len(payloads)} 条")
        raise typer.Exit(1)
    console.print(f"已向 {topic} 发布 {sent} 条消息（QoS 1）")


def register(app: typer.Typer) -> None:
    app.add_typer(mqtt_app, name="mqtt")
