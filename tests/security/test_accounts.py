"""Issue 11, defect 14 (accounts): inspectors' grid codes must name real areas, usernames that look the same
are the same name, and a login refusal says (and costs) the same whether or not the account exists."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from builders import auth
from civicgrid.models import Area, User, UserGrid, utcnow
from civicgrid.org import service
from civicgrid.org.service import LOGIN_FAILED
from civicgrid.org.usernames import lookup_key, normal_username

PASSWORD = "civicgrid2026"


def _new_user(client: Any, session: Session, **body: Any) -> Any:
    payload = {"username": "newbie", "password": "a-long-password", "roles": ["inspector"], **body}
    return client.post("/api/v1/users", headers=auth(session, "admin"), json=payload)


def _users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def _login(client: Any, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


# --- Grid codes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["", "3", "320508", "32050800", "320508999999", " "])
def test_an_inspector_cannot_be_given_the_whole_district_or_an_unknown_code(
    client: Any, session: Session, code: str
) -> None:
    before = _users(session)
    r = _new_user(client, session, grid_codes=[code])
    assert r.status_code == 422, r.text
    assert "未知的网格代码" in r.json()["detail"]
    assert _users(session) == before
    assert session.scalar(select(User).where(User.username == "newbie")) is None


def test_an_inspector_gets_real_grids_communities_or_streets(client: Any, session: Session) -> None:
    grid, community, street = (
        session.scalars(select(Area.code).where(Area.level == level).order_by(Area.code).limit(1)).one()
        for level in ("grid", "community", "street")
    )
    r = _new_user(client, session, grid_codes=[grid, community, street, grid])
    assert r.status_code == 201, r.text
    assert r.json()["grid_codes"] == sorted({grid, community, street})
    stored = set(session.scalars(select(UserGrid.grid_code).where(UserGrid.user_id == r.json()["id"])))
    assert stored == {grid, community, street}


def test_the_admin_page_refuses_a_partial_grid_code(client: Any, session: Session) -> None:
    import re

    from civicgrid.org.tokens import issue_token

    admin = session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    client.cookies.set("civicgrid_token", issue_token(admin.id)[0])
    page = client.get("/admin/users").text
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "wide",
            "password": "a-long-password",
            "roles": "inspector",
            "grid_codes": "3",
        },
    )
    assert r.status_code == 200
    assert "未知的网格代码" in r.text
    assert session.scalar(select(User).where(User.username == "wide")) is None


# --- Usernames ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lookalike",
    ["Operator", "OPERATOR", " operator ", "ｏｐｅｒａｔｏｒ", "operator\u3000"],
)
def test_a_name_that_differs_only_by_case_width_or_spaces_is_taken(
    client: Any, session: Session, lookalike: str
) -> None:
    before = _users(session)
    r = _new_user(client, session, username=lookalike, roles=["operator"])
    assert r.status_code == 409, r.text
    assert "用户名已存在" in r.json()["detail"]
    assert _users(session) == before


@pytest.mark.parametrize(
    "hidden",
    [
        "oper\u200bator",  # zero-width space
        "operator\u200d",  # zero-width joiner
        "\u202eoperator",  # right-to-left override
        "oper\u2066ator\u2069",  # bidi isolate
        "oper ator",  # an inner space
        "oper\tator",
        "\ufeffoperator",  # byte order mark
        "oper\u3164ator",  # Hangul filler (renders blank)
    ],
)
def test_a_name_with_invisible_or_reordering_characters_is_refused(
    client: Any, session: Session, hidden: str
) -> None:
    before = _users(session)
    r = _new_user(client, session, username=hidden, roles=["operator"])
    assert r.status_code == 422, r.text
    assert "不能包含空格、控制字符或不可见字符" in r.json()["detail"]
    assert _users(session) == before


def test_names_are_stored_and_looked_up_in_their_normal_form(client: Any, session: Session) -> None:
    r = _new_user(client, session, username=" NewBie ", roles=["operator"])
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "newbie"
    for typed in ("newbie", "NEWBIE", " NewBie", "ｎｅｗｂｉｅ"):
        assert _login(client, typed, "a-long-password").status_code == 200, typed
    assert _login(client, "new\u200bbie", "a-long-password").status_code == 401


def test_normal_form_rules() -> None:
    assert normal_username("  Straße ") == "strasse"
    assert normal_username("Ｉｎｓｐｅｃｔｏｒ００１") == "inspector001"
    assert normal_username("网格员张三") == "网格员张三"
    assert lookup_key("a\u202eb") is None
    assert lookup_key("") is None
    assert lookup_key("x" * 65) is None


# --- Login refusals: the same words and the same work, account or not ---------------------------------------


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password verification a login makes (the expensive argon2 step)."""
    calls: list[str] = []
    real = service.verify_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(service, "verify_password", counting)
    return calls


def test_an_unknown_user_costs_one_password_verification(
    client: Any, session: Session, verifications: list[str]
) -> None:
    r = _login(client, "nobody-by-this-name", "whatever-password")
    assert r.status_code == 401
    assert r.json()["detail"] == LOGIN_FAILED
    assert len(verifications) == 1
    verifications.clear()
    r = _login(client, "operator", "wrong-password")
    assert r.json()["detail"] == LOGIN_FAILED
    assert len(verifications) == 1
    verifications.clear()
    r = _login(client, "oper\u200bator", "wrong-password")  # a name no account can have
    assert r.json()["detail"] == LOGIN_FAILED
    assert len(verifications) == 1


def test_locked_and_deactivated_accounts_answer_like_unknown_ones(
    client: Any, session: Session, verifications: list[str]
) -> None:
    unknown = _login(client, "nobody-by-this-name", PASSWORD)
    session.execute(
        update(User).where(User.username == "operator2").values(locked_until=utcnow().replace(year=2099))
    )
    session.execute(update(User).where(User.username == "dispatcher").values(active=False))
    session.flush()
    verifications.clear()
    locked = _login(client, "operator2", PASSWORD)  # the right password, but locked
    inactive = _login(client, "dispatcher", PASSWORD)
    assert len(verifications) == 2
    for r in (unknown, locked, inactive):
        assert r.status_code == 401
        assert r.json() == {**unknown.json(), "instance": "/api/v1/auth/token"}
    assert unknown.json()["detail"] == LOGIN_FAILED
    assert "锁定" in LOGIN_FAILED and LOGIN_FAILED.startswith("用户名或密码错误")


def test_the_login_page_says_the_same_for_a_locked_account(client: Any, session: Session) -> None:
    import re

    session.execute(
        update(User).where(User.username == "operator2").values(locked_until=utcnow().replace(year=2099))
    )
    session.flush()
    answers = []
    for name in ("operator2", "nobody-by-this-name"):
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page).group(1)  # type: ignore[union-attr]
        r = client.post("/login", data={"csrf_token": token, "username": name, "password": PASSWORD})
        assert r.status_code == 401
        answers.append(re.search(r'role="alert">([^<]*)<', r.text).group(1))  # type: ignore[union-attr]
    assert answers[0] == answers[1] == LOGIN_FAILED
