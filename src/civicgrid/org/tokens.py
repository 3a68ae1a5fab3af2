"""Bearer tokens (signed JWT, expiring) for the API and the web session cookie."""

from __future__ import annotations

from datetime import timedelta

import jwt

from civicgrid.errors import Unauthorized
from civicgrid.models import utcnow
from civicgrid.settings import get_settings

ALGORITHM = "HS256"


def issue_token(user_id: int, minutes: int | None = None) -> tuple[str, int]:
    s = get_settings()
    ttl = minutes or s.token_minutes
    now = utcnow()
    payload = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=ttl), "typ": "access"}
    return jwt.encode(payload, s.secret_key, algorithm=ALGORITHM), ttl * 60


def read_token(token: str) -> int:
    try:
        payload = jwt.decode(token, get_settings().secret_key, algorithms=[ALGORITHM])
        return int(payload["sub"])
    except jwt.ExpiredSignatureError:
        raise Unauthorized("登录已过期，请重新登录") from None
    except (jwt.InvalidTokenError, KeyError, ValueError):
        raise Unauthorized("登录凭证无效，请重新登录") from None
