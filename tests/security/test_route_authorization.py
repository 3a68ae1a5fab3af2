"""Every route of the app, tried by every role that has no business with a case: none of them reads it, acts
on it, or sees its reporter's personal data; no route answers 5xx. New routes are picked up automatically."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from builders import advance, auth, grid_point, make_case
from civicgrid.problems import _walk

OUTSIDERS = ("citizen", "inspector001", "handler_hw", "anonymous")
PHONE = "13912348765"


def _routes(app) -> list[tuple[str, str]]:
    out = []
    for prefix, route in _walk(app.routes):
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            out.append((method, prefix + route.path))
    return sorted(set(out))


@pytest.fixture
def foreign_case(client, session):
    """A case in street 002 (patrolled by inspector002), dispatched to 市政 (SZ), reported by someone else."""
    p = grid_point(session, 0, street_suffix="002")
    case = make_case(
        session,
        point=p,
        source="hotline",
        reporter="operator",
        category="E0306",
        reporter_phone=PHONE,
        reporter_name="赵六",
    )
    advance(
        session, case, [("register", "shiftlead", {}), ("dispatch", "dispatcher", {"department_code": "SZ"})]
    )
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(buf, format="JPEG")
    att = client.post(
        "/api/v1/attachments",
        files={"file": ("a.jpg", buf.getvalue(), "image/jpeg")},
        headers=auth(session, "handler_sz"),  # only the uploader may attach it (issue 11, defect 12)
    ).json()["id"]
    advance(
        session,
        case,
        [("sign", "handler_sz", {}), ("feedback", "handler_sz", {"note": "已修补", "attachment_ids": [att]})],
    )
    session.flush()
    return case, att


def _fill(path: str, case, att: int) -> str:
    values = {
        "case_id": str(case.id),
        "att_id": str(att),
        "number": case.number,
        "code": "E0306",
        "fmt": "json",
        "action": "sign",
        "token": "x",
        "rule_id": "1",
        "user_id": "1",
        "department_id": "1",
        "client_id": "1",
        "dept_code": "SZ",
        "key_id": "1",
    }
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


def test_no_route_lets_an_outsider_at_a_case(client, session, foreign_case) -> None:
    case, att = foreign_case
    routes = _routes(client.app)
    assert len(routes) > 60
    specific = re.compile(r"\{(case_id|att_id|number)")
    tried = 0
    for method, template in routes:
        if template.startswith(("/docs", "/redoc", "/openapi")):
            continue
        path = _fill(template, case, att)
        for who in OUTSIDERS:
            headers = {} if who == "anonymous" else auth(session, who)
            r = client.request(
                method, path, headers=headers, follow_redirects=False, data={} if method != "GET" else None
            )
            tried += 1
            assert r.status_code < 500, (method, template, who, r.status_code, r.text[:300])
            assert PHONE not in r.text and "赵六" not in r.text, (method, template, who)
            public_open311 = template.startswith("/open311") and method == "GET"
            if specific.search(template) and not public_open311:
                location = r.headers.get("location", "")
                refused = r.status_code >= 400 or (
                    300 <= r.status_code < 400
                    and (
                        location.startswith("/login")
                        or (f"/{case.id}" not in location and case.number not in location)
                    )
                )
                assert refused, (method, template, who, r.status_code, location)
            if (
                method == "GET"
                and r.status_code == 200
                and not public_open311
                and "json" in r.headers.get("content-type", "")
            ):
                assert case.number not in r.text, (template, who)
    assert tried > 200


def test_the_right_people_do_see_it(client, session, foreign_case) -> None:
    case, _ = foreign_case
    for who in ("handler_sz", "inspector002", "operator", "leader"):
        assert client.get(f"/api/v1/cases/{case.id}", headers=auth(session, who)).status_code == 200, who
