"""Bearer tokens (signed JWT, expiring) for the API and the web session cookie.

Every token carries ``sub`` (the user id), ``iat``, ``exp``, ``jti`` (its own random id, so that a logout
can revoke exactly this token), ``typ`` (``access``) and ``ver`` (the user's token version when it was
issued: bumping ``users.token_version`` refuses every older token). A token lacking any of them is refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from civicgrid.errors import Unauthorized
from civicgrid.models import utcnow
from civicgrid.settings import get_settings

ALGORITHM = "HS256"
ACCESS = "access"
REQUIRED_CLAIMS = ("sub", "iat", "exp", "jti", "typ", "ver")


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    jti: str
    version: int
    expires_at: datetime


def issue_token(user_id: int, minutes: int | None = None, *, version: int = 0) -> tuple[str, int]:
    """A new access token for ``user_id`` at token version ``version`` (``User.token_version``), and its
    lifetime in seconds."""
    s = get_settings()
    ttl = minutes or s.token_minutes
    now = utcnow()
    payload = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + timedelta(minutes=ttl),
        "jti": secrets.token_urlsafe(16),
        "typ": ACCESS,
        "ver": version,
    }
    return jwt.encode(payload, s.secret_key, algorithm=ALGORITHM), ttl * 60


def _decode(token: str, *, verify_exp: bool = True) -> dict[str, object]:
    payload: dict[str, object] = jwt.decode(
        token,
        get_settings().secret_key,
        algorithms=[ALGORITHM],
        options={"require": list(REQUIRED_CLAIMS), "verify_exp": verify_exp},
    )
    return payload


def _claims(payload: dict[str, object]) -> TokenClaims:
    sub, jti, typ, ver, exp = (payload.get(k) for k in ("sub", "jti", "typ", "ver", "exp"))
    if typ != ACCESS or not isinstance(jti, str) or not jti or len(jti) > 64:
        raise ValueError("not an access token")
    if not isinstance(ver, int) or isinstance(ver, bool) or not isinstance(exp, int | float):
        raise ValueError("bad claims")
    return TokenClaims(int(str(sub)), jti, ver, datetime.fromtimestamp(exp, UTC))


def read_token(token: str) -> TokenClaims:
    """The claims of a valid, unexpired access token; ``Unauthorized`` (401) otherwise. Whether the token was
    revoked or its version is stale is checked by ``org.auth.load_principal``."""
    try:
        return _claims(_decode(token))
    except jwt.ExpiredSignatureError:
        raise Unauthorized("登录已过期，请重新登录") from None
    except (jwt.InvalidTokenError, KeyError, ValueError, TypeError, OverflowError):
        raise Unauthorized("登录凭证无效，请重新登录") from None


def login_binding(token: str | None) -> str:
    """The ``jti`` of a token signed by us (expired or not), or "" — what CSRF tokens are bound to, so that a
    CSRF token of one login is refused with another (org/csrf.py)."""
    if not token:
        return ""
    try:
        return _claims(_decode(token, verify_exp=False)).jti
    except (jwt.InvalidTokenError, KeyError, ValueError, TypeError, OverflowError):
        return ""
