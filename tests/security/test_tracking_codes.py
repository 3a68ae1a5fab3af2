"""Anonymous tracking codes (issue 11, defect 1): exact codes only, ≥ 40 bits, legacy digests, throttling."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import grid_point
from civicgrid.cases import tracking
from civicgrid.models import Case, CodeAttempt, utcnow
from civicgrid.security import attempts, codes
from civicgrid.settings import get_settings

MIGRATION = Path(codes.__file__).parents[1] / "migrations" / "versions" / "0005_tracking_codes.py"


def _report(client: Any, session: Session, index: int = 5) -> dict[str, Any]:
    p = grid_point(session, index)
    r = client.post(
        "/api/v1/reports",
        json={
            "description": "小区门口垃圾桶满了，垃圾袋堆在路边",
            "lng": p.lng,
            "lat": p.lat,
            "category_code": "E0102",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def _report_with_digits(client: Any, session: Session) -> dict[str, Any]:
    for i in range(20):  # a code without any digit is possible (~5 %); take one that has some
        rep = _report(client, session, 5 + i)
        if any(ch.isdigit() for ch in rep["query_code"]):
            return rep
    raise AssertionError("no code with digits in 20 reports")


def _closed(session: Session, number: str) -> Case:
    case = session.scalar(select(Case).where(Case.number == number))
    assert case is not None
    case.state = "closed"
    case.closed_at = utcnow()
    session.flush()
    return case


def _track(client: Any, number: str, code: str) -> Any:
    return client.get(f"/api/v1/track/{number}", params={"code": code})


def _rate(client: Any, number: str, code: str, rating: int = 5) -> Any:
    return client.post(f"/api/v1/track/{number}/rate", json={"rating": rating, "query_code": code})


def _other_client(client: Any, host: str = "203.0.113.9") -> TestClient:
    return TestClient(client.app, client=(host, 50001))


def _legacy_digest(code: str) -> str:
    """What the code before revision 0005 stored: pii.keyed_hash("q:" + code), digits only."""
    value = "q:" + code
    normal = "".join(ch for ch in value if ch.isdigit()) or value.strip()
    return hmac.new(get_settings().secret_key.encode(), normal.encode(), hashlib.sha256).hexdigest()


# --- Exact codes -------------------------------------------------------------------------------------------


def test_the_digits_of_a_code_neither_open_nor_rate_the_case(client: Any, session: Session) -> None:
    rep = _report_with_digits(client, session)
    number, code = rep["number"], rep["query_code"]
    digits = "".join(ch for ch in code if ch.isdigit())
    miss = _track(client, number, digits)
    assert miss.status_code == 404
    assert miss.json()["detail"] == "案卷号或查询码不正确"
    case = _closed(session, number)
    assert _rate(client, number, digits).status_code == 404
    session.refresh(case)
    assert case.rating is None  # nothing written
    assert _track(client, number, code).status_code == 200


def test_lower_case_and_separators_of_the_exact_code_open_it(client: Any, session: Session) -> None:
    rep = _report(client, session)
    number, code = rep["number"], rep["query_code"]
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}", code)
    bare = code.replace("-", "")
    fullwidth = "".join(chr(ord(ch) + 0xFEE0) for ch in bare.lower())  # ｋ７ｑ… typed on a Chinese IME
    for variant in (code, code.lower(), bare, bare.lower(), f" {bare[:5]} {bare[5:]} ", fullwidth):
        assert _track(client, number, variant).status_code == 200, variant
    other = ("Z" if bare[0] != "Z" else "Y") + bare[1:]  # one character off
    assert _track(client, number, other).status_code == 404
    assert _track(client, number, bare[:-1]).status_code == 404
    case = _closed(session, number)
    assert _rate(client, number, code.lower(), 4).status_code == 200
    session.refresh(case)
    assert case.rating == 4


def test_codes_have_at_least_40_bits_from_an_unambiguous_alphabet() -> None:
    assert codes.BITS >= 40
    assert not set("0O1IL") & set(codes.ALPHABET)
    issued = [codes.issue() for _ in range(500)]
    assert len(set(issued)) == 500
    for code in issued:
        assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", code)
        assert set(code.replace("-", "")) <= set(codes.ALPHABET)
    stored = codes.digest(issued[0])
    assert stored.startswith("v2$") and issued[0].replace("-", "") not in stored
    # Its own key: not the phone-hash key's HMAC of the same text.
    assert stored[3:] != _legacy_digest(issued[0])


def test_a_legacy_row_opens_with_its_exact_old_code_only(client: Any, session: Session) -> None:
    rep = _report(client, session)
    case = _closed(session, rep["number"])
    case.query_code_hash = _legacy_digest("CC7E77")  # as stored before revision 0005
    session.flush()
    spec = importlib.util.spec_from_file_location("migration_0005", MIGRATION)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.rewrap(session.connection()) >= 1
    assert migration.rewrap(session.connection()) == 0  # idempotent
    session.refresh(case)
    assert case.query_code_hash.startswith("v1$")
    assert _rate(client, rep["number"], "777").status_code == 404
    for wrong in ("777", "CC7E7", "CC7E777"):  # 4 failures: one short of the lock
        assert _track(client, rep["number"], wrong).status_code == 404, wrong
    assert _track(client, rep["number"], "cc7e77").status_code == 200
    assert _rate(client, rep["number"], "CC7E77", 3).status_code == 200
    session.refresh(case)
    assert case.rating == 3


# --- Throttling --------------------------------------------------------------------------------------------


def test_the_fifth_wrong_code_locks_the_number_even_for_the_right_code(
    client: Any, session: Session, monkeypatch: Any
) -> None:
    rep = _report(client, session)
    number, code = rep["number"], rep["query_code"]
    _closed(session, number)
    for i in range(4):
        assert _track(client, number, f"ABCDE-FGHJ{i + 2}").status_code == 404
    locked = _rate(client, number, "ABCDE-FGHJK")
    assert locked.status_code == 429
    assert locked.headers["content-type"].startswith("application/problem+json")
    assert locked.json()["detail"] == "查询码错误次数过多，请 15 分钟后再试"
    assert 890 <= int(locked.headers["Retry-After"]) <= 900
    # Held in the database (so in every worker process), and even the right code is refused, from anywhere.
    row = session.get(CodeAttempt, session.scalar(select(Case.id).where(Case.number == number)))
    assert row is not None and row.locked_until is not None
    other = _other_client(client)
    assert _track(other, number, code).status_code == 429
    refused = _rate(other, number, code)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert session.scalar(select(Case.rating).where(Case.number == number)) is None
    # Another case is not locked.
    rep2 = _report(client, session, 9)
    assert _track(client, rep2["number"], rep2["query_code"]).status_code == 200
    # Once the window has passed the right code opens it again.
    later = utcnow() + timedelta(minutes=16)
    monkeypatch.setattr(tracking, "utcnow", lambda: later)
    assert _track(other, number, code).status_code == 200
    assert _rate(other, number, code).status_code == 200


def test_a_client_with_too_many_wrong_codes_is_refused_everywhere(client: Any, session: Session) -> None:
    rep = _report(client, session)
    for i in range(19):  # unknown numbers count too: guessing numbers is guessing
        assert _track(client, f"E01022026010{i:05d}", "ABCDE-FGHJK").status_code == 404
    last = _track(client, "E010220260199999", "ABCDE-FGHJK")
    assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0
    assert _track(client, rep["number"], rep["query_code"]).status_code == 429
    assert _track(_other_client(client), rep["number"], rep["query_code"]).status_code == 200


def test_a_missing_code_is_not_counted_as_a_guess(client: Any, session: Session) -> None:
    rep = _report(client, session)
    for _ in range(8):
        assert client.get(f"/api/v1/track/{rep['number']}").status_code == 404
    assert _track(client, rep["number"], rep["query_code"]).status_code == 200


def test_the_web_tracking_form_is_throttled_but_the_reporters_browser_is_not(
    client: Any, session: Session
) -> None:
    p = grid_point(session, 1200)
    page = client.get("/report")
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)  # type: ignore[union-attr]
    done = client.post(
        "/report",
        data={
            "csrf_token": token,
            "description": "路口的路灯坏了，晚上一片漆黑",
            "lng": str(p.lng),
            "lat": str(p.lat),
            "category_code": "C0118",
        },
    )
    assert done.status_code == 200
    number = re.search(r'id="case-number">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    code = re.search(r'id="query-code">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]

    guesser = _other_client(client, "198.51.100.7")
    form = guesser.get("/track")
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', form.text).group(1)  # type: ignore[union-attr]
    digits = "".join(ch for ch in code if ch.isdigit()) or "777"
    for _ in range(4):
        miss = guesser.post("/track", data={"csrf_token": token, "number": number, "code": digits})
        assert miss.status_code == 404 and "案卷号或查询码不正确" in miss.text
    locked = guesser.post("/track", data={"csrf_token": token, "number": number, "code": digits})
    assert locked.status_code == 429 and locked.headers["content-type"].startswith("text/html")
    assert "查询码错误次数过多，请 15 分钟后再试" in locked.text and int(locked.headers["Retry-After"]) > 0
    typed = guesser.post(
        "/track", data={"csrf_token": token, "number": number, "code": code}, follow_redirects=False
    )
    assert typed.status_code == 429
    # The reporter's own browser remembers the code (signed cookie) and still follows the case.
    mine = client.get(f"/track/{number}")
    assert mine.status_code == 200 and "路口的路灯坏了" in mine.text


# --- The pure rules ----------------------------------------------------------------------------------------


def test_failure_counter_locks_on_the_limit_and_forgets_after_the_window() -> None:
    t0 = utcnow()
    c = attempts.Counter()
    for i in range(4):
        c = attempts.after_failure(c, t0 + timedelta(seconds=i), limit=5, window_s=900)
        assert attempts.retry_after(c, t0) == 0
    assert c.failures == 4
    c = attempts.after_failure(c, t0 + timedelta(seconds=10), limit=5, window_s=900)
    assert attempts.retry_after(c, t0 + timedelta(seconds=10)) == 900
    assert attempts.retry_after(c, t0 + timedelta(seconds=911)) == 0
    stale = attempts.Counter(failures=4, window_start=t0)
    assert attempts.after_failure(stale, t0 + timedelta(seconds=900), 5, 900).failures == 1


def test_client_limiter_counts_ipv6_by_its_64() -> None:
    limiter = attempts.ClientLimiter()
    for i in range(3):
        limiter.fail(f"2001:db8:1:2::{i + 1}", 100.0 + i, limit=3, window_s=60)
    assert limiter.retry_after("2001:db8:1:2:ffff::9", 103.0, limit=3, window_s=60) == 57
    assert limiter.retry_after("2001:db8:1:3::1", 103.0, limit=3, window_s=60) == 0
    assert limiter.retry_after("2001:db8:1:2::1", 161.0, limit=3, window_s=60) == 0
    assert attempts.client_key("::ffff:192.0.2.1") == "192.0.2.1"
