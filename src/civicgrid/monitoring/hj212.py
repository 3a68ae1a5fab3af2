"""HJ 212 packets (HJ 212-2005/2017/2025, SPEC §10): CRC, parsing, building and the platform's answers.

Pure module: bytes in, dataclasses out; no database, no sockets. The TCP listener, the MQTT consumer and
``civicgrid hj212 inspect`` all parse with :func:`parse_frame`.

A frame is ``##`` + 4-digit data-segment length + data segment + 4 hex CRC digits + ``\\r\\n``. The CRC is the
standard's own CRC16 over the data segment (init 0xFFFF, ``crc = (crc >> 8) ^ byte``, then eight shifts with
0xA001) — not the Modbus CRC, which gives other digits for the same bytes.

Field devices are sloppy. Where the meaning is still clear the parser accepts the packet and names each
deviation (:attr:`Packet.deviations`) so the listener can count them per station; where it is not, it raises
:class:`PacketError` carrying the ``QnRtn`` refusal code of a 9011 answer and whatever QN and MN it could
read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# 9011 QnRtn codes (HJ 212-2017 table 9).
QN_READY = 1
QN_REJECTED = 2
QN_BAD_PW = 3
QN_BAD_MN = 4
QN_BAD_ST = 5
QN_BAD_FLAG = 6
QN_BAD_QN = 7
QN_BAD_CN = 8
QN_BAD_CRC = 9
QN_UNKNOWN = 100

QNRTN_LABELS = {
    QN_READY: "准备执行请求",
    QN_REJECTED: "请求被拒绝",
    QN_BAD_PW: "PW 错误",
    QN_BAD_MN: "MN 错误",
    QN_BAD_ST: "ST 错误",
    QN_BAD_FLAG: "Flag 错误",
    QN_BAD_QN: "QN 错误",
    QN_BAD_CN: "CN 错误",
    QN_BAD_CRC: "CRC 校验错误",
    QN_UNKNOWN: "未知错误",
}

#: Commands a station sends or the platform answers with (CN), with their Chinese names.
COMMANDS: Mapping[str, str] = {
    "2011": "实时数据",
    "2051": "分钟数据",
    "2061": "小时数据",
    "2031": "日数据",
    "2021": "设施运行状态",
    "1011": "提取现场机时间",
    "1012": "设置现场机时间",
    "1061": "提取实时数据间隔",
    "1062": "设置实时数据间隔",
    "9011": "请求应答",
    "9012": "执行结果",
    "9013": "通知应答",
    "9014": "数据应答",
    "9015": "心跳",
}
DATA_COMMANDS = frozenset({"2011", "2051", "2061", "2031"})

#: System codes (ST) of the station kinds CivicGrid knows, and the platform's own (91).
SYSTEM_CODES: Mapping[str, str] = {
    "21": "地表水质量监测",
    "22": "空气质量监测",
    "23": "声环境质量监测",
    "31": "大气环境污染源",
    "32": "地表水体环境污染源",
    "39": "扬尘",
    "91": "系统交互",
}

VERSIONS = {0: "2005", 1: "2017", 2: "2025"}
VERSION_BITS = {v: k for k, v in VERSIONS.items()}

MAX_SEGMENT = 9999  # four length digits
_HEADER = re.compile(rb"##(\d{4})")


class PacketError(ValueError):
    """A packet that cannot be taken: ``code`` is the 9011 QnRtn to answer with (when it can be addressed)."""

    def __init__(self, message: str, code: int = QN_UNKNOWN, qn: str | None = None, mn: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.qn = qn
        self.mn = mn


def _byte_table() -> list[int]:
    table = []
    for x in range(256):
        crc = x
        for _ in range(8):
            lsb = crc & 1
            crc >>= 1
            if lsb:
                crc ^= 0xA001
        table.append(crc)
    return table


# The CRC after a byte depends only on (previous CRC >> 8) ^ byte, so the running state is 8 bits wide:
# s' = H(s ^ b), with _T the CRC of one step and H = its high byte. H is linear over GF(2) and H^8 is the
# identity, so the state after m bytes is H^m(0xFF) XOR, for each byte, H^k(byte) with k = its distance
# from the end (1 … m) taken mod 8. Bytes whose distances agree mod 8 therefore combine by plain XOR:
# the data folded into one 64-bit word by big-integer XORs (in C) leaves eight lanes, and four 64K tables
# map pairs of lanes through their powers of H. Same digits as the byte-by-byte loop, ~5x faster.
_T = _byte_table()
_H = bytes(v >> 8 for v in _T)


def _power(r: int) -> bytes:
    out = bytes(range(256))
    for _ in range(r):
        out = bytes(_H[x] for x in out)
    return out


_POWERS = [_power(r) for r in range(8)]
_LANES = [_POWERS[(j + 1) % 8] for j in range(8)]  # lane j = distances j+1, j+9, … from the end
_PAIRS = tuple(
    bytes(_LANES[2 * k][w & 0xFF] ^ _LANES[2 * k + 1][w >> 8] for w in range(65536)) for k in range(4)
)
_INIT = bytes(_POWERS[r][0xFF] for r in range(8))
_FOLDS = [(1 << (64 << p)) - 1 for p in range(12)]  # masks of 2**p 64-bit words (a frame has ≤ 1250)


def crc16(data: bytes) -> int:
    """HJ 212's CRC16 of ``data`` (the data segment only): init 0xFFFF; per byte ``crc = (crc >> 8) ^ b``,
    then eight rounds of ``lsb = crc & 1; crc >>= 1; if lsb: crc ^= 0xA001`` — computed by folding."""
    if not data:
        return 0xFFFF
    m = len(data) - 1  # the state before the last byte covers data[:-1]
    x = int.from_bytes(data, "big") >> 8
    words = (m + 7) >> 3
    while words > 1:
        p = (words - 1).bit_length() - 1  # fold at the largest power of two below ``words``
        mask = _FOLDS[p] if p < 12 else (1 << (64 << p)) - 1
        x = (x >> (64 << p)) ^ (x & mask)
        words = 1 << p
    p0, p1, p2, p3 = _PAIRS
    s = _INIT[m & 7] ^ p0[x & 0xFFFF] ^ p1[(x >> 16) & 0xFFFF] ^ p2[(x >> 32) & 0xFFFF] ^ p3[x >> 48]
    return _T[s ^ data[-1]]


def crc_hex(data: bytes) -> str:
    return f"{crc16(data):04X}"


@dataclass(frozen=True)
class Packet:
    """One parsed packet. ``values`` holds each pollutant's fields by suffix (``{"a34004": {"Rtd": "80"}}``);
    ``cp`` the CP fields that belong to no pollutant (``DataTime``, ``QnRtn``, ``RtdInterval`` …)."""

    segment: str
    header: Mapping[str, str]
    cp: Mapping[str, str]
    values: Mapping[str, Mapping[str, str]]
    version: str
    deviations: tuple[str, ...] = ()
    groups: tuple[Mapping[str, str], ...] = field(default=(), repr=False)

    @property
    def qn(self) -> str | None:
        return self.header.get("QN")

    @property
    def st(self) -> str | None:
        return self.header.get("ST")

    @property
    def cn(self) -> str | None:
        return self.header.get("CN")

    @property
    def pw(self) -> str | None:
        return self.header.get("PW")

    @property
    def mn(self) -> str | None:
        return self.header.get("MN")

    @property
    def flag(self) -> int | None:
        raw = self.header.get("Flag")
        return int(raw) if raw is not None and raw.isdigit() else None

    @property
    def wants_answer(self) -> bool:
        """Flag bit A: the sender waits for a 9014 (data) or 9011 (request) answer."""
        return self.flag is not None and bool(self.flag & 1)

    @property
    def split(self) -> tuple[int, int] | None:
        """(PNUM, PNO) of a split packet (Flag bit D), else None."""
        if self.flag is None or not self.flag & 2:
            return None
        try:
            return int(self.header.get("PNUM", "")), int(self.header.get("PNO", ""))
        except ValueError:
            return None

    @property
    def data_time(self) -> datetime | None:
        """``DataTime`` (the start of the period for minute, hourly and daily data), station-local time."""
        return parse_time(self.cp.get("DataTime"))


def parse_time(raw: str | None) -> datetime | None:
    """``YYYYMMDDhhmmss`` (milliseconds after it tolerated), naive station-local time; None if unreadable."""
    if not raw:
        return None
    text = raw.strip()
    if len(text) < 14 or not text[:14].isdigit():
        return None
    try:
        return datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
        )
    except ValueError:
        return None


def _split_fields(text: str, sep: str, deviations: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(sep):
        part = part.strip()
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq:
            deviations.append(f"字段缺少等号：{part[:20]}")
            continue
        if key in out:
            deviations.append(f"字段重复：{key}")
        out[key.strip()] = value.strip()
    return out


def parse_segment(segment: str, deviations: list[str] | None = None) -> Packet:
    """Parse a data segment (``QN=…;ST=…;…;CP=&&…&&``) without its frame."""
    dev = deviations if deviations is not None else []
    head, marker, rest = segment.partition("CP=&&")
    if not marker:
        raise PacketError("数据段缺少 CP=&&…&&", QN_REJECTED)
    end = rest.rfind("&&")
    if end < 0:
        dev.append("CP 缺少结尾 &&")
        cp_text = rest
    else:
        cp_text = rest[:end]
        if rest[end + 2 :].strip(" ;"):
            dev.append("CP 之后有多余内容")
    header = _split_fields(head, ";", dev)
    mn, qn = header.get("MN"), header.get("QN")
    flag_raw = header.get("Flag")
    if flag_raw is None:
        version = "2005"
    elif not flag_raw.isdigit():
        raise PacketError(f"Flag 不是数字：{flag_raw}", QN_BAD_FLAG, qn, mn)
    else:
        bits = int(flag_raw) >> 2
        if bits not in VERSIONS:
            raise PacketError(f"Flag 的版本位未知：{flag_raw}", QN_BAD_FLAG, qn, mn)
        version = VERSIONS[bits]
    if not mn:
        raise PacketError("数据段缺少 MN", QN_BAD_MN, qn, mn)
    if len(mn) > 24:
        dev.append("MN 超过 24 位")
    cn = header.get("CN")
    if not cn or not cn.isdigit():
        raise PacketError("数据段缺少 CN 或 CN 不是数字", QN_BAD_CN, qn, mn)
    if qn is not None and (not qn.isdigit() or len(qn) != 17):
        if qn.isdigit() and len(qn) in (14, 15, 16):
            dev.append("QN 不是 17 位")
        else:
            raise PacketError(f"QN 格式错误：{qn}", QN_BAD_QN, qn, mn)
    if qn is None and version != "2005":
        dev.append("缺少 QN")
    if "ST" not in header:
        dev.append("缺少 ST")
    cp: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    groups: list[dict[str, str]] = []
    for group in cp_text.split(";"):
        if not group.strip():
            continue
        items = _split_fields(group, ",", dev)
        groups.append(items)
        for key, value in items.items():
            code, dash, suffix = key.partition("-")
            if dash and code and suffix:
                values.setdefault(code, {})[suffix] = value
            else:
                cp[key] = value
    if cn in DATA_COMMANDS:
        if "DataTime" not in cp:
            dev.append("缺少 DataTime")
        elif parse_time(cp["DataTime"]) is None:
            dev.append(f"DataTime 无法识别：{cp['DataTime']}")
        elif len(cp["DataTime"]) > 14:
            dev.append("DataTime 带毫秒")
    return Packet(
        segment=segment,
        header=header,
        cp=cp,
        values=values,
        version=version,
        deviations=tuple(dev),
        groups=tuple(groups),
    )


def _peek(segment: str) -> tuple[str | None, str | None]:
    qn = re.search(r"(?:^|;)QN=([^;]*)", segment)
    mn = re.search(r"(?:^|;)MN=([^;]*)", segment)
    return (qn.group(1) if qn else None), (mn.group(1) if mn else None)


def parse_frame(frame: bytes) -> Packet:
    """Parse one whole frame (``##…`` up to and without or with its ``\\r\\n``)."""
    raw = frame.rstrip(b"\r\n")
    dev: list[str] = []
    if frame.endswith(b"\n") and not frame.endswith(b"\r\n"):
        dev.append("包尾缺少 \\r")
    m = _HEADER.match(raw)
    if not m:
        raise PacketError("包头不是 ## 加 4 位长度", QN_REJECTED)
    declared = int(m.group(1))
    body = raw[6:]
    if len(body) < 4:
        raise PacketError("数据包过短", QN_REJECTED)
    seg_bytes, crc_text = body[:-4], body[-4:].decode("ascii", "replace")
    try:
        segment = seg_bytes.decode("utf-8")
    except UnicodeDecodeError:
        try:
            segment = seg_bytes.decode("gb18030")
            dev.append("数据段不是 UTF-8（按 GB18030 读取）")
        except UnicodeDecodeError as exc:
            raise PacketError("数据段编码无法识别", QN_REJECTED) from exc
    qn, mn = _peek(segment)
    if declared != len(seg_bytes):
        if declared == len(segment):
            dev.append("长度按字符计")
        else:
            dev.append(f"长度不符：声明 {declared}，实际 {len(seg_bytes)}")
    try:
        crc_ok = int(crc_text, 16) == crc16(seg_bytes)
    except ValueError:
        crc_ok = False
    if not crc_ok:
        raise PacketError(f"CRC 校验错误：应为 {crc_hex(seg_bytes)}，包中为 {crc_text}", QN_BAD_CRC, qn, mn)
    if crc_text != crc_text.upper():
        dev.append("CRC 为小写")
    return parse_segment(segment, dev)


def build(header: Mapping[str, str | int | None], cp: str = "") -> bytes:
    """A frame for ``header`` fields in order (None values left out) and the CP content; the length counts
    UTF-8 bytes, as our encoder always does."""
    fields = ";".join(f"{k}={v}" for k, v in header.items() if v is not None)
    segment = f"{fields};CP=&&{cp}&&".encode()
    if len(segment) > MAX_SEGMENT:
        raise ValueError("数据段超过 9999 字节")
    return b"##%04d" % len(segment) + segment + crc_hex(segment).encode("ascii") + b"\r\n"


def cp_text(values: Mapping[str, Mapping[str, object]], **fields: object) -> str:
    """CP content: top-level fields first (``DataTime=…``), then one group per pollutant."""
    parts = [f"{k}={v}" for k, v in fields.items() if v is not None]
    head = ";".join(parts)
    groups = [
        ",".join(f"{code}-{suffix}={v}" for suffix, v in items.items()) for code, items in values.items()
    ]
    return ";".join([head, *groups]) if head else ";".join(groups)


def _answer_flag(packet_version: str) -> int:
    return VERSION_BITS.get(packet_version, 1) << 2  # A = 0: an answer wants no answer


def data_answer(packet: Packet) -> bytes:
    """9014 数据应答 to a data packet that asked for one (echoes its QN)."""
    return build(
        {
            "QN": packet.qn,
            "ST": "91",
            "CN": "9014",
            "PW": packet.pw,
            "MN": packet.mn,
            "Flag": _answer_flag(packet.version),
        }
    )


def request_answer(
    code: int, *, qn: str | None, mn: str | None, pw: str | None = None, version: str = "2017"
) -> bytes:
    """9011 请求应答 with ``QnRtn`` (1 ready, 3 bad PW, 9 CRC error …)."""
    return build(
        {"QN": qn, "ST": "91", "CN": "9011", "PW": pw, "MN": mn, "Flag": _answer_flag(version)},
        f"QnRtn={code}",
    )
