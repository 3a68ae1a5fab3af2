"""MQTT ingest (SPEC §10 "Transport"): stations' packets and JSON readings from a broker, stored exactly once.

Workers share the stream with an MQTT 5 shared subscription (``$share/<group>/civicgrid/stations/+/hj212``
and ``…/+/json``) at QoS 1, each with a persistent session (``clean_start`` off, a session expiry, a stable
client id ``<prefix>-<index>``), so the broker keeps a worker's messages while it is away. Acknowledgement is
manual: a message is acknowledged only after its readings are committed, so a worker that dies before storing
gets the message again, and storing is idempotent (``uq_station_readings_key``), so a redelivery never stores
twice.

A message that can never be stored — a topic that names no active station, a bad packet or CRC, a packet of
another MN, a wrong PW, malformed JSON — is counted per station and reason, logged and acknowledged (it would
otherwise come back forever). A database that is down is retried (with back-off) and the message is not
acknowledged until it is stored, or until the worker stops. paho-mqtt's network thread reconnects with
back-off; the storing happens in the worker's own thread so a slow database never stalls keep-alives, in
batches (what arrived while the previous batch was written: one unit of work each, acknowledged in order).

The JSON form ``{"ts": epoch-ms, "values": {code: value}, "flags": {code: flag}, "window": "rt"}`` becomes
the same :class:`~civicgrid.monitoring.hj212.Packet` a station would send (:func:`json_packet`, pure), so both
forms are stored by the one :func:`civicgrid.monitoring.service.store_packet`.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from civicgrid.monitoring import hj212
from civicgrid.monitoring.hj212 import Packet, PacketError

log = logging.getLogger(__name__)

TOPIC_ROOT = "civicgrid/stations"
KINDS = ("hj212", "json")
LOCAL = ZoneInfo("Asia/Shanghai")  # HJ 212 DataTime is station-local time
WINDOW_COMMANDS = {"rt": "2011", "min": "2051", "hour": "2061", "day": "2031"}

#: Why a message was refused (acknowledged, not stored), with the label the logs and the CLI show.
REASONS = {
    "bad_topic": "主题格式错误",
    "unknown_station": "站点未登记或已停用",
    "bad_packet": "HJ 212 数据包格式错误",
    "bad_crc": "CRC 校验错误",
    "mn_mismatch": "数据包中的 MN 与主题不符",
    "bad_pw": "PW 错误",
    "bad_json": "JSON 数据格式错误",
    "store_error": "存储出错",
}
_CODE = re.compile(r"^[A-Za-z0-9]{1,16}$")
_TS_MIN, _TS_MAX = 946_684_800_000, 4_102_444_800_000  # 2000-01-01 … 2100-01-01 in ms


class MessageError(ValueError):
    """A message that cannot be stored; ``reason`` is a key of :data:`REASONS`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


