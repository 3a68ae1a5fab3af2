"""Idempotent submissions: a retried POST with the same ``Idempotency-Key`` gets the first answer, never a
second case.

The key is claimed *before* the work, inside the same transaction: a concurrent retry waits on the unique
index until the first commits (PostgreSQL) or on the write lock (SQLite), then finds the stored answer.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicgrid.errors import Conflict, InvalidInput
from civicgrid.models import IdempotencyKey

PENDING = 0


def body_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not (1 <= len(key) <= 128) or not key.isprintable():
        raise InvalidInput("Idempotency-Key 应为 1–128 个可打印字符")
    return key


def claim(session: Session, scope: str, key: str, digest: str | None) -> IdempotencyKey | None:
    """Claim ``key`` for this request. Returns the stored answer of an earlier request with the same key, or
    None when this request should do the work (and later call ``remember``)."""
    existing = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )
    if existing is None:
        try:
            with session.begin_nested():
                session.add(
                    IdempotencyKey(
                        scope=scope, key=key, request_hash=digest or "", status=PENDING, response={}
                    )
                )
            return None
        except IntegrityError:
            existing = session.scalar(
                select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
            )
            if existing is None:  # pragma: no cover - the winner rolled back; the client retries
                raise Conflict("相同 Idempotency-Key 的请求正在处理，请稍后重试") from None
    if digest and existing.request_hash and existing.request_hash != digest:
        raise InvalidInput("同一个 Idempotency-Key 已用于内容不同的请求，请换一个 Key")
    if existing.status == PENDING:
        raise Conflict("相同 Idempotency-Key 的请求正在处理，请稍后重试")
    return existing


def remember(session: Session, scope: str, key: str, status: int, response: dict[str, Any]) -> None:
    row = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )
    if row is not None:
        row.status = status
        row.response = response
