"""Users and departments: creation, authentication with lockout."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.errors import Conflict, InvalidInput, Unauthorized
from civicgrid.models import Department, User, UserGrid, UserRole, utcnow
from civicgrid.org.roles import user_roles
from civicgrid.security import audit
from civicgrid.security.passwords import hash_password, verify_password

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


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
    roles = list(dict.fromkeys(roles))
    allowed = user_roles()
    bad = [r for r in roles if r not in allowed]
    if not roles or bad:
        raise InvalidInput(f"角色无效：{', '.join(bad) or '（未指定）'}；可选：{', '.join(allowed)}")
    if not username or len(username) > 64:
        raise InvalidInput("用户名不能为空，且不超过 64 个字符")
    if password_hash is None and len(password) < 8:
        raise InvalidInput("密码至少 8 位")
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"用户名已存在：{username}")
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


def enable_totp(session: Session, username: str) -> str:
    """Turn on the TOTP second factor for a user; returns the provisioning URI (shown once, for the phone
    app)."""
    import pyotp

    from civicgrid.security import pii

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise InvalidInput(f"用户不存在：{username}")
    secret = pyotp.random_base32()
    user.totp_secret_enc = pii.encrypt(secret)
    audit.record(session, "totp_enabled", user_id=user.id, subject=username)
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="CivicGrid")


def _otp_ok(user: User, otp: str | None) -> bool:
    if not user.totp_secret_enc:
        return True
    import pyotp

    from civicgrid.security import pii

    secret = pii.decrypt(user.totp_secret_enc)
    return bool(secret and otp and pyotp.TOTP(secret).verify(otp.strip(), valid_window=1))


def authenticate(
    session: Session, username: str, password: str, ip: str = "", otp: str | None = None
) -> User:
    """Check a password. Failures are counted; too many lock the account for a while. The caller commits even
    on failure so that the count and the audit row are kept."""
    now = utcnow()
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and user.locked_until and user.locked_until > now:
        audit.record(session, "login_locked", user_id=user.id, subject=username, ip=ip)
        raise Unauthorized("登录失败次数过多，账号已暂时锁定，请 15 分钟后再试")
    if user is None or not user.active or not verify_password(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
        audit.record(session, "login_failed", user_id=user.id if user else None, subject=username, ip=ip)
        raise Unauthorized("用户名或密码错误")
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
    audit.record(session, "login", user_id=user.id, subject=username, ip=ip)
    return user
