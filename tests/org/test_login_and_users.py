"""Login with a password, lockout after repeated failures, admin-only user management, the audit chain."""

from __future__ import annotations

from sqlalchemy import select, update

from builders import auth
from civicgrid.models import CaseEvent, SecurityEvent, User
from civicgrid.security.audit import verify_all


def _login(client, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_login_returns_an_expiring_bearer_token(client, session) -> None:
    r = _login(client, "dispatcher", "civicgrid2026")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 8 * 3600
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["roles"] == ["dispatcher"] and me["role_labels"] == ["派遣员"]
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_wrong_password_then_lockout_is_recorded(client, session) -> None:
    refused = "用户名或密码错误（连续输错 5 次，账号将锁定 15 分钟）"
    for _ in range(5):
        r = _login(client, "operator2", "wrong-password")
        assert r.status_code == 401 and r.json()["detail"] == refused
    r = _login(client, "operator2", "civicgrid2026")
    # Locked: the same words as any refusal (a different answer would tell a guesser the account exists).
    assert r.status_code == 401 and r.json()["detail"] == refused
    kinds = [e.kind for e in session.scalars(select(SecurityEvent).order_by(SecurityEvent.chain_seq))][-6:]
    assert kinds == ["login_failed"] * 5 + ["login_locked"]


def test_users_are_admin_only(client, session) -> None:
    assert client.get("/api/v1/users", headers=auth(session, "leader")).status_code == 403
    r = client.post(
        "/api/v1/users",
        headers=auth(session, "admin"),
        json={
            "username": "hw2",
            "password": "a-long-password",
            "roles": ["handler"],
            "department_code": "HW",
        },
    )
    assert r.status_code == 201 and r.json()["roles"] == ["handler"]
    r = client.post(
        "/api/v1/users",
        headers=auth(session, "admin"),
        json={"username": "hw3", "password": "a-long-password", "roles": ["handler"]},
    )
    assert r.status_code == 422 and "部门" in r.json()["detail"]
    r = client.post(
        "/api/v1/users",
        headers=auth(session, "admin"),
        json={"username": "x", "password": "a-long-password", "roles": ["wizard"]},
    )
    assert r.status_code == 422 and "wizard" in r.json()["detail"]
    users = client.get("/api/v1/users", headers=auth(session, "admin")).json()
    assert "hw2" in {u["username"] for u in users}
    assert len(client.get("/api/v1/departments").json()) == 24


def test_audit_chain_detects_an_edited_event(client, session) -> None:
    from builders import make_case

    make_case(session)
    session.flush()
    assert verify_all(session) == []
    last = session.scalar(select(CaseEvent).order_by(CaseEvent.chain_seq.desc()).limit(1))
    session.execute(update(CaseEvent).where(CaseEvent.id == last.id).values(note="篡改"))
    problems = verify_all(session)
    assert [(p.chain, p.seq) for p in problems] == [("case_events", last.chain_seq)]
    assert "被修改" in problems[0].problem
    user = session.scalar(select(User).where(User.username == "admin"))
    assert user is not None


def test_totp_second_factor_for_staff(client, session) -> None:
    import pyotp

    from civicgrid.org.service import enable_totp

    uri = enable_totp(session, "dispatcher")
    secret = pyotp.parse_uri(uri).secret
    r = _login(client, "dispatcher", "civicgrid2026")
    assert r.status_code == 401 and "动态口令" in r.json()["detail"]
    r = client.post(
        "/api/v1/auth/token", data={"username": "dispatcher", "password": "civicgrid2026", "otp": "000000"}
    )
    assert r.status_code == 401
    r = client.post(
        "/api/v1/auth/token",
        data={"username": "dispatcher", "password": "civicgrid2026", "otp": pyotp.TOTP(secret).now()},
    )
    assert r.status_code == 200, r.text
    assert session.scalar(select(User).where(User.username == "dispatcher")).totp_secret_enc != secret


def test_a_hash_with_old_parameters_is_replaced_on_a_good_login(client, session) -> None:
    """Hashes made with argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes: ~300 ms of CPU per login) still
    verify, and the next good login replaces them with today's cheaper OWASP parameters."""
    from argon2 import PasswordHasher

    from civicgrid.security.passwords import needs_rehash

    old = PasswordHasher().hash("civicgrid2026")
    session.execute(update(User).where(User.username == "dispatcher").values(password_hash=old))
    session.commit()
    assert needs_rehash(old)
    assert _login(client, "dispatcher", "wrong-password").status_code == 401
    session.expire_all()
    assert session.scalar(select(User.password_hash).where(User.username == "dispatcher")) == old
    assert _login(client, "dispatcher", "civicgrid2026").status_code == 200
    session.expire_all()
    new = session.scalar(select(User.password_hash).where(User.username == "dispatcher"))
    assert new != old and not needs_rehash(new) and new.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert _login(client, "dispatcher", "civicgrid2026").status_code == 200
