"""The supervision API: import (text and .docx), the tree with its colours, actions, RFC 9457 refusals."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import docx
from sqlalchemy.orm import Session
from tests.builders import auth

from civicgrid.models import utcnow

from .helpers import TEXT, supervisor


def test_import_assign_report_close_over_the_api(client: Any, session: Session) -> None:
    supervisor(session, "ducha_api")
    dc, sw = auth(session, "ducha_api"), auth(session, "handler_sw")
    dry = client.post(
        "/api/v1/supervision/directives?dry_run=true", json={"title": "民生实事", "text": TEXT}, headers=dc
    )
    assert dry.status_code == 201 and dry.json()["count"] == 4
    r = client.post("/api/v1/supervision/directives", json={"title": "民生实事", "text": TEXT}, headers=dc)
    assert r.status_code == 201, r.text
    tree = r.json()
    assert [t["number"] for t in tree["tasks"]] == ["一、", "二、"]
    assert [c["title"] for c in tree["tasks"][0]["children"]] == ["完成管网改造", "新建加压泵站"]
    assert tree["summary"][""] == 4
    task_id = tree["tasks"][1]["id"]

    deadline = (date.today() + timedelta(days=60)).isoformat()
    r = client.post(
        f"/api/v1/supervision/tasks/{task_id}/assign",
        json={"lead_unit": "SW", "deadline": deadline, "cadence": "monthly"},
        headers=dc,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["colour"], r.json()["lead_unit"]) == ("assigned", "green", "水务局")
    mine = client.get("/api/v1/supervision/tasks/mine", headers=sw).json()
    assert [(m["id"], m["role"]) for m in mine] == [(task_id, "牵头")]
    assert client.post(f"/api/v1/supervision/tasks/{task_id}/sign", headers=sw).json()["state"] == "doing"
    r = client.post(
        f"/api/v1/supervision/tasks/{task_id}/report", json={"percent": 150, "text": "x"}, headers=sw
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = client.post(
        f"/api/v1/supervision/tasks/{task_id}/report", json={"percent": 60, "text": "过半"}, headers=sw
    )
    assert r.json()["percent"] == 60
    client.post(f"/api/v1/supervision/tasks/{task_id}/apply", json={"note": "完成"}, headers=sw)
    r = client.post(f"/api/v1/supervision/tasks/{task_id}/accept", headers=sw)  # not the unit's to accept
    assert r.status_code == 403
    r = client.post(f"/api/v1/supervision/tasks/{task_id}/accept", headers=dc)
    assert (r.json()["state"], r.json()["colour"]) == ("done", "done")
    r = client.post(f"/api/v1/supervision/tasks/{task_id}/accept", headers=dc)
    assert r.status_code == 409 and r.json()["type"] == "urn:civicgrid:problem:illegal_transition"
    assert client.post(f"/api/v1/supervision/tasks/{task_id}/roll_up", headers=dc).status_code == 422
    assert client.get("/api/v1/supervision/tasks/999999", headers=dc).status_code == 404
    # another unit reads neither the task nor the trees
    zj = auth(session, "handler_zj")
    assert client.get(f"/api/v1/supervision/tasks/{task_id}", headers=zj).status_code == 403
    assert client.get(f"/api/v1/supervision/directives/{tree['id']}", headers=zj).status_code == 403


def test_upload_docx_and_refusals(client: Any, session: Session) -> None:
    supervisor(session, "ducha_up")
    dc = auth(session, "ducha_up")
    document = docx.Document()
    for line in ("会议纪要", "一、加快征地拆迁。", "二、落实建设资金"):
        document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    r = client.post(
        "/api/v1/supervision/directive-files",
        files={"file": ("纪要.docx", buf.getvalue())},
        data={"title": "集中会办纪要", "source": "会议决定", "issued_on": "2026-03-01"},
        headers=dc,
    )
    assert r.status_code == 201, r.text
    assert [t["title"] for t in r.json()["tasks"]] == ["加快征地拆迁", "落实建设资金"]
    bad = client.post(
        "/api/v1/supervision/directive-files",
        files={"file": ("x.pdf", b"%PDF")},
        data={"title": "x"},
        headers=dc,
    )
    assert bad.status_code == 422
    none = client.post(
        "/api/v1/supervision/directives", json={"title": "x", "text": "没有分条的文字。"}, headers=dc
    )
    assert none.status_code == 422 and "没有识别出任务" in none.json()["detail"]
    src = client.post(
        "/api/v1/supervision/directives", json={"title": "x", "text": "一、甲", "source": "传说"}, headers=dc
    )
    assert src.status_code == 422
    assert (
        client.post(
            "/api/v1/supervision/directives",
            json={"title": "x", "text": "一、甲"},
            headers=auth(session, "leader"),
        ).status_code
        == 403
    )
    assert utcnow()
