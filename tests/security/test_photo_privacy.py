"""The report form promises that a photo's location is removed (issue 13): no file on disk keeps the upload's
GPS EXIF, the originals earlier versions kept (``*.orig``) are deleted by the uploads sweep, and a note's
visibility (公开/内部) is covered by the case-event hash chain."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from builders import advance, auth, grid_point, make_case
from civicgrid.cases.events import event_payload
from civicgrid.models import CaseEvent
from civicgrid.settings import get_settings
from civicgrid.storage import files

GPS_IFD = 0x8825


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (80, 60), (90, 140, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # orientation: rotate 90° to show upright
    exif[GPS_IFD] = {1: "N", 2: (31.0, 18.0, 36.0), 3: "E", 4: (120.0, 37.0, 12.0)}
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the test photo does carry a position
    return data


def _on_disk() -> list[Path]:
    root = get_settings().upload_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_no_file_on_disk_keeps_the_gps_of_an_upload(client: Any, session: Session) -> None:
    before = set(_on_disk())
    r = client.post(
        "/api/v1/attachments",
        files={"file": ("phone.jpg", _jpeg_with_gps(), "image/jpeg")},
        headers=auth(session, "inspector001"),
    )
    assert r.status_code == 201, r.text
    new = set(_on_disk()) - before
    assert sorted(p.name.split(".", 1)[1] for p in new) == ["jpg", "thumb.jpg"]  # no .orig
    for path in new:
        data = path.read_bytes()
        assert b"Exif\x00\x00" not in data and b"PhoneMaker" not in data
        with Image.open(path) as img:
            assert not img.getexif().get_ifd(GPS_IFD) and not img.getexif()
    photo = max(new, key=lambda p: p.stat().st_size)
    with Image.open(photo) as img:
        assert img.size == (60, 80)  # turned upright before the orientation tag was dropped


def test_the_uploads_sweep_deletes_the_originals_kept_before(tmp_path: Path, session: Session) -> None:
    storage = files.LocalStorage(tmp_path)
    storage.put("2026/10/abc.orig", _jpeg_with_gps())
    storage.put("2026/10/abc.jpg", b"x")
    storage.put("2026/11/def.orig", b"y")
    result = files.sweep_uploads(session, storage=storage)
    assert result.originals == 2
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "2026/10/abc.jpg",
        files.ORIGINALS_PURGED,
    ]
    storage.put("2026/12/late.orig", b"z")  # the marker says the walk was done: not walked again
    assert files.sweep_uploads(session, storage=storage).originals == 0


def test_a_notes_visibility_is_part_of_its_events_link(session: Session) -> None:
    case = make_case(session, point=grid_point(session, 0, "001"))
    advance(session, case, [("register", "shiftlead", {"note": "内部意见"})])
    ev = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "register")
    ).one()
    assert ev.public is False and "public" not in event_payload(ev)  # links of pre-0012 events unchanged
    session.execute(update(CaseEvent).where(CaseEvent.id == ev.id).values(public=True))
    session.expire_all()
    ev = session.get(CaseEvent, ev.id)
    assert ev is not None and event_payload(ev)["public"] is True  # a note made public breaks its link

    from civicgrid.security.audit import verify_all

    assert any(p.chain == "case_events" for p in verify_all(session))


def test_open311_shows_only_public_notes(client: Any, session: Session) -> None:
    case = make_case(session, point=grid_point(session, 0, "001"), source="citizen")
    advance(
        session,
        case,
        [
            ("register", "shiftlead", {"note": "领导批示内部备注"}),
            ("dispatch", "dispatcher", {"department_code": "HW", "note": "已通知环卫处", "public": True}),
        ],
    )
    session.flush()
    r = client.get(f"/open311/v2/requests/{case.number}.json", params={"extensions": "true"})
    assert r.status_code == 200, r.text
    body = r.json()[0]
    assert body["status_notes"] == "派遣（已派遣）：已通知环卫处"
    assert "领导批示内部备注" not in r.text
    notes = [n["description"] for n in body["notes"]]
    assert "立案（已立案）" in notes and "派遣（已派遣）：已通知环卫处" in notes
