"""Issue 11, defect 7: an Idempotency-Key replays the first answer only to the same body. Another body under
the same key is refused (422 problem on /api, an Open311 error on /open311) — or, for anonymous reporters,
who share no identity, is simply another report — and a query code is never replayed to another body."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import auth, grid_point
from civicgrid import idempotency
from civicgrid.models import Case, IdempotencyKey

MISMATCH = "幂等键已用于不同的请求内容"
BASE = "/open311/v2"


def _cases(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case)) or 0


def _report(session: Session, description: str = "井盖松动") -> dict[str, Any]:
    p = grid_point(session, 7)
    return {"description": description, "lng": p.lng, "lat": p.lat, "category_code": "C0101"}


def _form(session: Session, description: str = "井盖松动") -> dict[str, str]:
    return {k: str(v) for k, v in _report(session, description).items()}


def _jpeg(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, format="JPEG")
    return buf.getvalue()


# --- the digest -------------------------------------------------------------------------------------------


def test_digests_are_canonical_but_see_every_value_and_byte() -> None:
    assert idempotency.json_digest({"a": 1, "b": [1, 2]}) == idempotency.json_digest({"b": [1, 2], "a": 1})
    assert idempotency.json_digest({"a": 1}) != idempotency.json_digest({"a": 2})
    fields = [("description", "x"), ("lng", "120.6")]
    same = idempotency.form_digest(fields, [("photos", b"one")])
    assert same == idempotency.form_digest(list(reversed(fields)), [("photos", b"one")])
    assert same != idempotency.form_digest(fields, [("photos", b"two")])
    assert same != idempotency.form_digest(fields)
    assert idempotency.form_digest([("a", "1")]) != idempotency.json_digest({"a": "1"})


# --- JSON -------------------------------------------------------------------------------------------------


def test_json_same_body_replays_and_another_body_is_refused(client: Any, session: Session) -> None:
    headers = {**auth(session, "citizen"), "Idempotency-Key": "json-1"}
    before = _cases(session)
    first = client.post("/api/v1/reports", json=_report(session), headers=headers)
    assert first.status_code == 201, first.text
    # The same body, with its keys in another order and other white space, is the same request.
    body = _report(session)
    reordered = "{" + ", ".join(f'"{k}" : {v!r}'.replace("'", '"') for k, v in reversed(body.items())) + "}"
    again = client.post(
        "/api/v1/reports", content=reordered, headers={**headers, "content-type": "application/json"}
    )
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = client.post("/api/v1/reports", json=_report(session, "路灯不亮"), headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert MISMATCH in other.json()["detail"]
    assert _cases(session) == before + 1


def test_anonymous_reporters_never_get_each_others_query_code(client: Any, session: Session) -> None:
    before = _cases(session)
    key = {"Idempotency-Key": "1"}  # a key many careless clients would pick
    first = client.post("/api/v1/reports", json=_report(session, "井盖松动，请尽快处理"), headers=key)
    second = client.post("/api/v1/reports", json=_report(session, "路灯不亮"), headers=key)
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert second.json()["number"] != first.json()["number"]
    assert second.json()["query_code"] and second.json()["query_code"] != first.json()["query_code"]
    assert _cases(session) == before + 2
    # The first reporter's own retry still gets the first answer.
    retry = client.post("/api/v1/reports", json=_report(session, "井盖松动，请尽快处理"), headers=key)
    assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"
    scopes = set(session.scalars(select(IdempotencyKey.scope).where(IdempotencyKey.key == "1")))
    assert len(scopes) == 2 and all(s.startswith("reports:anon:") for s in scopes)


# --- forms and multipart ----------------------------------------------------------------------------------


def test_form_body_is_compared(client: Any, session: Session) -> None:
    headers = {**auth(session, "citizen"), "Idempotency-Key": "form-1"}
    before = _cases(session)
    first = client.post("/api/v1/reports", data=_form(session), headers=headers)
    again = client.post("/api/v1/reports", data=_form(session), headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = client.post("/api/v1/reports", data=_form(session, "路灯不亮"), headers=headers)
    assert other.status_code == 422 and MISMATCH in other.json()["detail"]
    assert _cases(session) == before + 1


def test_anonymous_form_with_another_body_is_another_report(client: Any, session: Session) -> None:
    key = {"Idempotency-Key": "form-anon"}
    first = client.post("/api/v1/reports", data=_form(session), headers=key)
    other = client.post("/api/v1/reports", data=_form(session, "路灯不亮"), headers=key)
    assert first.status_code == other.status_code == 201
    assert other.json()["number"] != first.json()["number"]
    assert other.json()["query_code"] != first.json()["query_code"]


def test_multipart_photos_are_compared_by_their_bytes(client: Any, session: Session) -> None:
    headers = {**auth(session, "citizen"), "Idempotency-Key": "mp-1"}
    before = _cases(session)
    red, blue = _jpeg((200, 10, 10)), _jpeg((10, 10, 200))
    first = client.post(
        "/api/v1/reports",
        data=_form(session),
        files=[("photos", ("a.jpg", red, "image/jpeg"))],
        headers=headers,
    )
    assert first.status_code == 201, first.text
    # Same fields, same photo (another file name): the same request.
    again = client.post(
        "/api/v1/reports",
        data=_form(session),
        files=[("photos", ("b.jpg", red, "image/jpeg"))],
        headers=headers,
    )
    assert again.status_code == 201 and again.json() == first.json()
    # Same fields, another photo: another request under a used key.
    other = client.post(
        "/api/v1/reports",
        data=_form(session),
        files=[("photos", ("a.jpg", blue, "image/jpeg"))],
        headers=headers,
    )
    assert other.status_code == 422 and MISMATCH in other.json()["detail"]
    assert _cases(session) == before + 1


def test_anonymous_multipart_with_another_photo_gets_its_own_query_code(
    client: Any, session: Session
) -> None:
    key = {"Idempotency-Key": "mp-anon"}
    red, blue = _jpeg((200, 10, 10)), _jpeg((10, 10, 200))
    first = client.post(
        "/api/v1/reports", data=_form(session), files=[("photos", ("a.jpg", red, "image/jpeg"))], headers=key
    )
    other = client.post(
        "/api/v1/reports", data=_form(session), files=[("photos", ("a.jpg", blue, "image/jpeg"))], headers=key
    )
    assert first.status_code == other.status_code == 201, other.text
    assert other.json()["number"] != first.json()["number"]
    assert other.json()["query_code"] != first.json()["query_code"]


# --- Open311 ----------------------------------------------------------------------------------------------


def _o311(session: Session, api_key: str, description: str = "白色轿车停在人行道上") -> dict[str, Any]:
    p = grid_point(session, 5)
    return {
        "api_key": api_key,
        "service_code": "E0505",
        "lat": str(p.lat),
        "long": str(p.lng),
        "description": description,
        "attribute[BLOCKING][]": ["sidewalk"],
        "attribute[PLATE]": "苏E12345",
    }


def test_open311_same_key_another_body_is_an_open311_error(client: Any, session: Session) -> None:
    from civicgrid.open311.keys import create_key

    api_key = create_key(session, "测试客户端").key
    headers = {"Idempotency-Key": "o311-digest"}
    before = _cases(session)
    first = client.post(f"{BASE}/requests.json", data=_o311(session, api_key), headers=headers)
    assert first.status_code == 200, first.text
    again = client.post(f"{BASE}/requests.json", data=_o311(session, api_key), headers=headers)
    assert again.text == first.text and again.headers["idempotent-replayed"] == "true"
    other = client.post(
        f"{BASE}/requests.json", data=_o311(session, api_key, "黑色货车堵住盲道"), headers=headers
    )
    assert other.status_code == 400
    assert other.json()[0]["code"] == 400 and MISMATCH in other.json()[0]["description"]
    # A photo is part of the body too.
    photo = client.post(
        f"{BASE}/requests.json",
        data=_o311(session, api_key),
        files=[("media", ("a.jpg", _jpeg((1, 2, 3)), "image/jpeg"))],
        headers=headers,
    )
    assert photo.status_code == 400 and MISMATCH in photo.json()[0]["description"]
    assert _cases(session) == before + 1
