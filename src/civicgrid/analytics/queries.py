"""The leader dashboard's aggregates, hotspots, recurring locations and spikes, as DuckDB queries over
``facts``.

Every function takes a connection from ``analytics.duck.connect`` and an explicit ``now`` (aware), and
returns plain JSON-ready values. Days, weeks and months are local (the settings' time zone; its offset
at ``now`` is used, which is exact for Asia/Shanghai). Windows filter on ``received_at`` and also on the
partition column, so whole months of files are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import h3

from civicgrid.analytics import rollup
from civicgrid.analytics.spikes import BASELINE_WEEKS, detect_spikes
from civicgrid.cases import disposal, states
from civicgrid.cases.states import sql_list
from civicgrid.settings import get_settings

PERIODS: dict[str, int] = {"week": 7, "month": 30, "quarter": 90, "year": 365}
PERIOD_LABELS = {"week": "近 7 天", "month": "近 30 天", "quarter": "近 90 天", "year": "近 365 天"}
FINAL = sql_list(states.FINAL)
# 处置 time and judging moment of ``cases.disposal`` over the facts' columns.
_DISP = disposal.sql_disposed_at("state", "dispatched_at", "feedback_at", "closed_at")
_JUDGED = disposal.sql_judged_at("due_at", _DISP, "dispatched_at")
JUDGED_KEYS = ("due", "disposed", "disposed_on_time", "overdue_open")
MEASURES = """
    count(*) AS received,
    count(registered_at) AS registered,
    count(dispatched_at) AS dispatched,
    count(feedback_at) AS disposed,
    count(*) FILTER (WHERE feedback_at IS NOT NULL AND (due_at IS NULL OR feedback_at <= due_at))
        AS disposed_on_time,
    count(closed_at) AS closed,
    count(*) FILTER (WHERE close_type = 'normal') AS closed_on_time,
    count(voided_at) AS voided,
    count(merged_at) AS merged,
    count(*) FILTER (WHERE rework_count > 0) AS rework,
    count(rating) AS rated,
    count(*) FILTER (WHERE rating >= 4) AS satisfied,
    coalesce(sum(disposal_wmin), 0) AS wmin_sum,
    count(disposal_wmin) AS wmin_n
"""
COUNT_KEYS = rollup.COUNT_KEYS
DIMENSIONS = ("category_code", "source", "street_code", "community_code", "grid_code", "department_code")


def _offset_s(now: datetime) -> int:
    off = now.astimezone(ZoneInfo(get_settings().timezone)).utcoffset()
    return int(off.total_seconds()) if off else 0


def _month(moment: datetime, offset_s: int) -> str:
    return (moment.astimezone(UTC) + timedelta(seconds=offset_s)).strftime("%Y-%m")


def _window(start: datetime, end: datetime, offset_s: int) -> tuple[str, list[Any]]:
    """A WHERE clause on received_at (plus partition pruning) and its parameters."""
    return (
        "received_at >= ? AND received_at < ? AND month >= ? AND month <= ?",
        [start, end, _month(start, offset_s), _month(end, offset_s)],
    )


def _rates(row: Mapping[str, Any], judged: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Counts and the SPEC §7 ratios that follow from them (None when the denominator is 0).

    Flow counts are by received day; 应处置 / 处置 / 按期处置 / 超时未处置 are those of ``cases.disposal``
    over the cases judged in the period (``judged``), so 按期处置率 is the cockpit's and the evaluation's."""
    out: dict[str, Any] = {k: int(row[k]) for k in COUNT_KEYS}
    out |= {k: int((judged or {}).get(k) or 0) for k in JUDGED_KEYS}

    def ratio(num: str, den: str) -> float | None:
        return round(out[num] / out[den], 4) if out[den] else None

    out["disposal_rate"] = ratio("disposed", "due")
    out["on_time_disposal_rate"] = ratio("disposed_on_time", "due")
    out["close_rate"] = ratio("closed", "dispatched")
    out["on_time_close_rate"] = ratio("closed_on_time", "closed")
    out["rework_rate"] = ratio("rework", "disposed")
    out["satisfaction_rate"] = ratio("satisfied", "rated")
    out["avg_disposal_wmin"] = round(row["wmin_sum"] / row["wmin_n"], 1) if row["wmin_n"] else None
    return out


