"""Who is calling: typed dependencies that turn a bearer token (or the web cookie) into a Principal.

A token is accepted while it is signed, unexpired, carries its user's current token version (bumped on a
password reset, a deactivation, a role change and "log out everywhere") and was not revoked by a logout.
The user's principal, token version and revoked token ids are cached per process (refcache.py): a change
made by this process is seen at once, one made by another process within ``reference_cache_s`` seconds.

When the web cookie (not a bearer header) would authenticate an unsafe request to ``/api/`` or ``/open311``,
the request must also carry the ``X-CSRF-Token`` header of that login, else 403 (org/csrf.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.deps import DbSession
from civicgrid.errors import Forbidden, Unauthorized
from civicgrid.models import RevokedToken, User, utcnow
from civicgrid.org.csrf import check_cookie_use
from civicgrid.org.roles import ANONYMOUS_CITIZEN, ROLE_LABELS, Principal
from civicgrid.org.tokens import TokenClaims, read_token
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
    token = request.cookies.get(COOKIE)
    if token:
        check_cookie_use(request)  # unsafe API calls by cookie need the X-CSRF-Token header (403)
    return token


@dataclass(frozen=True)
class CachedLogin:
    """What the process cache keeps per user: the principal, the current token version, and the ids of the
    user's revoked, not yet expired tokens."""

    principal: Principal
    token_version: int
    revoked: frozenset[str]


@dataclass(frozen=True)
class Login:
    """A checked token and its holder."""

    principal: Principal
    claims: TokenClaims


_principals: ProcessCache[int, CachedLogin | None] = ProcessCache(max_entries=10_000)


def _load_cached(session: Session, user_id: int) -> CachedLogin | None:
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    revoked = session.scalars(
        select(RevokedToken.jti).where(RevokedToken.user_id == user_id, RevokedToken.expires_at > utcnow())
    )
    return CachedLogin(principal_of(user), user.token_version, frozenset(revoked))


def load_login(session: Session, token: str) -> Login:
    """Check a token (signature, expiry, claims, version, revocation) and say who holds it; 401 otherwise."""
    claims = read_token(token)
    cached = _principals.get(claims.user_id, lambda: _load_cached(session, claims.user_id))
    if cached is None:
        raise Unauthorized("账号不存在或已停用")
    if claims.version != cached.token_version or claims.jti in cached.revoked:
        raise Unauthorized("登录已失效（已退出登录或密码已重置），请重新登录")
    return Login(cached.principal, claims)


def load_principal(session: Session, token: str) -> Principal:
    """Who holds this token (see ``load_login``)."""
    return load_login(session, token).principal


def optional_principal(request: Request, session: DbSession) -> Principal | None:
    token = _token(request)
    return load_principal(session, token) if token else None


def current_login(request: Request, session: DbSession) -> Login:
    token = _token(request)
    if not token:
        raise Unauthorized("请先登录")
    return load_login(session, token)


def current_principal(request: Request, session: DbSession) -> Principal:
    return current_login(request, session).principal


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
CurrentLogin = Annotated[Login, Depends(current_login)]
Reporter = Annotated[Principal, Depends(reporter_principal)]
AdminUser = Annotated[Principal, Depends(require_roles("admin"))]
StaffUser = Annotated[
    Principal,
    Depends(require_roles("operator", "shift_lead", "dispatcher", "handler", "inspector", "leader", "admin")),
]
