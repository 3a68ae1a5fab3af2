"""Users and departments: creation, authentication with lockout, and the token version that retires every
token of a user at once (password reset, deactivation, role change, "log out everywhere")."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civicgrid.errors import Conflict, InvalidInput, NotFound, Unauthorized
from civicgrid.models import Area, Department, GridGeneration, RevokedToken, User, UserGrid, UserRole, utcnow
from civicgrid.org.roles import user_roles
from civicgrid.org.tokens import TokenClaims
from civicgrid.org.usernames import lookup_key, normal_username
from civicgrid.security import audit
from civicgrid.security.passwords import hash_password, needs_rehash, verify_password

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# One answer for every refused password: a wrong password, an unknown or deactivated account, a locked one.
# A different wording (or a quicker answer) for any of them would tell a guesser which accounts exist.
LOGIN_FAILED = "用户名或密码错误（连续输错 5 次，账号将锁定 15 分钟）"
# Levels of area an inspector may be given: a unit grid, or a whole community or street (never the district).
INSPECTOR_AREA_LEVELS = ("grid", "community", "street")


def create_user(
    session: Session,
    username: str,
    password: str,
    roles: Iterable[str],
    *,
    display_name: str = "",
    department_code: str | None = None,
    grid_codes: Iterable[str] = (),
    password_hash: str | None = None,
) -> User:
    """Create a user. ``password_hash`` lets bulk loaders hash a shared password once."""
    roles = _valid_roles(roles)
    username = normal_username(username)
    if password_hash is None and len(password) < 8:
        raise InvalidInput("密码至少 8 位")
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"用户名已存在（不区分大小写和全角半角）：{username}")
    grid_codes = valid_grid_codes(session, grid_codes)
    dept_id = None
    if department_code:
        dept = session.scalar(select(Department).where(Department.code == department_code))
        if dept is None:
            raise InvalidInput(f"未知的部门代码：{department_code}")
        dept_id = dept.id
    if "handler" in roles and dept_id is None:
        raise InvalidInput("处置人员（handler）必须指定所属部门（--department）")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=password_hash or hash_password(password),
        department_id=dept_id,
        roles=[UserRole(role=r) for r in roles],
        grids=[UserGrid(grid_code=g) for g in dict.fromkeys(grid_codes)],
    )
    session.add(user)
    session.flush()
    audit.record(session, "user_created", user_id=user.id, subject=username, data={"roles": roles})
    return user


def _valid_roles(roles: Iterable[str]) -> list[str]:
    roles = list(dict.fromkeys(roles))
    allowed = user_roles()
    bad = [r for r in roles if r not in allowed]
    if not roles or bad:
        raise InvalidInput(f"角色无效：{', '.join(bad) or '（未指定）'}；可选：{', '.join(allowed)}")
    return roles


def valid_grid_codes(session: Session, codes: Iterable[str]) -> list[str]:
    """The codes, once each, if every one names a unit grid, community or street of the active grid
    generation; ``InvalidInput`` otherwise (an empty or partial code would cover the whole district, as an
    inspector's scope is matched by code prefix)."""
    wanted = list(dict.fromkeys(str(c).strip() for c in codes))
    if not wanted:
        return []
    found = set(
        session.scalars(
            select(Area.code)
            .join(GridGeneration, GridGeneration.id == Area.generation_id)
            .where(
                GridGeneration.active.is_(True),
                Area.level.in_(INSPECTOR_AREA_LEVELS),
                Area.code.in_([c for c in wanted if c]),
            )
        )
    )
    unknown = [c for c in wanted if c not in found]
    if unknown:
        shown = "、".join(f"“{c}”" for c in unknown[:5])
        raise InvalidInput(f"未知的网格代码：{shown}；请填写现有单元网格、社区或街道的完整代码")
    return wanted


# --- Token versions: every token of a user refused at once -----------------------------------------------


def revoke_all_tokens(user: User) -> None:
    """Refuse every token issued to ``user`` so far (they carry the old token version). Called on a password
    reset, a deactivation (and reactivation), a role change and "log out everywhere"; the caller commits."""
    user.token_version = (user.token_version or 0) + 1


def reset_password(user: User, password: str) -> None:
    """Set a new password: the account is unlocked and every existing login ends."""
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    revoke_all_tokens(user)


def set_active(user: User, active: bool) -> None:
    """Deactivate or reactivate an account; either way its existing tokens stay refused."""
    if user.active != active:
        user.active = active
        revoke_all_tokens(user)


def set_roles(session: Session, user: User, roles: Iterable[str]) -> None:
    """Replace the roles of a user; the tokens issued under the old roles are refused."""
    wanted = _valid_roles(roles)
    if "handler" in wanted and user.department_id is None:
        raise InvalidInput("处置人员（handler）必须指定所属部门（--department）")
    if set(wanted) != set(user.role_names):
        user.roles = [UserRole(role=r) for r in wanted]
        revoke_all_tokens(user)
        audit.record(session, "user_roles", user_id=user.id, subject=user.username, data={"roles": wanted})


def set_grids(session: Session, user: User, codes: Iterable[str]) -> None:
    """Replace the grids (or whole communities/streets) an inspector covers; existing tokens are refused, as
    their cached reach is the old one."""
    wanted = valid_grid_codes(session, codes)
    if set(wanted) != set(user.grid_codes):
        user.grids = [UserGrid(grid_code=g) for g in wanted]
        revoke_all_tokens(user)


def user_by_id(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户不存在：{user_id}")
    return user


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def revoke_token(session: Session, claims: TokenClaims) -> None:
    """Refuse this one token from now on (a logout); rows of tokens already expired are swept meanwhile."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= utcnow()))
    if session.get(RevokedToken, claims.jti) is None:
        session.add(RevokedToken(jti=claims.jti, user_id=claims.user_id, expires_at=claims.expires_at))
    session.flush()


def log_out_everywhere(session: Session, user_id: int, ip: str = "") -> None:
    """End every login of this user, on every device (the current one too)."""
    user = session.get(User, user_id)
    if user is None:
        raise InvalidInput(f"用户不存在：{user_id}")
    revoke_all_tokens(user)
    audit.record(session, "logout_all", user_id=user.id, subject=user.username, ip=ip)
    session.flush()


def enable_totp(session: Session, username: str) -> str:
    """Turn on the TOTP second factor for a user; returns the provisioning URI (shown once, for the phone
    app)."""
    import pyotp

    from civicgrid.security import pii

    user = find_user(session, username)
    if user is None:
        raise InvalidInput(f"用户不存在：{username}")
    secret = pyotp.random_base32()
    user.totp_secret_enc = pii.encrypt(secret)
    audit.record(session, "totp_enabled", user_id=user.id, subject=username)
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="CivicGrid")


def find_user(session: Session, username: str) -> User | None:
    """The account a login name designates (compared in its normal form, see org/usernames.py)."""
    key = lookup_key(username)
    return session.scalar(select(User).where(User.username == key)) if key else None


@cache
def _stand_in_hash() -> str:
    # A hash of a random password with the current parameters: verifying against it costs what a real one
    # does, and no password matches it.
    return hash_password(secrets.token_urlsafe(24))


def check_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is the user's; for no user (an unknown name) the same work is done and the
    answer is no."""
    if user is None:
        verify_password(_stand_in_hash(), password)
        return False
    return verify_password(user.password_hash, password)


@dataclass(frozen=True)
class PasswordCheck:
    """A password verified before the write that records the login (argon2 is slow, and must not run while
    SQLite's write turn is held): the stored hash it was checked against, the answer, and — when the stored
    hash was made with older parameters — its replacement, hashed here too."""

    password_hash: str | None
    ok: bool
    rehash: str | None = None


def verify_login(session: Session, username: str, password: str) -> PasswordCheck:
    """The slow half of a login, reading only: whether ``password`` is the account's (see check_password)."""
    user = find_user(session, username)
    ok = check_password(user, password)
    rehash = hash_password(password) if user and ok and needs_rehash(user.password_hash) else None
    return PasswordCheck(user.password_hash if user else None, ok, rehash)


def _password_ok(user: User | None, password: str, checked: PasswordCheck | None) -> bool:
    if checked is not None and checked.password_hash == (user.password_hash if user else None):
        return checked.ok
    return check_password(user, password)  # not checked before, or the password changed in between


def _otp_ok(user: User, otp: str | None) -> bool:
    if not user.totp_secret_enc:
        return True
    import pyotp

    from civicgrid.security import pii

    secret = pii.decrypt(user.totp_secret_enc)
    return bool(secret and otp and pyotp.TOTP(secret).verify(otp.strip(), valid_window=1))


def authenticate(
    session: Session,
    username: str,
    password: str,
    ip: str = "",
    otp: str | None = None,
    *,
    checked: PasswordCheck | None = None,
) -> User:
    """Check a password. Failures are counted; too many lock the account for a while. The caller commits even
    on failure so that the count and the audit row are kept.

    Every refusal — unknown name, deactivated or locked account, wrong password — costs one password
    verification and gives the same answer (``LOGIN_FAILED``), so neither the time nor the text tells which
    accounts exist. ``checked``: the password already verified by ``verify_login`` (outside the write).
    """
    now = utcnow()
    user = find_user(session, username)
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    password_ok = _password_ok(user, password, checked)
    if user is None or locked or not user.active or not password_ok:
        if user is not None and not locked:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
        kind = "login_locked" if locked else "login_failed"
        audit.record(session, kind, user_id=user.id if user else None, subject=username, ip=ip)
        raise Unauthorized(LOGIN_FAILED)
    if not _otp_ok(user, otp):
        user.failed_logins += 1
        audit.record(
            session, "login_failed", user_id=user.id, subject=username, ip=ip, data={"reason": "otp"}
        )
        raise Unauthorized(
            "请输入正确的动态口令（TOTP）" if otp else "该账号已启用动态口令：请输入手机上的 6 位动态口令"
        )
    user.failed_logins = 0
    user.locked_until = None
    if checked is not None and checked.rehash and checked.password_hash == user.password_hash:
        user.password_hash = checked.rehash  # today's parameters, hashed outside the write
    audit.record(session, "login", user_id=user.id, subject=username, ip=ip)
    return user


def active_departments(session: Session) -> list[Department]:
    """Departments that may take cases: professional departments first, then street offices, by code."""
    q = select(Department).where(Department.active.is_(True)).order_by(Department.kind, Department.code)
    return list(session.scalars(q))