def _judged_rows(
    con: duckdb.DuckDBPyConnection, start: datetime, cut: datetime, group: str, sets: str
) -> list[dict[str, Any]]:
    """应处置 and its parts for the cases judged in ``[start, cut)``, grouped by ``sets`` (GROUPING SETS).

    A case judged at or after ``start`` is due at or after it (its judging moment is the earlier of its due
    and disposal times), which prunes the scan."""
    lo, hi = (f"TIMESTAMPTZ '{t.astimezone(UTC).isoformat()}'" for t in (start, cut))
    flags = disposal.sql_flags("j", "disp", "due_at", "held", lo, hi)
    sums = ", ".join(f"count(*) FILTER (WHERE {flags[k]}) AS {k}" for k in JUDGED_KEYS)
    sql = (
        f"SELECT {group}, {sums} FROM (SELECT *, {_DISP} AS disp, {_JUDGED} AS j FROM facts "
        f"WHERE due_at >= {lo} AND received_at < {hi} AND dispatched_at IS NOT NULL) "
        f"WHERE {flags['due']} GROUP BY GROUPING SETS ({sets})"
    )
    return _dicts(con.execute(sql))


def _judged_by_dim(
    con: duckdb.DuckDBPyConnection, start: datetime, cut: datetime
) -> dict[tuple[str, Any], Any]:
    """(dimension, key) → judged counts; the district total under ('total', None)."""
    dims = ", ".join(DIMENSIONS)
    sets = ", ".join(f"({d})" for d in DIMENSIONS) + ", ()"
    out: dict[tuple[str, Any], Any] = {}
    for r in _judged_rows(con, start, cut, f"{dims}, GROUPING({dims}) AS gid", sets):
        missing = [d for i, d in enumerate(DIMENSIONS) if not (r["gid"] >> (len(DIMENSIONS) - 1 - i)) & 1]
        key = ("total", None) if not missing else (missing[0], r[missing[0]])
        out[key] = r
    return out


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _today(now: datetime, off: int) -> date:
    return (now.astimezone(UTC) + timedelta(seconds=off)).date()


