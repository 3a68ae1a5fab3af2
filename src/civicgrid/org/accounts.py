"""What an administrator does to accounts: create, change roles and grids, (de)activate, reset the password.
Each change is a security event naming the administrator and ends the account's existing logins where its
reach changes (``service.revoke_all_tokens``); the caller commits."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy.orm import Session

from civicgrid.errors import InvalidInput
from civicgrid.models import User
from civicgrid.org import departments, service
from civicgrid.security.audit import Actor, record_admin


def create(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    roles: list[str],
    display_name: str = "",
    department_code: str | None = None,
    grid_codes: Iterable[str] = (),
) -> User:
    grids = list(grid_codes)
    user = service.create_user(
        session,
        username,
        password,
        roles,
        display_name=display_name,
        department_code=department_code,
        grid_codes=grids,
    )
    record_admin(session, actor, "user_create", user.username, roles=roles, grids=len(grids))
    return user


def change_access(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    roles: list[str] | None = None,
    grid_codes: Iterable[str] | None = None,
    department_code: str | None = None,
) -> User:
    """Change what an existing account may do and where: its roles, its grids, its department (each only when
    given). Nothing is changed when any part is refused."""
    user = service.user_by_id(session, user_id)
    before = {
        "roles": sorted(user.role_names),
        "grids": sorted(user.grid_codes),
        "department": user.department_id,
    }
    if department_code is not None:
        user.department_id = departments.by_code(session, department_code).id if department_code else None
    if roles is not None:
        if user.id == actor.user_id and "admin" not in roles:
            raise InvalidInput("不能取消自己的管理员角色")
        service.set_roles(session, user, roles)
    if "handler" in user.role_names and user.department_id is None:
        raise InvalidInput("处置人员（handler）必须指定所属部门")
    if grid_codes is not None:
        service.set_grids(session, user, grid_codes)
    after = {
        "roles": sorted(user.role_names),
        "grids": sorted(user.grid_codes),
        "department": user.department_id,
    }
    if after != before:
        service.revoke_all_tokens(user)
        record_admin(session, actor, "user_access", user.username, before=before, after=after)
    return user


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    user = service.user_by_id(session, user_id)
    if not active and user.id == actor.user_id:
        raise InvalidInput("不能停用自己的账号")
    service.set_active(user, active)  # and its existing tokens are refused
    record_admin(session, actor, "user_active", user.username, active=active)
    return user


def reset_password(session: Session, actor: Actor, user_id: int) -> tuple[User, str]:
    """A random temporary password, returned once (never stored in clear); every login of the account ends."""
    user = service.user_by_id(session, user_id)
    temporary = secrets.token_urlsafe(9)
    service.reset_password(user, temporary)
    record_admin(session, actor, "user_password_reset", user.username)
    return user, temporary
