"""API keys for Open311 clients. A key is 32 random bytes shown once; only its SHA-256 is stored, with a short
prefix for lookup. Revoked keys stop working at once; each use updates ``last_used_at``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.errors import InvalidInput, NotFound
from civicgrid.models import ApiClient, utcnow

KEY_MARK = "cg311_"
PREFIX_LEN = 8


@dataclass(frozen=True)
class NewKey:
    client_id: int
    name: str
    key: str  # shown once, never stored


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, department_code: str | None = None) -> NewKey:
    """A new client key. With ``department_code`` the client is that department's work-order system: its
    status updates act on the department's cases (签收、反馈、回退) as the department's handler."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("客户端名称不能为空，且不超过 100 字")
    department_id = None
    if department_code:
        from civicgrid.models import Department

        dept = session.scalar(select(Department).where(Department.code == department_code))
        if dept is None:
            raise InvalidInput(f"未知的部门代码：{department_code}")
        department_id = dept.id
    secret = secrets.token_urlsafe(32)
    key = KEY_MARK + secret
    client = ApiClient(
        name=name,
        key_prefix=secret[:PREFIX_LEN],
        key_hash=_hash(key),
        created_at=utcnow(),
        department_id=department_id,
    )
    session.add(client)
    session.flush()
    return NewKey(client.id, name, key)


def list_keys(session: Session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).order_by(ApiClient.id)))


def revoke_key(session: Session, client_id: int, now: datetime | None = None) -> ApiClient:
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(f"API 客户端不存在：{client_id}")
    if client.revoked_at is None:
        client.revoked_at = now or utcnow()
        session.flush()
    return client


def authenticate(session: Session, key: str | None, now: datetime | None = None) -> ApiClient | None:
    """The active client holding ``key`` (its last use recorded), or None."""
    if not key or not key.startswith(KEY_MARK) or len(key) < len(KEY_MARK) + PREFIX_LEN:
        return None
    prefix = key[len(KEY_MARK) : len(KEY_MARK) + PREFIX_LEN]
    digest = _hash(key)
    rows = session.scalars(
        select(ApiClient).where(ApiClient.key_prefix == prefix, ApiClient.revoked_at.is_(None))
    )
    for client in rows:
        if hmac.compare_digest(client.key_hash, digest):
            client.last_used_at = now or utcnow()
            return client
    return None