def _local_midnight(day: date, off: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(seconds=off)


_EPOCH = date(1970, 1, 1)


def _sources(con: duckdb.DuckDBPyConnection, off: int) -> tuple[str, str]:
    """Union SQL over the ``daily`` and ``open`` rollups of every month (see ``analytics.rollup``)."""
    months = rollup.all_months(con)
    daily, opened = rollup.month_sources(con, months, MEASURES, off)
    empty_daily = f"SELECT * FROM ({rollup.empty_daily_sql(MEASURES, off)})"
    return " UNION ALL ".join(daily) or empty_daily, " UNION ALL ".join(opened) or rollup.empty_open_sql()


def dashboard(
    con: duckdb.DuckDBPyConnection, *, period: str = "month", now: datetime, top: int = 20
) -> dict[str, Any]:
    """The leader dashboard: totals, breakdowns, open/overdue now, trends and department ranking inputs.

    A period is the last N local days including today (``month``: today and the 29 days before).
    """
    if period not in PERIODS:
        raise ValueError(f"未知的统计周期：{period}，可选 {'、'.join(PERIODS)}")
    off = _offset_s(now)
    today = _today(now, off)
    first = today - timedelta(days=PERIODS[period] - 1)
    daily_sql, open_sql = _sources(con, off)
    sums = ", ".join(f"sum({m}) AS {m}" for m in rollup.MEASURE_NAMES)
    rows = _dicts(
        con.execute(
            f"SELECT dim, key, {sums} FROM ({daily_sql}) WHERE d >= ? AND d <= ? GROUP BY dim, key",
            [(first - _EPOCH).days, (today - _EPOCH).days],
        )
    )
    start = _local_midnight(first, off)
    judged = _judged_by_dim(con, start, now)
    zero = {k: 0 for k in rollup.MEASURE_NAMES}
    totals: dict[str, Any] = {}
    breakdown: dict[str, list[dict[str, Any]]] = {d: [] for d in DIMENSIONS}
    for r in rows:
        if r["dim"] == "total":
            totals = _rates(r, judged.get(("total", None)))
        else:
            breakdown[r["dim"]].append({"code": r["key"], **_rates(r, judged.get((r["dim"], r["key"])))})
    for dim, key in judged:  # units with cases judged in the period but none received in it
        if dim not in ("total", "grid_code") and key not in {x["code"] for x in breakdown[dim]}:
            breakdown[dim].append({"code": key, **_rates(zero, judged[(dim, key)])})
    where, params = _window(start, now, off)
    grid_rows = _dicts(
        con.execute(
            f"SELECT grid_code, {MEASURES} FROM facts WHERE {where} GROUP BY grid_code "
            f"ORDER BY received DESC, grid_code LIMIT {int(top)}",
            params,
        )
    )
    breakdown["grid_code"] = [
        {"code": r["grid_code"], **_rates(r, judged.get(("grid_code", r["grid_code"])))} for r in grid_rows
    ]
    for dim, items in breakdown.items():
        items.sort(key=lambda x: (-x["received"], str(x["code"])))
        if dim == "community_code":
            del items[top:]
    open_now = _open_from(con, open_sql, now)
    return {
        "period": period,
        "period_label": PERIOD_LABELS[period],
        "from": start.isoformat(),
        "to": now.isoformat(),
        "totals": totals or _rates(zero, judged.get(("total", None))),
        "by_category": breakdown["category_code"],
        "by_source": breakdown["source"],
        "by_street": breakdown["street_code"],
        "by_community": breakdown["community_code"],
        "by_grid": breakdown["grid_code"],
        "departments": _departments(breakdown["department_code"], open_now["by_department"]),
        "open_now": open_now,
        "trend": _trends_from(con, daily_sql, today, now, off),
    }


def _departments(rows: list[dict[str, Any]], open_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Department ranking inputs: the period's disposal figures joined with what is open and overdue now."""
    now_by = {r["code"]: r for r in open_rows}
    out = []
    for r in rows:
        if r["code"] is None:
            continue
        cur = now_by.get(r["code"], {"open": 0, "overdue": 0})
        out.append(r | {"open_now": cur["open"], "overdue_now": cur["overdue"]})
    out.sort(key=lambda x: (-(x["on_time_disposal_rate"] or 0), x["code"]))
    return out


def open_cases(con: duckdb.DuckDBPyConnection, *, now: datetime) -> dict[str, Any]:
    """Cases open now (all time), overdue ones (in disposal, due passed, not held) and held ones."""
    return _open_from(con, _sources(con, _offset_s(now))[1], now)


def _open_from(con: duckdb.DuckDBPyConnection, open_sql: str, now: datetime) -> dict[str, Any]:
    rows = _dicts(
        con.execute(
            f"""SELECT department_code, street_code, GROUPING(department_code, street_code) AS gid,
                count(*) AS open,
                count(*) FILTER (WHERE {disposal.sql_overdue_now("state", "due_at", "held", "?")}) AS overdue,
                count(*) FILTER (WHERE held) AS held
            FROM ({open_sql})
            GROUP BY GROUPING SETS ((department_code), (street_code), ())""",
            [now],
        )
    )
    total = next((r for r in rows if r["gid"] == 3), {"open": 0, "overdue": 0, "held": 0})
    by_dept = [
        {"code": r["department_code"], "open": r["open"], "overdue": r["overdue"], "held": r["held"]}
        for r in rows
        if r["gid"] == 1 and r["department_code"] is not None
    ]
    by_street = [
        {"code": r["street_code"], "open": r["open"], "overdue": r["overdue"], "held": r["held"]}
        for r in rows
        if r["gid"] == 2
    ]
    by_dept.sort(key=lambda x: (-x["overdue"], x["code"]))
    by_street.sort(key=lambda x: (-x["overdue"], x["code"]))
    return {
        "open": total["open"],
        "overdue": total["overdue"],
        "held": total["held"],
        "by_department": by_dept,
        "by_street": by_street,
    }


def trends(con: duckdb.DuckDBPyConnection, *, now: datetime) -> dict[str, Any]:
    """Daily (30), weekly (12, from Monday) and monthly (12) series by local received date."""
    off = _offset_s(now)
    return _trends_from(con, _sources(con, off)[0], _today(now, off), now, off)


def _trends_from(
    con: duckdb.DuckDBPyConnection,
    daily_sql: str,
    today: date,
    now: datetime,
    off: int,
    days: int = 30,
    weeks: int = 12,
    months: int = 12,
) -> dict[str, Any]:
    month_keys: list[date] = []
    y, m = today.year, today.month
    for _ in range(months):
        month_keys.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    month_keys.reverse()
    day_keys = [today - timedelta(days=i) for i in range(days - 1, -1, -1)]
    monday = today - timedelta(days=today.weekday())
    week_keys = [monday - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    first = min(month_keys[0], day_keys[0], week_keys[0])
    rows = con.execute(
        f"""SELECT d, sum(received), sum(closed), sum(closed_on_time)
        FROM ({daily_sql}) WHERE dim = 'total' AND d >= ? AND d <= ? GROUP BY d""",
        [(first - _EPOCH).days, (today - _EPOCH).days],
    ).fetchall()
    per_day = {_EPOCH + timedelta(days=int(r[0])): (*r[1:], 0, 0) for r in rows}
    # 按期处置率 by the day the cases were judged (cases.disposal), never by received day
    jday = f"CAST((epoch(j)::BIGINT + {int(off)}) // 86400 AS INTEGER)"
    for r in _judged_rows(con, _local_midnight(first, off), now, f"{jday} AS jd", f"({jday})"):
        day = _EPOCH + timedelta(days=int(r["jd"]))
        rec, clo, clo_ok, *_ = per_day.get(day, (0, 0, 0, 0, 0))
        per_day[day] = (rec, clo, clo_ok, r["due"], r["disposed_on_time"])

    def bucket(keys: list[date], key_of: Any) -> list[dict[str, Any]]:
        acc: dict[date, list[int]] = {k: [0, 0, 0, 0, 0] for k in keys}
        for d, vals in per_day.items():
            k = key_of(d)
            if k in acc:
                acc[k] = [a + int(b) for a, b in zip(acc[k], vals, strict=True)]
        out = []
        for k in keys:
            rec, clo, clo_ok, due, dis_ok = acc[k]
            out.append(
                {
                    "start": k.isoformat(),
                    "received": rec,
                    "closed": clo,
                    "closed_on_time": clo_ok,
                    "due": due,
                    "disposed_on_time": dis_ok,
                    "sla_compliance": round(dis_ok / due, 4) if due else None,
                }
            )
        return out

    return {
        "daily": bucket(day_keys, lambda d: d),
        "weekly": bucket(week_keys, lambda d: d - timedelta(days=d.weekday())),
        "monthly": bucket(month_keys, lambda d: d.replace(day=1)),
    }


def hotspots(
    con: duckdb.DuckDBPyConnection, *, level: str = "h3", now: datetime, days: int = 30, top: int = 200
) -> list[dict[str, Any]]:
    """Case counts per H3 cell (needs the ``grids`` table, see ``duck.register_grids``) or per unit grid."""
    off = _offset_s(now)
    where, params = _window(now - timedelta(days=days), now, off)
    inner = f"SELECT grid_code, count(*) AS n FROM facts WHERE {where} GROUP BY grid_code"
    if level == "grid":
        sql = f"SELECT grid_code AS cell, n FROM ({inner}) ORDER BY n DESC, cell LIMIT {int(top)}"
    elif level == "h3":
        sql = (
            f"SELECT g.h3 AS cell, sum(c.n)::BIGINT AS n FROM ({inner}) c JOIN grids g USING (grid_code) "
            f"GROUP BY g.h3 ORDER BY n DESC, cell LIMIT {int(top)}"
        )
    else:
        raise ValueError(f"未知的热点层级：{level}，可选 h3、grid")
    return [{"cell": r[0], "count": int(r[1])} for r in con.execute(sql, params).fetchall()]


def hotspots_geojson(
    items: list[dict[str, Any]], *, level: str, geometry: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Hotspots as a GeoJSON FeatureCollection: H3 hexagons, or unit-grid polygons from ``geometry``."""
    features = []
    for item in items:
        if level == "h3":
            ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(item["cell"])]
            geom: dict[str, Any] | None = {"type": "Polygon", "coordinates": [ring + ring[:1]]}
        else:
            geom = (geometry or {}).get(item["cell"])
        features.append(
            {
                "type": "Feature",
                "geometry": geom,
                "properties": {"cell": item["cell"], "count": item["count"]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def recurring(
    con: duckdb.DuckDBPyConnection, *, now: datetime, days: int = 30, min_count: int = 5, top: int = 100
) -> list[dict[str, Any]]:
    """The same problem at the same place again and again: (grid, category) with ``min_count``+ cases."""
    where, params = _window(now - timedelta(days=days), now, _offset_s(now))
    rows = con.execute(
        f"""SELECT grid_code, category_code, count(*) AS n, min(received_at), max(received_at) FROM facts
        WHERE {where} GROUP BY grid_code, category_code HAVING count(*) >= ?
        ORDER BY n DESC, grid_code, category_code
        LIMIT {int(top)}""",
        [*params, min_count],
    ).fetchall()
    return [
        {
            "grid_code": r[0],
            "category_code": r[1],
            "count": int(r[2]),
            "first": r[3].isoformat(),
            "last": r[4].isoformat(),
        }
        for r in rows
    ]


def spikes(
    con: duckdb.DuckDBPyConnection,
    *,
    now: datetime,
    min_count: int = 8,
    ratio: float = 3.0,
    z: float = 3.0,
    names: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Street × category spikes in the last 7 days against the 8 weeks before (see ``analytics.spikes``)."""
    start = now - timedelta(weeks=BASELINE_WEEKS + 1)
    where, params = _window(start, now, _offset_s(now))
    rows = con.execute(
        f"""SELECT street_code, category_code,
            CAST((epoch(?::TIMESTAMPTZ) - epoch(received_at)) // 604800 AS INTEGER) AS w,
            count(*) FROM facts WHERE {where} GROUP BY ALL""",
        [now, *params],
    ).fetchall()
    found = detect_spikes(
        ((r[0], r[1], r[2], r[3]) for r in rows), min_count=min_count, ratio=ratio, z=z, names=names
    )
    return [asdict(s) for s in found]


def unit_month(con: duckdb.DuckDBPyConnection, month: str) -> list[dict[str, Any]]:
    """An evaluation-like pass: one month's counts per department, street, community, grid and staff."""
    units = (
        "department_code",
        "street_code",
        "community_code",
        "grid_code",
        "dispatch_by",
        "check_by",
        "register_by",
    )
    sets = ", ".join(f"({u})" for u in units)
    rows = con.execute(
        f"SELECT {', '.join(units)}, GROUPING({', '.join(units)}) AS gid, {MEASURES} "
        f"FROM facts WHERE month = ? GROUP BY GROUPING SETS ({sets})",
        [month],
    )
    full = (1 << len(units)) - 1
    out = []
    for r in _dicts(rows):
        unit = units[len(units) - (full ^ r["gid"]).bit_length()]
        out.append({"unit": unit, "code": r[unit], **_rates(r)})
    return out
