"""Bulk import of stations (issue 14 §1): all or nothing.

Every row of a parsed file (``station_import``) is checked as ``stations.add`` would check it — the fields, an
MN not yet used, a position inside the district — and every problem is reported with its row number. Only a
file without any problem is written; a dry run checks and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.errors import AppError, InvalidInput
from civicgrid.geo.service import locate
from civicgrid.models import Station
from civicgrid.monitoring import stations
from civicgrid.monitoring.station_import import Parsed, Row, RowError, error_texts


@dataclass
class Outcome:
    """What an import did (or would do): the stations, each with its grid, and the errors."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    written: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": not self.errors,
            "written": self.written,
            "count": len(self.rows),
            "stations": self.rows,
            "errors": [{"row": e.row, "message": e.message, "text": e.text()} for e in self.errors],
        }


def station_in(row: Row) -> stations.StationIn:
    return stations.StationIn(
        row.mn, row.kind, row.name, row.lng, row.lat, row.password, row.target_class, row.lake, row.interval_s
    )


def check(session: Session, parsed: Parsed) -> Outcome:
    """Check every row against the domain and the database; writes nothing."""
    out = Outcome(errors=list(parsed.errors))
    mns = [r.mn for r in parsed.rows]
    taken = set(session.scalars(select(Station.mn).where(Station.mn.in_(mns)))) if mns else set()
    for row in parsed.rows:
        errors: list[str] = []
        try:
            stations.validate(station_in(row))
        except InvalidInput as exc:
            errors.append(exc.message)
        if row.mn in taken:
            errors.append(f"MN 为 {row.mn} 的站点已存在")
        grid = ""
        try:
            grid = locate(session, row.lng, row.lat).grid_code
        except AppError as exc:
            errors.append(exc.message)
        out.errors.extend(RowError(row.row, e) for e in errors)
        out.rows.append(
            {
                "row": row.row,
                "mn": row.mn,
                "kind": row.kind,
                "kind_label": stations.KINDS.get(row.kind, ("", row.kind))[1],
                "name": row.name,
                "lng": row.lng,
                "lat": row.lat,
                "target_class": row.target_class if row.kind == "water" else None,
                "lake": row.lake,
                "interval_s": row.interval_s,
                "grid_code": grid,
            }
        )
    out.errors.sort(key=lambda e: e.row)
    return out


def run(session: Session, parsed: Parsed, *, dry_run: bool = False) -> Outcome:
    """Check, then (unless a dry run) add every station. Any error: ``InvalidInput`` listing every error (with
    row numbers, in ``errors``) and nothing written."""
    out = check(session, parsed)
    if out.errors:
        texts = error_texts(out.errors)
        raise InvalidInput(
            f"导入文件有 {len(texts)} 处错误，未导入任何站点："
            + "；".join(texts[:5])
            + ("……" if len(texts) > 5 else ""),
            errors=[{"row": e.row, "message": e.message} for e in out.errors],
        )
    if not dry_run:
        for row in parsed.rows:
            stations.add(session, station_in(row))
        out.written = True
    return out
