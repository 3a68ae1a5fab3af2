"""The evaluation API (live facts from the database) and the CLI (json, Parquet facts)."""

from __future__ import annotations

import json
from io import BytesIO

import pyarrow.parquet as pq
from openpyxl import load_workbook
from typer.testing import CliRunner

from builders import advance, auth, make_case
from civicgrid.cli import app as cli_app

from .conftest import CST, history_table, t

AS_OF = "2026-11-10T00:00:00+08:00"


def test_handler_is_refused(client, session):
    for url in (
        "/api/v1/evaluation?period=2026-10",
        "/api/v1/reports/monthly?period=2026-10",
        "/api/v1/evaluation/weights",
    ):
        r = client.get(url, headers=auth(session, "handler_hw"))
        assert r.status_code == 403, url
        assert r.json()["detail"] == "需要以下角色之一：领导、管理员"


def test_leader_evaluates_live_cases(client, session):
    case = make_case(session, reporter="inspector001", source="inspector", now=t(10, 12, 9))
    advance(
        session,
        case,
        [("register", "shiftlead", {}), ("dispatch", "dispatcher", {"department_code": "HW"})],
        now=t(10, 12, 9, 10).astimezone(CST),
    )
    session.flush()
    r = client.get(
        "/api/v1/evaluation",
        params={"period": "2026-10", "unit": "department", "as_of": AS_OF},
        headers=auth(session, "leader"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["period_label"], body["unit_label"]) == ("2026年10月", "专业部门")
    row = next(x for x in body["rows"] if x["key"] == "HW")
    assert row["name"] == "环境卫生管理处"
    assert (
        row["counts"]["registered"],
        row["counts"]["registered_on_time"],
        row["counts"]["dispatched"],
    ) == (1, 1, 1)
    assert row["stages"]["stage_register"] == 10.0
    assert body["labels"]["indicators"]["按期处置率" and "disposal_on_time_rate"] == "按期处置率"
    bad = client.get("/api/v1/evaluation", params={"period": "2026-13"}, headers=auth(session, "leader"))
    assert bad.status_code == 422 and "无法识别的期间" in bad.json()["detail"]
    r = client.get(
        "/api/v1/reports/monthly",
        params={"period": "2026-10", "format": "xlsx", "as_of": AS_OF},
        headers=auth(session, "leader"),
    )
    assert r.status_code == 200
    assert load_workbook(BytesIO(r.content)).sheetnames[:3] == ["汇总", "专业部门", "街道"]
    r = client.get(
        "/api/v1/reports/monthly",
        params={"period": "2026-10", "as_of": AS_OF},
        headers=auth(session, "admin"),
    )
    assert r.status_code == 200 and 'data-key="HW"' in r.text


def test_weights_get_and_put(client, session):
    from civicgrid.evaluation.weights import override_path

    r = client.get("/api/v1/evaluation/weights", headers=auth(session, "leader"))
    assert r.status_code == 200
    raw = r.json()
    assert (
        client.put("/api/v1/evaluation/weights", json=raw, headers=auth(session, "leader")).status_code == 403
    )
    raw["units"]["street"]["terms"][0]["weight"] = 50
    r = client.put("/api/v1/evaluation/weights", json=raw, headers=auth(session, "admin"))
    assert r.status_code == 422
    assert r.json()["detail"] == "权重配置有误：「街道」的权重之和应为 100，实际为 120"
    raw["units"]["street"]["terms"][1]["weight"] = 10
    try:
        r = client.put("/api/v1/evaluation/weights", json=raw, headers=auth(session, "admin"))
        assert r.status_code == 200
        got = client.get("/api/v1/evaluation/weights", headers=auth(session, "admin")).json()
        assert [x["weight"] for x in got["units"]["street"]["terms"]] == [50, 10, 20, 20]
    finally:
        override_path().unlink(missing_ok=True)


def test_cli_json_over_parquet(db, tmp_path):
    path = tmp_path / "facts.parquet"
    pq.write_table(history_table(), path)
    result = CliRunner().invoke(
        cli_app,
        [
            "evaluate",
            "--period",
            "2026-10",
            "--unit",
            "shift_lead",
            "--format",
            "json",
            "--facts",
            str(path),
            "--as-of",
            "2026-11-10T00:00",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [(r["key"], r["rank"], r["score"], r["grade"]) for r in body["rows"]] == [
        ("302", 1, 93.0, "A"),
        ("301", 2, 90.71, "A"),
    ]
    result = CliRunner().invoke(
        cli_app, ["evaluate", "--period", "2026-10", "--facts", str(path), "--as-of", "2026-11-10"]
    )
    assert result.exit_code == 0 and "72.57" in result.stdout and "环境卫生管理处" in result.stdout
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        cli_app,
        [
            "report",
            "monthly",
            "--period",
            "2026-10",
            "--out",
            str(out),
            "--facts",
            str(path),
            "--as-of",
            "2026-11-10",
        ],
    )
    assert result.exit_code == 0, result.output
    assert 'data-key="SZ"' in out.read_text(encoding="utf-8")
    bad = CliRunner().invoke(cli_app, ["evaluate", "--period", "2026-10", "--unit", "planet"])
    assert bad.exit_code == 2 and "未知的评价对象" in bad.output
