"""Bad input gets a clear 4xx and nothing is written."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from builders import grid_point
from civicgrid.models import Attachment, Case, CaseEvent


def _counts(session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Case, CaseEvent, Attachment))  # type: ignore[return-value]


@pytest.fixture
def point(session):
    return grid_point(session, 5)


def _bad(client, session, expect: int, **kw) -> dict:
    before = _counts(session)
    r = client.post("/api/v1/reports", **kw)
    assert r.status_code == expect, r.text
    assert _counts(session) == before
    body = r.json()
    assert body["status"] == expect and body["detail"]
    return body


def test_missing_fields(client, session, point) -> None:
    body = _bad(client, session, 422, json={"lng": point.lng, "lat": point.lat})
    assert "description" in body["detail"]


def test_coordinates_out_of_range(client, session, point) -> None:
    body = _bad(client, session, 422, json={"description": "井盖没了", "lng": 200, "lat": point.lat})
    assert "lng" in body["detail"]
    _bad(client, session, 422, json={"description": "井盖没了", "lng": point.lng, "lat": -91})


def test_point_outside_the_district_names_the_nearest_grid(client, session) -> None:
    body = _bad(
        client,
        session,
        422,
        json={"description": "井盖没了", "lng": 120.70, "lat": 31.31, "category_code": "C0101"},
    )
    assert body["title"] == "位置不在本区范围内" and body["nearest_grid"].startswith("320508")
    assert body["distance_m"] > 500 and "最近的网格" in body["detail"]


def test_unknown_category(client, session, point) -> None:
    body = _bad(
        client,
        session,
        422,
        json={"description": "井盖没了", "lng": point.lng, "lat": point.lat, "category_code": "C9999"},
    )
    assert "C9999" in body["detail"]


def test_huge_description(client, session, point) -> None:
    body = _bad(
        client,
        session,
        422,
        json={"description": "垃" * 4001, "lng": point.lng, "lat": point.lat},
    )
    assert "description" in body["detail"]
    # A body past the JSON limit (max_json_bytes, 1 MB) is refused before it is parsed.
    body = _bad(
        client,
        session,
        413,
        json={"description": "垃" * (10 * 1024 * 1024 // 3), "lng": point.lng, "lat": point.lat},
    )
    assert "内容超过" in body["detail"]


def test_invalid_utf8(client, session) -> None:
    body = _bad(
        client,
        session,
        422,
        content=b'{"description": "\xff\xfe bad", "lng": 120.6, "lat": 31.3}',
        headers={"content-type": "application/json"},
    )
    assert "UTF-8" in body["detail"] or "JSON" in body["detail"]


def test_non_image_upload_is_refused(client, session, point) -> None:
    files = {"photos": ("photo.jpg", b"%PDF-1.4 not an image", "image/jpeg")}
    data = {"description": "井盖没了", "lng": str(point.lng), "lat": str(point.lat), "category_code": "C0101"}
    body = _bad(client, session, 415, data=data, files=files)
    assert "图片" in body["detail"]


def test_multipart_report_with_a_real_photo(client, session, point) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 80, 40)).save(buf, format="JPEG")
    r = client.post(
        "/api/v1/reports",
        data={
            "description": "井盖破损",
            "lng": str(point.lng),
            "lat": str(point.lat),
            "category_code": "C0101",
        },
        files={"photos": ("a.jpg", buf.getvalue(), "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    t = client.get(f"/api/v1/track/{r.json()['number']}", params={"code": r.json()["query_code"]}).json()
    assert len(t["photos"]) == 1 and t["photos"][0]["width"] == 640
    thumb = client.get(t["photos"][0]["thumb_url"], params={"code": r.json()["query_code"]})
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert client.get(t["photos"][0]["url"]).status_code == 404  # no code, no photo
