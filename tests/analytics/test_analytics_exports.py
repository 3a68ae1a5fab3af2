"""Case exports through the API (CSV content, scoping, the Excel cap) and the analytics routes' roles."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from builders import advance, auth, grid_point, make_case  # type: ignore[import-not-found]
from civicgrid.analytics.settings import get_analytics_settings

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 local


def two_cases(session: Session) -> tuple[str, str]:
    hw = make_case(session, category="E0102", point=grid_point(session, 0), now=T0)
    sz = make_case(
        session, category="E0306", point=grid_point(session, 1), description="人行道地砖破损", now=T0
    )
    for case, dept in ((hw, "HW"), (sz, "SZ")):
        advance(
            session,
            case,
            [("register", "shiftlead", {}), ("dispatch", "dispatcher", {"department_code": dept})],
            now=T0.replace(minute=10),
        )
    return hw.number, sz.number


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_export_content_and_scope(client: Any, session: Session) -> None:
    hw, sz = two_cases(session)
    r = client.get("/api/v1/exports/cases?format=csv", headers=auth(session, "handler_hw"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = read_csv(r.content)
    assert rows[0][:6] == ["案卷号", "类别代码", "类别", "状态", "来源", "紧急"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["案卷号"], row["类别"], row["状态"], row["处置部门代码"], row["处置部门"]) == (
        hw,
        "暴露垃圾",
        "已派遣",
        "HW",
        "环境卫生管理处",
    )
    assert (row["上报时间"], row["派遣时间"], row["处置期限"], row["结案时间"]) == (
        "2026-03-02 09:00:00",
        "2026-03-02 09:10:00",
        "2026-03-02 15:10:00",
        "",
    )
    leader = read_csv(client.get("/api/v1/exports/cases", headers=auth(session, "leader")).content)
    assert sorted(r[0] for r in leader[1:]) == sorted([hw, sz])
    only_sz = read_csv(
        client.get("/api/v1/exports/cases?department=SZ", headers=auth(session, "leader")).content
    )
    assert [r[0] for r in only_sz[1:]] == [sz]
    assert client.get("/api/v1/exports/cases").status_code == 401


def test_xlsx_cap_and_parquet(client: Any, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    two_cases(session)
    monkeypatch.setattr(get_analytics_settings(), "xlsx_max_rows", 1)
    r = client.get("/api/v1/exports/cases?format=xlsx", headers=auth(session, "leader"))
    assert r.status_code == 422
    assert "超过 Excel 导出上限 1 件" in r.json()["detail"]
    monkeypatch.setattr(get_analytics_settings(), "xlsx_max_rows", 10)
    r = client.get("/api/v1/exports/cases?format=xlsx", headers=auth(session, "leader"))
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = client.get("/api/v1/exports/cases?format=parquet", headers=auth(session, "handler_sz"))
    assert pq.read_table(io.BytesIO(r.content))["category_code"].to_pylist() == ["E0306"]
    assert client.get("/api/v1/exports/cases?format=pdf", headers=auth(session, "leader")).status_code == 422


def test_analytics_routes_are_for_leaders(
    client: Any, session: Session, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_analytics_settings(), "warehouse_dir", tmp_path)
    two_cases(session)
    assert client.get("/api/v1/analytics/dashboard", headers=auth(session, "handler_hw")).status_code == 403
    r = client.get("/api/v1/analytics/dashboard?period=year", headers=auth(session, "leader"))
    assert r.status_code == 200
    # Nothing refreshed yet: the live rows are overlaid.
    assert r.json()["open_now"]["open"] == 2
    assert (
        client.get("/api/v1/analytics/dashboard?period=decade", headers=auth(session, "admin")).status_code
        == 422
    )
    geo = client.get("/api/v1/analytics/hotspots?level=grid&days=366", headers=auth(session, "leader")).json()
    assert geo["type"] == "FeatureCollection"
    assert client.get("/api/v1/analytics/spikes", headers=auth(session, "leader")).status_code == 200
