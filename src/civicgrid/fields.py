"""Field types shared by every input schema: text without control characters, finite numbers, dates in a
sane range. Pure: no database, no web framework (pydantic only).

A string reaches the database only through one of these types, so a NUL (refused by PostgreSQL with a 500,
stored raw by SQLite), a lone surrogate (which cannot be encoded as UTF-8 when the answer is written) or an
escape sequence never gets past validation.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

# C0 controls except \t and \n (\r is normalised away first), DEL, C1 controls, and UTF-16 surrogates.
_BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NEWLINES = re.compile("\r\n?")

TEXT_ERROR = "含有不允许的字符（控制字符、NUL 或不成对的代理字符），请删除后重试"

MIN_YEAR = 2000
MAX_YEAR = 2100
DATE_ERROR = f"日期超出允许范围（{MIN_YEAR}–{MAX_YEAR} 年）"


def bad_text(value: str) -> bool:
    """True when ``value`` holds a character no free-text field may store (``\\r`` counts as fine)."""
    return _BAD_CHARS.search(_NEWLINES.sub("\n", value)) is not None


def clean_text(value: str) -> str:
    """``value`` with CR/CRLF turned into LF; raises ValueError (a Chinese message) on a bad character."""
    value = _NEWLINES.sub("\n", value)
    if _BAD_CHARS.search(value):
        raise ValueError(TEXT_ERROR)
    return value


def _text(value: object) -> object:
    return clean_text(value) if isinstance(value, str) else value


def in_range(value: datetime | date) -> bool:
    """True when the (calendar) year of ``value`` lies within MIN_YEAR..MAX_YEAR, read in UTC for an aware
    datetime (so ``+14:00`` on 31 December cannot step over the edge later)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None and MIN_YEAR < value.year < MAX_YEAR:
            return True  # no conversion can leave the range
        if value.tzinfo is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                return False
    return MIN_YEAR <= value.year <= MAX_YEAR


class DateOutOfRange(ValueError):
    def __init__(self) -> None:
        super().__init__(DATE_ERROR)


def _date_in_range(value: datetime | date) -> datetime | date:
    if not in_range(value):
        raise DateOutOfRange
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("数值必须是有限数（不能是 NaN 或 Infinity）")
    return value


# Free text of any API schema. ``before`` so that the check also sees what pydantic would strip or coerce.
Text = Annotated[str, BeforeValidator(_text)]
# A number that must be finite (JSON cannot carry NaN/Infinity; query strings and forms can).
Finite = Annotated[float, Field(allow_inf_nan=False), AfterValidator(_finite)]
# Dates and times a user may send: within MIN_YEAR..MAX_YEAR, so arithmetic and drivers never overflow.
SaneDateTime = Annotated[datetime, AfterValidator(_date_in_range)]
SaneDate = Annotated[date, AfterValidator(_date_in_range)]
