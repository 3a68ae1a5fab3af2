"""Issue 11, defects 4 and 8: the JSON API refuses cross-site requests that ride on the login cookie, and
tokens end with a password reset, a deactivation, a role change, "log out everywhere" and (each its own) a
logout."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import make_case
from civicgrid.models import RevokedToken, SecurityEvent, User, utcnow
from civicgrid.org.csrf import BAD_HEADER, CROSS_SITE, NO_HEADER, cookie_refusal, origin_refusal
from civicgrid.org.service import set_roles
from civicgrid.org.tokens import issue_token, read_token
from civicgrid.settings import get_settings

PASSWORD = "civicgrid2026"
EVIL = "https://evil.example"


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert match, html[:300]
    return match.group(1)


def _meta_token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', html)
    assert match, html[:300]
    return match.group(1)


def _browser_login(client: Any, username: str) -> str:
    """Log in through the login form, as a browser does; returns the CSRF token the pages then carry."""
    token = _form_token(client.get("/login").text)
    r = client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return _meta_token(client.get("/track").text)


def _api_login(client: Any, username: str, password: str = PASSWORD) -> str:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _reveals(session: Session) -> int:
    return session.scalar(select(func.count()).where(SecurityEvent.kind == "reveal")) or 0


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


# --- Defect 4: cookie CSRF on /api and /open311 ------------------------------------------------------------


def test_a_form_post_riding_on_the_cookie_is_refused_and_changes_nothing(
    client: Any, session: Session
) -> None:
    case = make_case(session)
    session.flush()
    _browser_login(client, "operator")
    before = _reveals(session)
    # What a hostile page's auto-submitting form sends: the cookie, an empty form body, no header.
    r = client.post(
        f"/api/v1/cases/{case.id}/reveal",
        content=b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == NO_HEADER
    assert r.json()["type"] == "urn:civicgrid:problem:csrf_failed"
    assert _reveals(session) == before
    # Reading with the cookie still works (the pages' own scripts fetch JSON this way).
    assert client.get(f"/api/v1/cases/{case.id}").status_code == 200


def test_the_same_request_with_the_csrf_header_of_this_login_works(client: Any, session: Session) -> None:
    case = make_case(session)
    session.flush()
    token = _browser_login(client, "operator")
    before = _reveals(session)
    r = client.post(
        f"/api/v1/cases/{case.id}/reveal",
        headers={"X-CSRF-Token": token, "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["number"] == case.number
    assert _reveals(session) == before + 1


def test_a_foreign_origin_or_a_cross_site_fetch_is_refused_even_with_the_header(
    client: Any, session: Session
) -> None:
    case = make_case(session)
    session.flush()
    token = _browser_login(client, "operator")
    before = _reveals(session)
    for headers in (
        {"X-CSRF-Token": token, "Origin": EVIL},
        {"X-CSRF-Token": token, "Origin": "null"},
        {"X-CSRF-Token": token, "Origin": "http://testserver.evil.example"},
        {"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"},
    ):
        r = client.post(f"/api/v1/cases/{case.id}/reveal", headers=headers)
        assert r.status_code == 403, headers
        assert "跨站请求已拒绝" in r.json()["detail"]
    # A bearer token does not make a foreign page's request acceptable either.
    client.cookies.clear()
    r = client.post(
        f"/api/v1/cases/{case.id}/reveal", headers={**_bearer(_api_login(client, "operator")), "Origin": EVIL}
    )
    assert r.status_code == 403
    assert _reveals(session) == before


def test_a_csrf_token_of_another_login_is_refused(client: Any, session: Session) -> None:
    case = make_case(session)
    session.flush()
    first = _browser_login(client, "operator")
    second = _browser_login(client, "operator")  # the same browser logs in again: a new token
    assert first != second
    r = client.post(f"/api/v1/cases/{case.id}/reveal", headers={"X-CSRF-Token": first})
    assert r.status_code == 403
    assert "与当前登录不符" in r.json()["detail"]
    # Another browser's login (its own CSRF nonce and login cookie) gives a token this one refuses.
    other = TestClient(client.app)
    foreign = _browser_login(other, "operator")
    r = client.post(f"/api/v1/cases/{case.id}/reveal", headers={"X-CSRF-Token": foreign})
    assert r.status_code == 403
    assert client.post(f"/api/v1/cases/{case.id}/reveal", headers={"X-CSRF-Token": second}).status_code == 200


def test_web_forms_use_the_token_of_the_current_login(client: Any, session: Session) -> None:
    before_login = _form_token(client.get("/login").text)
    after_login = _browser_login(client, "operator")
    assert before_login != after_login
    r = client.post("/logout", data={"csrf_token": before_login}, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/center", follow_redirects=False).status_code == 200  # still logged in


def test_open311_refuses_a_foreign_origin_with_its_own_error_body(client: Any, session: Session) -> None:
    r = client.post(
        "/open311/v2/requests.json",
        data={"service_code": "C0118", "lat": "31.3", "long": "120.6", "description": "x"},
        headers={"Origin": EVIL},
    )
    assert r.status_code == 403
    body = r.json()
    assert body[0]["code"] == 403 and "跨站请求已拒绝" in body[0]["description"]


def test_refusal_rules() -> None:
    own = "http://grid.example.gov.cn"
    assert origin_refusal("GET", {"origin": EVIL}, own) is None
    assert origin_refusal("POST", {"sec-fetch-site": "cross-site"}, own) == CROSS_SITE
    assert origin_refusal("POST", {"sec-fetch-site": "same-origin"}, own) is None
    assert origin_refusal("POST", {"origin": "HTTP://Grid.Example.gov.cn:80"}, own) is None
    assert (
        origin_refusal("POST", {"origin": "https://grid.example.gov.cn"}, own) is not None
    )  # another scheme
    assert origin_refusal("POST", {"origin": EVIL}, own, frozenset({EVIL})) is None  # trusted_origins
    assert origin_refusal("POST", {}, own) is None  # a server-side client sends no Origin
    cookies = {"civicgrid_token": "x", "civicgrid_csrf": "a" * 32}
    assert cookie_refusal("POST", {}, cookies) == NO_HEADER
    assert cookie_refusal("POST", {"x-csrf-token": "0" * 64}, cookies) == BAD_HEADER
    assert cookie_refusal("GET", {}, cookies) is None


# --- Defect 8: tokens end with a reset, a deactivation, a role change, a logout ---------------------------


def _admin_cookie(client: Any, session: Session) -> str:
    admin = _user(session, "admin")
    client.cookies.set("civicgrid_token", issue_token(admin.id, version=admin.token_version)[0])
    return _form_token(client.get("/admin/users").text)


def test_a_password_reset_ends_the_old_tokens(client: Any, session: Session) -> None:
    old = _api_login(client, "operator")
    assert client.get("/api/v1/me", headers=_bearer(old)).status_code == 200  # cached in this process
    csrf = _admin_cookie(client, session)
    user = _user(session, "operator")
    r = client.post(f"/admin/users/{user.id}/password", data={"csrf_token": csrf})
    assert r.status_code == 200
    r = client.get("/api/v1/me", headers=_bearer(old))
    assert r.status_code == 401
    assert r.json()["detail"] == "登录已失效（已退出登录或密码已重置），请重新登录"
    client.cookies.clear()
    assert (
        client.post("/api/v1/auth/token", data={"username": "operator", "password": PASSWORD}).status_code
        == 401
    )


def test_a_deactivation_ends_the_old_tokens_even_after_reactivation(client: Any, session: Session) -> None:
    old = _api_login(client, "operator")
    assert client.get("/api/v1/me", headers=_bearer(old)).status_code == 200
    csrf = _admin_cookie(client, session)
    user = _user(session, "operator")
    client.post(f"/admin/users/{user.id}/active", data={"csrf_token": csrf, "active": "0"})
    assert client.get("/api/v1/me", headers=_bearer(old)).status_code == 401
    client.post(f"/admin/users/{user.id}/active", data={"csrf_token": csrf, "active": "1"})
    session.refresh(user)
    assert user.active
    assert client.get("/api/v1/me", headers=_bearer(old)).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(_api_login(client, "operator"))).status_code == 200


def test_a_role_change_ends_the_old_tokens(client: Any, session: Session) -> None:
    old = _api_login(client, "operator")
    assert client.get("/api/v1/me", headers=_bearer(old)).json()["roles"] == ["operator"]
    set_roles(session, _user(session, "operator"), ["operator", "shift_lead"])
    session.flush()
    assert client.get("/api/v1/me", headers=_bearer(old)).status_code == 401
    fresh = _api_login(client, "operator")
    assert client.get("/api/v1/me", headers=_bearer(fresh)).json()["roles"] == ["operator", "shift_lead"]


def test_log_out_everywhere_ends_every_token_of_the_user(client: Any, session: Session) -> None:
    phone, laptop = _api_login(client, "operator"), _api_login(client, "operator")
    other_user = _api_login(client, "dispatcher")
    assert client.post("/api/v1/auth/logout-all", headers=_bearer(phone)).status_code == 204
    assert client.get("/api/v1/me", headers=_bearer(phone)).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(laptop)).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(other_user)).status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(_api_login(client, "operator"))).status_code == 200
    kinds = list(
        session.scalars(select(SecurityEvent.kind).order_by(SecurityEvent.chain_seq.desc()).limit(3))
    )
    assert "logout_all" in kinds


def test_the_web_button_logs_out_everywhere(client: Any, session: Session) -> None:
    api_token = _api_login(client, "operator")
    csrf = _browser_login(client, "operator")
    page = client.get("/center").text
    assert 'action="/logout/all"' in page and "全部设备退出" in page
    r = client.post("/logout/all", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/api/v1/me", headers=_bearer(api_token)).status_code == 401


def test_logout_revokes_only_its_own_token(client: Any, session: Session) -> None:
    first, second = _api_login(client, "operator"), _api_login(client, "operator")
    assert client.post("/api/v1/auth/logout", headers=_bearer(first)).status_code == 204
    assert client.get("/api/v1/me", headers=_bearer(first)).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(second)).status_code == 200
    jti = read_token(first).jti
    row = session.get(RevokedToken, jti)
    assert row is not None and row.user_id == _user(session, "operator").id


def test_the_web_logout_revokes_the_cookie_token(client: Any, session: Session) -> None:
    csrf = _browser_login(client, "operator")
    cookie = client.cookies.get("civicgrid_token")
    assert cookie
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    # A copy of the cookie (kept by malware, or a shared computer's browser) no longer works.
    client.cookies.clear()
    assert client.get("/api/v1/me", headers=_bearer(cookie)).status_code == 401


@pytest.mark.parametrize("missing", ["exp", "typ", "jti", "ver"])
def test_a_token_without_a_required_claim_is_refused(client: Any, session: Session, missing: str) -> None:
    user = _user(session, "operator")
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "iat": now,
        "exp": now + timedelta(hours=1),
        "jti": "abcdefabcdef",
        "typ": "access",
        "ver": user.token_version,
    }
    good = jwt.encode(claims, get_settings().secret_key, algorithm="HS256")
    assert client.get("/api/v1/me", headers=_bearer(good)).status_code == 200
    del claims[missing]
    bad = jwt.encode(claims, get_settings().secret_key, algorithm="HS256")
    r = client.get("/api/v1/me", headers=_bearer(bad))
    assert r.status_code == 401
    assert r.json()["detail"] == "登录凭证无效，请重新登录"


def test_a_token_of_another_type_is_refused(client: Any, session: Session) -> None:
    user = _user(session, "operator")
    now = utcnow()
    claims = {"sub": str(user.id), "iat": now, "exp": now + timedelta(hours=1), "jti": "x" * 12, "ver": 0}
    bad = jwt.encode({**claims, "typ": "refresh"}, get_settings().secret_key, algorithm="HS256")
    assert client.get("/api/v1/me", headers=_bearer(bad)).status_code == 401
