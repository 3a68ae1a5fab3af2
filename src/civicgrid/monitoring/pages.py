"""The monitoring pages (issue 14 §7): the station map and table, a station's page with its charts, bulk
import, and the monthly rankings. Staff read them; only an admin changes stations (POST → commit → redirect,
with the web's CSRF check). Queries live in ``board``, ``readings`` and ``ranking``; this module builds none.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile

from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.errors import InvalidInput
from civicgrid.models import Station, utcnow
from civicgrid.monitoring import (
    aggregate,
    aqi,
    board,
    readings,
    station_bulk,
    station_import,
    stations,
    svgchart,
    water,
)
from civicgrid.monitoring.api import MAX_SPAN
from civicgrid.monitoring.pollutants import table
from civicgrid.org.roles import Principal
from civicgrid.settings import get_settings
from civicgrid.web.admin_common import TOKEN, change, text
from civicgrid.web.lookups import json_block
from civicgrid.web.render import render
from civicgrid.web.session import CsrfForm, flash, require_web_roles

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

STAFF = ("operator", "shift_lead", "dispatcher", "handler", "inspector", "leader", "admin")
Staff = Annotated[Principal, Depends(require_web_roles(*STAFF))]
Admin = Annotated[Principal, Depends(require_web_roles("admin"))]
WINDOWS = {"rt": "实时", "hour": "小时", "day": "日"}
DEFAULT_DAYS = {"rt": 1, "hour": 7, "day": 90}


def _points(rows: list[board.Row]) -> list[dict[str, Any]]:
    return [
        {
            "mn": r.station.mn,
            "name": r.station.name,
            "lat": r.station.lat,
            "lng": r.station.lng,
            "color": r.current.color,
            "value": r.current.text,
            "status": r.status_label,
            "url": f"/stations/{r.station.mn}",
        }
        for r in rows
    ]


@router.get("/stations", response_class=HTMLResponse)
def station_map(
    request: Request, session: DbSession, user: Staff, kind: Annotated[str, Query(max_length=8)] = ""
) -> HTMLResponse:
    """站点地图: every station coloured by its current AQI or water class, and the same as a table."""
    kind = kind if kind in stations.KINDS else ""
    rows = board.board(session, kind=kind or None)
    return render(
        request,
        "stations/index.html",
        rows=rows,
        points=json_block(_points(rows)),
        kinds=stations.KINDS,
        kind=kind,
        aqi_levels=aqi.LEVELS,
        water_colors=water.COLORS,
        water_labels=water.LABELS,
        can_edit=user.has_any(frozenset({"admin"})),
    )


# --- Bulk import: upload → dry-run preview → confirm (declared before /stations/{mn}) -----------------------


def _pending_dir() -> Path:
    path = get_settings().data_dir / "station-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


@router.get("/stations/import", response_class=HTMLResponse)
def import_page(request: Request, admin: Admin) -> HTMLResponse:
    return render(request, "stations/import.html", preview=None)


@router.post("/stations/import/preview", response_class=HTMLResponse)
def import_preview(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        response = RedirectResponse("/stations/import", status_code=303)
        flash(response, "请选择要导入的 CSV 或 xlsx 文件", "error", request)
        return response
    limit = get_settings().max_upload_bytes
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"文件不能超过 {limit // (1024 * 1024)} MB")
    outcome = station_bulk.check(session, station_import.parse(data, upload.filename))
    token = ""
    if not outcome.errors:
        token = secrets.token_hex(16)
        suffix = ".xlsx" if station_import.is_xlsx(data, upload.filename) else ".csv"
        (_pending_dir() / f"{token}{suffix}").write_bytes(data)
    return render(
        request,
        "stations/import.html",
        preview={"outcome": outcome, "token": token, "filename": upload.filename},
    )


@router.post("/stations/import/commit")
def import_commit(request: Request, session: DbSession, admin: Admin, form: CsrfForm) -> Response:
    def act() -> str:
        token = text(form, "token")
        found = [p for p in _pending_dir().glob(f"{token}.*")] if TOKEN.match(token) else []
        if not found:
            raise InvalidInput("预览已过期，请重新上传文件")
        path = found[0]
        outcome = station_bulk.run(session, station_import.parse(path.read_bytes(), path.name))
        path.unlink(missing_ok=True)
        return f"已导入 {len(outcome.rows)} 个站点"

    return change(request, session, "/stations", act)


# --- Rankings (monitoring.ranking, imported when the page is opened) ----------------------------------------


def _last_month(today: date) -> str:
    first = today.replace(day=1) - timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


@router.get("/stations/rankings", response_class=HTMLResponse)
def rankings_page(
    request: Request,
    session: DbSession,
    user: Staff,
    month: Annotated[str, Query(max_length=7)] = "",
    kind: Annotated[str, Query(max_length=8)] = "air",
    by: Annotated[str, Query(max_length=8)] = "station",
) -> HTMLResponse:
    """月度排名 of stations or streets, with the Excel download of the same figures."""
    from civicgrid.monitoring import ranking

    month = month or _last_month(utcnow().astimezone(readings.LOCAL).date())
    kind = kind if kind in ("air", "water") else "air"
    by = by if by in ("station", "street") else "station"
    rows: list[Any] = []
    columns: tuple[tuple[str, str], ...] = ()
    error = ""
    try:
        rows = ranking.monthly(session, month, kind, by)  # type: ignore[arg-type]
        columns = ranking.columns(kind)
    except InvalidInput as exc:
        error = exc.message
    cells = [[ranking.cell(k, r.values.get(k)) for k, _ in columns] for r in rows]
    return render(
        request,
        "stations/rankings.html",
        month=month,
        kind=kind,
        by=by,
        rows=list(zip(rows, cells, strict=True)),
        columns=columns,
        error=error,
        xlsx=f"/api/v1/stations/rankings.xlsx?month={month}&kind={kind}&by={by}",
    )


# --- One station ------------------------------------------------------------------------------------------


def _day(raw: str, label: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{label}应为 YYYY-MM-DD 格式的日期") from None


def _range(window: str, start: str, end: str) -> tuple[date, date, datetime, datetime]:
    """The chosen days (local, inclusive) and the UTC range they cover; refuses spans the API refuses."""
    today = utcnow().astimezone(readings.LOCAL).date()
    last = _day(end, "结束日期") or today
    first = _day(start, "开始日期") or last - timedelta(days=DEFAULT_DAYS[window] - 1)
    if first > last:
        raise InvalidInput("开始日期应不晚于结束日期")
    since = datetime.combine(first, datetime.min.time(), readings.LOCAL)
    until = datetime.combine(last + timedelta(days=1), datetime.min.time(), readings.LOCAL)
    if until - since > MAX_SPAN[window]:
        raise InvalidInput(f"{WINDOWS[window]}数据一次最多查看 {MAX_SPAN[window].days} 天")
    return first, last, since, until


def _charts(station: Station, rows: list[Any]) -> list[dict[str, Any]]:
    by_code: dict[str, list[svgchart.Point]] = defaultdict(list)
    for r in rows:
        by_code[r.code].append(svgchart.Point(r.at, r.value, r.flag))
    names = table()
    out = []
    for code, points in sorted(by_code.items()):
        p = names.get(code)
        title = f"{p.name_zh} {p.name}" if p else code
        limit = (station.permit_limits or {}).get(code)
        svg = svgchart.line_chart(title, p.unit if p else "", points, limit=limit)
        normal = [x.value for x in points if x.value is not None and x.flag == "N"]
        out.append(
            {
                "code": code,
                "title": title,
                "unit": p.unit if p else "",
                "svg": Markup(svg),
                "count": len(points),
                "mean": round(sum(normal) / len(normal), 3) if normal else None,
                "max": max(normal) if normal else None,
            }
        )
    return out


@router.get("/stations/{mn:mn}", response_class=HTMLResponse)
def station_page(
    request: Request,
    session: DbSession,
    user: Staff,
    mn: str,
    window: Annotated[str, Query(max_length=4)] = "hour",
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> HTMLResponse:
    """A station: where it is, its current value, charts of the chosen window and range, flag counts, its
    open sensor cases; for an admin the edit form and the deactivate button."""
    station = stations.get(session, mn)
    window = window if window in WINDOWS else "hour"
    error = ""
    try:
        first, last, since, until = _range(window, start, end)
    except InvalidInput as exc:
        error = exc.message
        first, last, since, until = _range(window, "", "")
    rows = aggregate.series(session, station, window, since, until)  # archived minutes too
    now_row = board.row_of(session, station)
    return render(
        request,
        "stations/station.html",
        s=station,
        info=stations.present(station),
        row=now_row,
        window=window,
        windows=WINDOWS,
        first=first.isoformat(),
        last=last.isoformat(),
        error=error,
        charts=_charts(station, rows),
        flags=board.flag_counts(session, station, window, since, until),
        flag_labels=board.FLAGS,
        cases=board.open_cases(session, user, station),
        can_edit=user.has_any(frozenset({"admin"})),
        classes=water.CLASSES[:5],
        point=json_block(_points([now_row])),
    )


def _changes(form: FormData, station: Station) -> dict[str, Any]:
    """The edit form's fields as ``stations.update`` changes (only what differs)."""
    out: dict[str, Any] = {"name": text(form, "name", 100)}
    lng, lat = text(form, "lng"), text(form, "lat")
    try:
        if lng and lat and (float(lng), float(lat)) != (station.lng, station.lat):
            out["lng"], out["lat"] = float(lng), float(lat)
        interval = text(form, "interval_s")
        if interval:
            out["interval_s"] = int(interval)
    except ValueError:
        raise InvalidInput("经度、纬度、数据间隔应为数字") from None
    if text(form, "password"):
        out["password"] = text(form, "password", 16)
    if station.kind == "water":
        out["target_class"] = text(form, "target_class", 4)
        out["lake"] = text(form, "lake") == "1"
    return out


@router.post("/stations/{mn:mn}/edit")
def station_edit(request: Request, session: DbSession, admin: Admin, mn: str, form: CsrfForm) -> Response:
    def act() -> str:
        station = stations.update(session, mn, _changes(form, stations.get(session, mn)))
        return f"已保存站点 {station.mn}（{station.name}），位于网格 {station.grid_code}"

    return change(request, session, f"/stations/{mn}", act)


@router.post("/stations/{mn:mn}/deactivate")
def station_deactivate(
    request: Request, session: DbSession, admin: Admin, mn: str, form: CsrfForm
) -> Response:
    def act() -> str:
        station = stations.deactivate(session, mn)
        return f"已停用站点 {station.mn}：此后的数据包将被拒收，历史数据保留"

    return change(request, session, f"/stations/{mn}", act)


@router.post("/stations/{mn:mn}/activate")
def station_activate(request: Request, session: DbSession, admin: Admin, mn: str, form: CsrfForm) -> Response:
    def act() -> str:
        station = stations.update(session, mn, {"active": True})
        return f"已重新启用站点 {station.mn}"

    return change(request, session, f"/stations/{mn}", act)
