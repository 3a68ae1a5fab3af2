"""The pollutant code table (HJ 524/525 codes of HJ 212-2017, with the 2005 codes that map onto them).

Pure module over ``civicgrid/data/pollutants.csv``: codes, names and units are data, not code.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Pollutant:
    code: str  # the 2017 code (a34004)
    code_2005: str | None
    name: str  # short name (PM2.5)
    name_zh: str
    unit: str
    index_name: str | None  # the name AQI or water class reads it as, if any


@cache
def table() -> dict[str, Pollutant]:
    """Every pollutant by its 2017 code."""
    text = resources.files("civicgrid.data").joinpath("pollutants.csv").read_text("utf-8")
    out: dict[str, Pollutant] = {}
    for row in csv.DictReader(io.StringIO(text)):
        out[row["code"]] = Pollutant(
            row["code"],
            row["code_2005"] or None,
            row["name"],
            row["name_zh"],
            row["unit"],
            row["index_name"] or None,
        )
    return out


@cache
def _by_2005() -> dict[str, str]:
    return {p.code_2005: p.code for p in table().values() if p.code_2005}


def normalise(code: str, version: str) -> str:
    """A packet's pollutant code as a 2017 code (2005 packets use three-character codes)."""
    if version == "2005":
        return _by_2005().get(code, code)
    return code


def by_index_name(name: str) -> Pollutant | None:
    return next((p for p in table().values() if p.index_name == name), None)
