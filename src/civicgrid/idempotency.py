"""Idempotent submissions: a retried POST with the same ``Idempotency-Key`` and the same body gets the first
answer, never a second case; the same key with a different body is refused (422), never answered with
another request's answer.

Every body is reduced to a canonical digest (``json_digest``: the parsed JSON with sorted keys;
``form_digest``: the fields sorted, each file by the SHA-256 of its bytes), stored with the key and compared
on reuse. A key's scope names the route and the caller (user or API key); anonymous callers cannot be told
apart, so their scope also holds the digest: one anonymous reporter's key never reaches another's answer
(and its query code).

The key is claimed *before* the work, inside the same transaction: a concurrent retry waits on the unique
index until the first commits (PostgreSQL) or on the write lock (SQLite), then finds the stored answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicgrid.errors import Conflict, InvalidInput
from civicgrid.models import IdempotencyKey
from civicgrid.security import pii

PENDING = 0
SECRET_FIELDS = frozenset({"query_code"})  # stored encrypted (security/pii.py), never in clear text
MISMATCH = "幂等键已用于不同的请求内容，请为新的请求换一个 Idempotency-Key"


def json_digest(value: Any) -> str:
    """The digest of a parsed JSON body: key order and white space do not count."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(b"json\0" + canonical.encode("utf-8")).hexdigest()


def form_digest(fields: Iterable[tuple[str, str]], files: Iterable[tuple[str, bytes]] = ()) -> str:
    """The digest of a form or multipart body: its fields (name, value) and files (name, SHA-256 of the
    bytes), each sorted, so field order and file names do not count but every value and every byte does."""
    parts = sorted(("f", name, value) for name, value in fields)
    parts += sorted(("b", name, hashlib.sha256(data).hexdigest()) for name, data in files)
    canonical = json.dumps(parts, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(b"form\0" + canonical.encode("utf-8")).hexdigest()


def scope_of(route: str, caller: str | None, digest: str) -> str:
    """The scope of a key: the route and the caller (``user:7``, ``apikey:3``); for an anonymous caller the
    body's digest instead, since anonymous callers share no identity."""
    return f"{route}:{caller}" if caller else f"{route}:anon:{digest}"


def check_key(key: str) -> str:
    key = key.strip()
    if not (1 <= len(key) <= 128) or not key.isprintable():
        raise InvalidInput("Idempotency-Key 应为 1–128 个可打印字符")
    return key


def claim(session: Session, scope: str, key: str, digest: str) -> IdempotencyKey | None:
    """Claim ``key`` for this request. Returns the stored answer of an earlier request with the same key and
    body, or None when this request should do the work (and later call ``remember``). Raises InvalidInput
    (422) when the key was used for a different body."""
    existing = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )
    if existing is None:
        try:
            with session.begin_nested():
                session.add(
                    IdempotencyKey(scope=scope, key=key, request_hash=digest, status=PENDING, response={})
                )
            return None
        except IntegrityError:
            existing = session.scalar(
                select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
            )
            if existing is None:  # pragma: no cover - the winner rolled back; the client retries
                raise Conflict("相同 Idempotency-Key 的请求正在处理，请稍后重试") from None
    if existing.request_hash != digest:  # also a row from before digests (empty): never replay it blindly
        raise InvalidInput(MISMATCH)
    if existing.status == PENDING:
        raise Conflict("相同 Idempotency-Key 的请求正在处理，请稍后重试")
    return existing


def remember(session: Session, scope: str, key: str, status: int, response: dict[str, Any]) -> None:
    """Store the answer; its secrets (an anonymous reporter's query code) only encrypted, like the PII."""
    row = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )
    if row is not None:
        row.status = status
        row.response = {
            k: (pii.encrypt(v) if k in SECRET_FIELDS and isinstance(v, str) else v)
            for k, v in response.items()
        }


def answer(row: IdempotencyKey) -> dict[str, Any]:
    """The stored answer of ``row`` as it was first given (secrets decrypted)."""
    return {
        k: (pii.decrypt(v) if k in SECRET_FIELDS and isinstance(v, str) else v)
        for k, v in row.response.items()
    }
