"""Uploads under attack (issue 11): image bombs (defect 6), files left by refused uploads and orphans never
swept (defect 11), and attachment ids claimed by someone else (defect 12)."""

from __future__ import annotations

import io
import os
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from builders import advance, auth, grid_point, make_case
from civicgrid.errors import PayloadTooLarge
from civicgrid.models import Attachment, Case, CaseEvent, utcnow
from civicgrid.settings import get_settings
from civicgrid.storage import files, images

OUTSIDE = {"lng": "120.70", "lat": "31.31"}  # inside the WGS84 range, outside the district


def _jpeg(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="JPEG")
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _bilevel_png(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG, built row by row so the test never holds the canvas: ~10 kB on disk."""
    row = b"\0" + b"\0" * ((width + 7) // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _files() -> set[Path]:
    root = get_settings().upload_dir
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _counts(session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Case, CaseEvent, Attachment))  # type: ignore[return-value]


def _report_form(point, **extra: str) -> dict[str, str]:
    return {
        "description": "井盖破损",
        "lng": str(point.lng),
        "lat": str(point.lat),
        "category_code": "C0101",
    } | extra


def _report_json(point, **extra: object) -> dict[str, object]:
    return {"description": "井盖破损", "lng": point.lng, "lat": point.lat, "category_code": "C0101"} | extra


# --- Defect 6: image bombs ----------------------------------------------------------------------------------


def test_a_small_png_of_79_million_pixels_is_refused_from_its_header(client, session) -> None:
    bomb = _bilevel_png(
        8888, 8888
    )  # 79 M pixels: under Pillow's own error threshold (80 M), over ours (40 M)
    assert len(bomb) < 400_000
    before, on_disk = _counts(session), _files()
    r = client.post("/api/v1/attachments", files={"file": ("bomb.png", bomb, "image/png")})
    assert r.status_code == 413, r.text
    assert r.json()["detail"].startswith("照片像素过多：最多 4000 万像素")
    assert _counts(session) == before and _files() == on_disk


def test_a_bomb_in_a_multipart_report_writes_nothing(client, session) -> None:
    before, on_disk = _counts(session), _files()
    r = client.post(
        "/api/v1/reports",
        data=_report_form(grid_point(session, 3)),
        files=[
            ("photos", ("a.jpg", _jpeg(), "image/jpeg")),
            ("photos", ("b.png", _bilevel_png(8888, 8888), "image/png")),
        ],
    )
    assert r.status_code == 413, r.text
    assert _counts(session) == before and _files() == on_disk


def test_header_pixels_are_checked_before_decoding(monkeypatch) -> None:
    loads = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: loads.append(self.size) or real_load(self))
    with pytest.raises(PayloadTooLarge):
        images.decode(_bilevel_png(7000, 7000))  # 49 M pixels: Pillow would only warn
    assert loads == []


def test_pillows_bomb_warning_is_an_error(monkeypatch) -> None:
    # Make Pillow's own limit the tighter one: 1 600 pixels warns (over 1 000, under 2 000).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)
    data = _jpeg((40, 40))
    with pytest.raises(PayloadTooLarge) as exc:
        images.decode(data)
    assert exc.value.status == 413


def test_image_work_has_its_own_small_limit(client, session, monkeypatch) -> None:
    turns = threading.BoundedSemaphore(1)
    monkeypatch.setattr(images, "_turns", turns)
    monkeypatch.setattr(images, "TURN_TIMEOUT_S", 0.05)
    before = _counts(session)
    assert turns.acquire(timeout=1)  # every image worker is busy
    try:
        r = client.post("/api/v1/attachments", files={"file": ("a.jpg", _jpeg(), "image/jpeg")})
    finally:
        turns.release()
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert r.json()["detail"] == "服务器正在处理较多照片，请稍后重试"
    assert _counts(session) == before
    assert (
        client.post("/api/v1/attachments", files={"file": ("a.jpg", _jpeg(), "image/jpeg")}).status_code
        == 201
    )


# --- Defect 11: nothing written for a refused upload; orphans swept; anonymous uploads limited --------------


def test_a_report_refused_for_its_coordinates_leaves_no_file_and_no_row(client, session) -> None:
    before, on_disk = _counts(session), _files()
    r = client.post(
        "/api/v1/reports",
        data=_report_form(grid_point(session, 3), **OUTSIDE),
        files=[("photos", ("a.jpg", _jpeg(), "image/jpeg")), ("photos", ("b.jpg", _jpeg(), "image/jpeg"))],
    )
    assert r.status_code == 422 and r.json()["title"] == "位置不在本区范围内"
    assert _counts(session) == before
    assert _files() == on_disk  # no original, public copy or thumbnail, not even in the staging area


def test_ten_photos_are_refused_before_any_is_decoded(client, session, monkeypatch) -> None:
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(1) or real_open(*a, **k))
    before, on_disk = _counts(session), _files()
    photos = [("photos", (f"{i}.jpg", _jpeg(), "image/jpeg")) for i in range(10)]
    r = client.post("/api/v1/reports", data=_report_form(grid_point(session, 3)), files=photos)
    assert r.status_code == 422 and r.json()["detail"] == "最多上传 9 张照片，收到 10 张"
    # A bad body with a photo is refused before the photo is decoded, too.
    r = client.post("/api/v1/reports", data={"lng": "120.6", "lat": "31.3"}, files=photos[:1])
    assert r.status_code == 422 and "description" in r.json()["detail"]
    assert opened == []
    assert _counts(session) == before and _files() == on_disk


def test_a_good_multipart_report_moves_its_files_into_place(client, session) -> None:
    r = client.post(
        "/api/v1/reports",
        data=_report_form(grid_point(session, 3)),
        files={"photos": ("a.jpg", _jpeg(), "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    att = session.scalar(select(Attachment).where(Attachment.case_id == r.json()["id"]))
    root = get_settings().upload_dir
    for suffix in files.RENDITIONS:
        assert (root / (att.storage_key + suffix)).is_file()
    assert not any((root / files.STAGING).glob("*")) if (root / files.STAGING).exists() else True


def _age(session, att_id: int, hours: float) -> None:
    session.execute(
        update(Attachment).where(Attachment.id == att_id).values(created_at=utcnow() - timedelta(hours=hours))
    )


def test_sweep_removes_old_unattached_uploads_and_keeps_the_rest(client, session) -> None:
    citizen = auth(session, "citizen")
    ids = [
        client.post(
            "/api/v1/attachments", files={"file": (f"{i}.jpg", _jpeg(), "image/jpeg")}, headers=citizen
        ).json()["id"]
        for i in range(3)
    ]
    old_orphan, old_attached, new_orphan = ids
    r = client.post(
        "/api/v1/reports",
        json=_report_json(grid_point(session, 3), attachment_ids=[old_attached]),
        headers=citizen,
    )
    assert r.status_code == 201, r.text
    _age(session, old_orphan, 25)
    _age(session, old_attached, 25)
    _age(session, new_orphan, 23)
    root = get_settings().upload_dir
    keys = {i: session.get(Attachment, i).storage_key for i in ids}
    stale = root / files.STAGING / "stale"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"left by a crash")
    os.utime(stale, (time.time() - 2 * 86400, time.time() - 2 * 86400))

    result = files.sweep_uploads(session)
    session.commit()  # the files go once the rows are gone for good
    assert (result.rows, result.staged_files) == (1, 1)
    session.expire_all()
    assert session.get(Attachment, old_orphan) is None
    assert (
        session.get(Attachment, old_attached) is not None and session.get(Attachment, new_orphan) is not None
    )
    for suffix in files.RENDITIONS:
        assert not (root / (keys[old_orphan] + suffix)).exists()
        assert (root / (keys[old_attached] + suffix)).is_file()
        assert (root / (keys[new_orphan] + suffix)).is_file()
    assert not stale.exists()


def test_anonymous_uploads_are_limited_per_client_per_hour(client, session, monkeypatch) -> None:
    monkeypatch.setattr(get_settings(), "anonymous_uploads_per_hour", 2)
    for _ in range(2):
        assert (
            client.post("/api/v1/attachments", files={"file": ("a.jpg", _jpeg(), "image/jpeg")}).status_code
            == 201
        )
    before, on_disk = _counts(session), _files()
    r = client.post("/api/v1/attachments", files={"file": ("a.jpg", _jpeg(), "image/jpeg")})
    assert r.status_code == 429
    assert r.json()["detail"] == "匿名上传照片过于频繁：每小时最多 2 张，请稍后再试"
    assert 3500 <= int(r.headers["Retry-After"]) <= 3601
    r = client.post(
        "/api/v1/reports",
        data=_report_form(grid_point(session, 3)),
        files={"photos": ("a.jpg", _jpeg(), "image/jpeg")},
    )
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert _counts(session) == before and _files() == on_disk
    # A signed-in citizen is not limited by the anonymous quota.
    headers = auth(session, "citizen")
    assert (
        client.post(
            "/api/v1/attachments", files={"file": ("a.jpg", _jpeg(), "image/jpeg")}, headers=headers
        ).status_code
        == 201
    )


def test_uploads_sweep_command(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        CIVICGRID_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        CIVICGRID_DATA_DIR=str(tmp_path),
        NO_COLOR="1",
    )
    cmd = Path(sys.executable).parent / "civicgrid"
    subprocess.run([str(cmd), "migrate"], env=env, check=True, capture_output=True, timeout=300)
    key = "2026/01/" + "ab" * 16
    for suffix in files.RENDITIONS:
        path = tmp_path / "uploads" / (key + suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    with sqlite3.connect(tmp_path / "cli.db") as db:
        db.execute(
            "INSERT INTO attachments"
            " (kind, original_name, content_type, size, sha256, storage_key, created_at)"
            " VALUES ('photo', 'a.jpg', 'image/jpeg', 1, '', ?, '2026-01-01 00:00:00')",
            (key,),
        )
    p = subprocess.run([str(cmd), "uploads", "sweep"], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "已删除 1 张未使用的过期照片" in p.stdout
    with sqlite3.connect(tmp_path / "cli.db") as db:
        assert db.execute("SELECT count(*) FROM attachments").fetchone() == (0,)
    assert not any((tmp_path / "uploads" / "2026").rglob("*.jpg"))


# --- Defect 12: only the uploader may attach or view a pending upload ---------------------------------------


def test_another_user_can_neither_attach_nor_view_my_pending_upload(client, session) -> None:
    mine = auth(session, "citizen")
    theirs = auth(session, "inspector001")
    att = client.post(
        "/api/v1/attachments", files={"file": ("a.jpg", _jpeg(), "image/jpeg")}, headers=mine
    ).json()
    assert att["upload_token"] is None  # a signed-in upload belongs to the user
    assert client.get(att["url"], headers=theirs).status_code == 404
    assert client.get(att["thumb_url"]).status_code == 404
    assert client.get(att["url"], headers=mine).status_code == 200

    before = _counts(session)
    body = _report_json(grid_point(session, 3), attachment_ids=[att["id"]])
    r = client.post("/api/v1/reports", json={**body, "source": "inspector"}, headers=theirs)
    assert r.status_code == 403 and r.json()["detail"] == f"附件 {att['id']} 不是您上传的照片，不能使用"
    assert _counts(session) == before and session.get(Attachment, att["id"]).case_id is None

    r = client.post("/api/v1/reports", json=body, headers=mine)
    assert r.status_code == 201, r.text
    assert session.get(Attachment, att["id"]).case_id == r.json()["id"]


def test_a_handler_cannot_attach_someone_elses_upload_to_a_feedback(client, session) -> None:
    case = make_case(
        session, point=grid_point(session, 7), source="hotline", reporter="operator", category="E0306"
    )
    advance(
        session, case, [("register", "shiftlead", {}), ("dispatch", "dispatcher", {"department_code": "SZ"})]
    )
    advance(session, case, [("sign", "handler_sz", {})])
    session.flush()
    foreign = client.post(
        "/api/v1/attachments",
        files={"file": ("a.jpg", _jpeg(), "image/jpeg")},
        headers=auth(session, "operator"),
    ).json()["id"]
    own = client.post(
        "/api/v1/attachments",
        files={"file": ("b.jpg", _jpeg(), "image/jpeg")},
        headers=auth(session, "handler_sz"),
    ).json()["id"]
    handler = auth(session, "handler_sz")
    url = f"/api/v1/cases/{case.id}/actions/feedback"
    r = client.post(url, json={"note": "已修补", "attachment_ids": [own, foreign]}, headers=handler)
    assert r.status_code == 403 and r.json()["detail"] == f"附件 {foreign} 不是您上传的照片，不能使用"
    session.expire_all()
    assert session.get(Attachment, own).case_id is None and session.get(Case, case.id).state == "processing"
    r = client.post(url, json={"note": "已修补", "attachment_ids": [own]}, headers=handler)
    assert r.status_code == 200, r.text
    assert session.get(Attachment, own).case_id == case.id


def test_an_anonymous_upload_works_only_with_its_token(client, session) -> None:
    first = client.post("/api/v1/attachments", files={"file": ("a.jpg", _jpeg(), "image/jpeg")}).json()
    other = client.post("/api/v1/attachments", files={"file": ("b.jpg", _jpeg(), "image/jpeg")}).json()
    token = first["upload_token"]
    assert token and len(token) >= 32 and token != other["upload_token"]
    row = session.get(Attachment, first["id"])
    assert row.upload_token_hash and token not in row.upload_token_hash  # only a hash is stored

    assert client.get(first["url"]).status_code == 404
    assert client.get(first["url"], params={"upload_token": other["upload_token"]}).status_code == 404
    shown = client.get(first["thumb_url"], params={"upload_token": token})
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"

    body = _report_json(grid_point(session, 3), attachment_ids=[first["id"]])
    before = _counts(session)
    for tokens in ([], [other["upload_token"]], ["x" * 32]):
        r = client.post("/api/v1/reports", json={**body, "upload_tokens": tokens})
        assert r.status_code == 403 and r.json()["detail"] == f"附件 {first['id']} 不是您上传的照片，不能使用"
    # A signed-in user without the token may not take it either.
    r = client.post("/api/v1/reports", json=body, headers=auth(session, "citizen"))
    assert r.status_code == 403
    assert _counts(session) == before

    r = client.post("/api/v1/reports", json={**body, "upload_tokens": [token]})
    assert r.status_code == 201, r.text
    assert session.get(Attachment, first["id"]).case_id == r.json()["id"]


def test_the_web_report_form_counts_anonymous_photos_against_the_hourly_quota(
    client, session, monkeypatch
) -> None:
    """The citizen's web form is limited like the API: over the quota, 429 before any photo is decoded."""
    import re

    monkeypatch.setattr(get_settings(), "anonymous_uploads_per_hour", 1)
    decoded: list[int] = []
    real = files.prepare_image
    monkeypatch.setattr(files, "prepare_image", lambda *a, **k: decoded.append(1) or real(*a, **k))
    page = client.get("/report")
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)
    p = grid_point(session, 7)
    r = client.post(
        "/report",
        data={"csrf_token": token, "description": "路灯不亮", "lng": str(p.lng), "lat": str(p.lat)},
        files=[("photos", (f"p{i}.jpg", _jpeg(), "image/jpeg")) for i in range(2)],
    )
    assert r.status_code == 429 and "每小时最多 1 张" in r.text and int(r.headers["Retry-After"]) > 0
    assert decoded == []