# ---------------------------------------------------------------------------------------------- pure parts


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker(url: str) -> Broker:
    """``mqtt://[user:pass@]host[:1883]`` or ``mqtts://…[:8883]`` (TLS) → :class:`Broker`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(f"MQTT 服务器地址应写成 mqtt://主机:端口：{url}")
    tls = parts.scheme in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ValueError(f"MQTT 服务器端口无效：{url}") from None
    user = unquote(parts.username) if parts.username else None
    pw = unquote(parts.password) if parts.password else None
    return Broker(parts.hostname, port, tls, user, pw)


def topic_filters(group: str) -> tuple[str, ...]:
    """The shared-subscription filters of one ingest group."""
    return tuple(f"$share/{group}/{TOPIC_ROOT}/+/{kind}" for kind in KINDS)


def parse_topic(topic: str) -> tuple[str, str]:
    """``civicgrid/stations/{MN}/{hj212|json}`` → (MN, kind)."""
    root, mn, kind = topic.rsplit("/", 2) if topic.count("/") >= 2 else ("", "", "")
    if root != TOPIC_ROOT or kind not in KINDS or not mn or len(mn) > 24:
        raise MessageError("bad_topic", f"主题不是 {TOPIC_ROOT}/站点MN/hj212 或 json：{topic[:80]}")
    return mn, kind


def hj212_packet(mn: str, payload: bytes) -> Packet:
    """A raw HJ 212 frame (``##…``, with or without CRLF) published for station ``mn``."""
    frame = payload.strip(b" \t\r\n\x00")
    if not frame.startswith(b"##"):
        raise MessageError("bad_packet", "消息不是 HJ 212 数据包（应以 ## 开头）")
    try:
        packet = hj212.parse_frame(frame + b"\r\n")
    except PacketError as err:
        reason = "bad_crc" if err.code == hj212.QN_BAD_CRC else "bad_packet"
        raise MessageError(reason, err.message) from None
    if packet.mn != mn:
        raise MessageError("mn_mismatch", f"数据包中的 MN（{packet.mn}）与主题中的 {mn} 不符")
    return packet


def _number_text(code: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MessageError("bad_json", f"{code} 的数值应为数字或 null")
    if not math.isfinite(value):
        raise MessageError("bad_json", f"{code} 的数值不是有限数")
    return str(value) if isinstance(value, int) else repr(value)


def json_packet(mn: str, payload: bytes) -> Packet:
    """``{"ts": epoch-ms, "values": {code: value}, "flags"?: {code: flag}, "window"?: "rt|min|hour|day"}`` →
    the :class:`Packet` a station would send for the same readings (the 2017 codes; ``ts`` is the start of
    the window; flags default to N). Pure: the stored rows are then those of ``readings.rows_of``."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise MessageError("bad_json", "消息不是有效的 JSON") from None
    if not isinstance(doc, dict):
        raise MessageError("bad_json", 'JSON 应为对象 {"ts": …, "values": {…}}')
    ts = doc.get("ts")
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not _TS_MIN <= ts < _TS_MAX:
        raise MessageError("bad_json", "ts 应为毫秒时间戳（2000 年至 2100 年之间）")
    window = doc.get("window", "rt")
    if window not in WINDOW_COMMANDS:
        raise MessageError("bad_json", f"window 应为 {'、'.join(WINDOW_COMMANDS)} 之一")
    values, flags = doc.get("values"), doc.get("flags", {})
    if not isinstance(values, dict) or not values:
        raise MessageError("bad_json", "values 应为非空对象 {污染物编码: 数值}")
    if not isinstance(flags, dict):
        raise MessageError("bad_json", "flags 应为对象 {污染物编码: 标记}")
    key = "Rtd" if window == "rt" else "Avg"
    fields: dict[str, dict[str, str]] = {}
    for code in (*values, *(c for c in flags if c not in values)):
        if not isinstance(code, str) or not _CODE.match(code):
            raise MessageError("bad_json", f"污染物编码无效：{str(code)[:20]}")
        item: dict[str, str] = {}
        text = _number_text(code, values.get(code))
        if text is not None:
            item[key] = text
        flag = flags.get(code)
        if flag is not None:
            if not isinstance(flag, str) or not 1 <= len(flag) <= 2:
                raise MessageError("bad_json", f"{code} 的数据标记无效")
            item["Flag"] = flag
        fields[code] = item
    local = datetime.fromtimestamp(ts / 1000, UTC).astimezone(LOCAL)
    header = {"MN": mn, "CN": WINDOW_COMMANDS[window]}
    return Packet(
        segment="",
        header=header,
        cp={"DataTime": local.strftime("%Y%m%d%H%M%S")},
        values=fields,
        version="2017",
    )


def decode(topic: str, payload: bytes) -> tuple[str, str, Packet]:
    """A message → (MN, kind, packet); raises :class:`MessageError` for what can never be stored."""
    mn, kind = parse_topic(topic)
    packet = hj212_packet(mn, payload) if kind == "hj212" else json_packet(mn, payload)
    return mn, kind, packet


# ------------------------------------------------------------------------------------------------- worker


@dataclass
class IngestStats:
    received: int = 0
    stored: int = 0  # messages taken (their rows committed, new or already there)
    rows: int = 0  # rows new to the database
    redelivered: int = 0  # messages the broker sent again (DUP)
    store_retries: int = 0
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)  # (MN or topic, reason)

    def summary(self) -> str:
        refused = sum(self.refused.values())
        return f"收到 {self.received} 条，入库 {self.stored} 条（新增 {self.rows} 行），拒收 {refused} 条"


class StationBook(Protocol):  # service.DatabaseBook: MN → PW of the active stations
    def password(self, mn: str) -> str | None: ...


# Stores packets in one unit of work; each packet's new-row count, or the exception that packet met.
Store = Callable[[Sequence[Packet]], list[int | Exception]]
_TRANSIENT: tuple[type[BaseException], ...] = ()


def _transient_errors() -> tuple[type[BaseException], ...]:
    """Database errors worth retrying (a server down, a lock): the message waits, unacknowledged."""
    global _TRANSIENT
    if not _TRANSIENT:
        from sqlalchemy.exc import InterfaceError, OperationalError

        _TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
    return _TRANSIENT


class IngestWorker:
    """One MQTT connection of the ingest group: paho's thread receives; this worker's thread stores, acks."""

    def __init__(
        self,
        broker: Broker,
        *,
        group: str,
        client_id: str,
        keepalive_s: int = 60,
        session_expiry_s: int = 86_400,
        receive_maximum: int = 100,
        store: Store | None = None,
        book: StationBook | None = None,
        batch: int = 200,
    ) -> None:
        self.broker = broker
        self.group = group
        self.client_id = client_id
        self.keepalive_s = keepalive_s
        self.session_expiry_s = session_expiry_s
        self.receive_maximum = receive_maximum
        self.batch = batch
        self.stats = IngestStats()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._store = store
        self._book = book
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: Any = None

    # -- life cycle

    def start(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        if self._store is None or self._book is None:
            from civicgrid.monitoring.service import DatabaseBook, store_packets
            from civicgrid.monitoring.settings import get_monitoring_settings

            self._store = self._store or store_packets
            self._book = self._book or DatabaseBook(get_monitoring_settings().book_refresh_s)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        client.manual_ack_set(True)
        client.reconnect_delay_set(1, 30)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry_s
        props.ReceiveMaximum = self.receive_maximum
        client.connect_async(
            self.broker.host, self.broker.port, self.keepalive_s, clean_start=False, properties=props
        )
        self._client = client
        self._stop.clear()
        self._thread = threading.Thread(target=self._drain, name=f"mqtt-{self.client_id}", daemon=True)
        self._thread.start()
        client.loop_start()  # connects, and reconnects with back-off (1 s … 30 s)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand (stored and acknowledged), then disconnect: what was received but not
        yet stored stays unacknowledged and comes back when a worker of this id reconnects."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
        self.connected.clear()
        self.subscribed.clear()

    def kill(self) -> None:
        """Drop the connection without DISCONNECT and without acknowledging anything (a crash; tests)."""
        self._stop.set()
        if self._client is not None:
            self._client.loop_stop()
            sock = self._client.socket()
            if sock is not None:
                sock.close()
        self.connected.clear()
        self.subscribed.clear()

    # -- paho callbacks (its network thread)

    def _on_connect(self, client: Any, _userdata: Any, flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT %s: 连接被拒绝：%s", self.client_id, reason)
            return
        from paho.mqtt.subscribeoptions import SubscribeOptions

        self.connected.set()
        log.info(
            "MQTT %s 已连接 %s（会话%s）",
            self.client_id,
            self.broker,
            "恢复" if flags.session_present else "新建",
        )
        client.subscribe([(f, SubscribeOptions(qos=1)) for f in topic_filters(self.group)])

    def _on_subscribe(self, _client: Any, _userdata: Any, _mid: int, reasons: Any, _props: Any) -> None:
        if all(not r.is_failure for r in reasons):
            self.subscribed.set()
        else:
            log.error("MQTT %s: 订阅被拒绝：%s", self.client_id, [str(r) for r in reasons])

    def _on_disconnect(self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if not self._stop.is_set():
            log.warning("MQTT %s 连接断开（%s），稍后重连", self.client_id, reason)

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        self._inbox.put(message)

    # -- storing (this worker's thread)

    def _drain(self) -> None:
        """Take what has arrived (up to ``batch`` messages), store it in one unit of work, then acknowledge
        it in the order received."""
        while not self._stop.is_set():
            try:
                messages = [self._inbox.get(timeout=0.2)]
            except queue.Empty:
                continue
            while len(messages) < self.batch:
                try:
                    messages.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            try:
                if self._take(messages):
                    for message in messages:
                        self._client.ack(message.mid, message.qos)
            except Exception:  # never let one batch end the worker
                log.exception("MQTT %s: 处理消息失败", self.client_id)

    def _take(self, messages: list[Any]) -> bool:
        """Store a batch; True when all of it may be acknowledged (each stored or refused for good), False
        when the worker stopped while the database was away (then nothing is acknowledged)."""
        ready: list[tuple[str, Packet]] = []
        for message in messages:
            self.stats.received += 1
            self.stats.redelivered += bool(message.dup)
            topic: str = message.topic
            try:
                mn, kind, packet = decode(topic, message.payload)
                expected = self._retrying(lambda: self._book.password(mn) if self._book else None)  # noqa: B023
                if expected is _GAVE_UP:
                    return False
                if expected is None:
                    raise MessageError("unknown_station", f"站点 {mn} 未登记或已停用")
                if kind == "hj212" and packet.pw != expected:
                    raise MessageError("bad_pw", f"站点 {mn} 的 PW 错误")
            except MessageError as err:
                self._refuse(topic, err.reason, err.message)
                continue
            ready.append((topic, packet))
        delay = 0.5
        while ready:
            results = self._retrying(lambda: self._store([p for _, p in ready]) if self._store else [])  # noqa: B023
            if results is _GAVE_UP:
                return False
            again = []
            for (topic, packet), result in zip(ready, results, strict=True):
                if isinstance(result, _transient_errors()):
                    again.append((topic, packet))
                elif isinstance(result, Exception):
                    log.error("MQTT 消息存储出错（%s）：%r，已确认以免反复重投", _who(topic), result)
                    self._refuse(topic, "store_error", str(result))
                else:
                    self.stats.stored += 1
                    self.stats.rows += result
            if again:
                self.stats.store_retries += 1
                log.warning("MQTT %s: 数据库暂不可用，%.1f 秒后重试 %d 条", self.client_id, delay, len(again))
                if self._stop.wait(delay):
                    return False
                delay = min(delay * 2, 30.0)
            ready = again
        return True

    def _refuse(self, topic: str, reason: str, message: str) -> None:
        who = _who(topic)
        self.stats.refused[(who, reason)] += 1
        log.warning("MQTT 消息拒收（%s，%s）：%s", who, REASONS[reason], message)

    def _retrying(self, work: Callable[[], Any]) -> Any:
        """Run ``work``; while the database is unreachable, retry with back-off until it is or we stop."""
        delay = 0.5
        while True:
            try:
                return work()
            except _transient_errors() as exc:
                self.stats.store_retries += 1
                log.warning("MQTT %s: 数据库暂不可用（%s），%.1f 秒后重试", self.client_id, exc, delay)
                if self._stop.wait(delay):
                    return _GAVE_UP
                delay = min(delay * 2, 30.0)


_GAVE_UP = object()


def _who(topic: str) -> str:
    parts = topic.split("/")
    return parts[2] if len(parts) == 4 and parts[2] else topic[:40]


def run_workers(
    stop: threading.Event,
    *,
    broker: str,
    group: str,
    client_id: str,
    workers: int = 1,
    keepalive_s: int = 60,
    session_expiry_s: int = 86_400,
    receive_maximum: int = 100,
    report_every_s: float = 60.0,
) -> list[IngestWorker]:
    """Run ``workers`` ingest workers (ids ``<client_id>-1`` …) until ``stop`` is set; returns them."""
    address = parse_broker(broker)
    running = [
        IngestWorker(
            address,
            group=group,
            client_id=f"{client_id}-{i}",
            keepalive_s=keepalive_s,
            session_expiry_s=session_expiry_s,
            receive_maximum=receive_maximum,
        )
        for i in range(1, workers + 1)
    ]
    for w in running:
        w.start()
    log.info("MQTT 数据接收：%s，共享组 %s，%d 个接收进程", address, group, workers)
    last = time.monotonic()
    try:
        while not stop.wait(0.5):
            if time.monotonic() - last >= report_every_s:
                last = time.monotonic()
                for w in running:
                    log.info("MQTT %s：%s", w.client_id, w.stats.summary())
    finally:
        for w in running:
            w.stop()
    return running


def run(stop: threading.Event) -> None:
    """The ``mqtt`` service (``Domain.services``): idles unless ``CIVICGRID_MONITORING_MQTT_ENABLED``."""
    from civicgrid.monitoring.settings import get_monitoring_settings

    s = get_monitoring_settings()
    if not s.mqtt_enabled:
        log.info("MQTT 数据接收未启用（CIVICGRID_MONITORING_MQTT_ENABLED=true 启用）")
        stop.wait()
        return
    run_workers(
        stop,
        broker=s.mqtt_broker,
        group=s.mqtt_group,
        client_id=s.mqtt_client_id,
        workers=s.mqtt_workers,
        keepalive_s=s.mqtt_keepalive_s,
        session_expiry_s=s.mqtt_session_expiry_s,
        receive_maximum=s.mqtt_receive_maximum,
    )
