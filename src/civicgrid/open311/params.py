"""Reading Open311 parameters: empty values are absent, ``attribute[code]`` / ``attribute[code][]``
are gathered, and the jurisdiction is checked on every call."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from civicgrid.fields import DATE_ERROR, TEXT_ERROR, DateOutOfRange, bad_text
from civicgrid.open311.config import get_open311_settings
from civicgrid.open311.errors import Problems
from civicgrid.open311.timefmt import parse_w3c

_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


class Params:
    def __init__(self, items: Iterable[tuple[str, object]]) -> None:
        self._values: dict[str, list[str]] = {}
        self.bad_text: list[str] = []  # names whose values hold control characters (see fields.Text)
        for key, value in items:
            if isinstance(value, str) and value.strip() != "":
                if bad_text(key) or bad_text(value):
                    self.bad_text.append(key)
                    continue
                self._values.setdefault(key, []).append(value.strip())

    def get(self, name: str) -> str | None:
        values = self._values.get(name)
        return values[0] if values else None

    def has(self, name: str) -> bool:
        return name in self._values

    def attributes(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, values in self._values.items():
            m = _ATTRIBUTE.match(key)
            if m:
                out.setdefault(m.group(1), []).extend(values)
        return out

    def datetime(self, name: str, problems: Problems) -> datetime | None:
        raw = self.get(name)
        if raw is None:
            return None
        try:
            return parse_w3c(raw)
        except DateOutOfRange:
            problems.add(400, f"{name} {DATE_ERROR}，收到：{raw}")
            return None
        except ValueError:
            problems.add(400, f"{name} 不是有效的 ISO 8601 日期时间（如 2026-11-26T00:00:00+08:00）：{raw}")
            return None

    def integer(self, name: str, problems: Problems, *, low: int, high: int) -> int | None:
        raw = self.get(name)
        if raw is None:
            return None
        if not raw.isdigit() or not (low <= int(raw) <= high):
            problems.add(400, f"{name} 应为 {low}–{high} 之间的整数，收到：{raw}")
            return None
        return int(raw)

    def flag(self, name: str, problems: Problems) -> bool:
        raw = self.get(name)
        if raw is None:
            return False
        if raw.lower() not in {"true", "false", "1", "0"}:
            problems.add(400, f"{name} 应为 true 或 false，收到：{raw}")
            return False
        return raw.lower() in {"true", "1"}


def check_jurisdiction(params: Params, problems: Problems) -> None:
    """Required only when this server hosts several jurisdictions; an unknown one is a missing resource.
    (Checked on every call, so parameters with control characters are refused here too.)"""
    for name in dict.fromkeys(params.bad_text):
        problems.add(400, f"参数 {name.encode('unicode_escape').decode('ascii')[:60]} {TEXT_ERROR}")
    ids = get_open311_settings().jurisdiction_ids
    given = params.get("jurisdiction_id")
    if given is None:
        if len(ids) > 1:
            problems.add(400, f"本服务器服务多个辖区，必须提供 jurisdiction_id（可选：{'、'.join(ids)}）")
        return
    if given not in ids:
        problems.add(404, f"未知的辖区（jurisdiction_id）：{given}")
