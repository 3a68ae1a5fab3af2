"""Who is calling: typed dependencies that turn a bearer token (or the web cookie) into a Principal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from civicgrid.deps import DbSession
from civicgrid.errors import Forbidden, Unauthorized
from civicgrid.models import User
from civicgrid.org.roles import ANONYMOUS_CITIZEN, ROLE_LABELS, Principal
from civicgrid.org.tokens import read_token
from civicgrid.refcache import ProcessCache

COOKIE = "civicgrid_token"


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=user.role_names,
        department_id=user.department_id,
        grid_codes=user.grid_codes,
    )


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


_principals: ProcessCache[int, Principal | None] = ProcessCache(max_entries=10_000)


def load_principal(session: Session, token: str) -> Principal:
    """Who holds this token. The token is checked on every call; the user's roles and scope come from the
    process cache (see refcache.py): a deactivation or role change reaches other workers within seconds."""
    user_id = read_token(token)

    def load() -> Principal | None:
        user = session.get(User, user_id)
        return principal_of(user) if user is not None and user.active else None

    principal = _principals.get(user_id, load)
    if principal is None:
        raise Unauthorized("账号不存在或已停用")
    return principal


def optional_principal(request: Request, session: DbSession) -> Principal | None:
    token = _token(request)
    return load_principal(session, token) if token else None


def current_principal(request: Request, session: DbSession) -> Principal:
    token = _token(request)
    if not token:
        raise Unauthorized("请先登录")
    return load_principal(session, token)


def reporter_principal(p: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    """Reports may be anonymous: a citizen without an account is still welcome."""
    return p or ANONYMOUS_CITIZEN


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    wanted = frozenset(roles)

    def dep(p: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not p.has_any(wanted):
            names = "、".join(ROLE_LABELS[r] for r in roles)
            raise Forbidden(f"需要以下角色之一：{names}")
        return p

    return dep


CurrentUser = Annotated[Principal, Depends(current_principal)]
Reporter = Annotated[Principal, Depends(reporter_principal)]
AdminUser = Annotated[Principal, Depends(require_roles("admin"))]
StaffUser = Annotated[
    Principal,
    Depends(require_roles("operator", "shift_lead", "dispatcher", "handler", "inspector", "leader", "admin")),
]
