"""Message authentication for the audit chains: the link algorithms (legacy plain SHA-256, HMAC-SHA256 and
HMAC-SM3 for 国密 installations) and the audit key, which lives in the environment and never in the database.

Pure: no database, no web. ``audit_key`` reads the settings only to pick or derive the key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from functools import lru_cache

from civicgrid.settings import get_settings

log = logging.getLogger("civicgrid.audit")

LEGACY = "sha256"  # links written before migration 0007: plain SHA-256, forgeable by anyone with the database
KEYED = ("hmac-sha256", "hmac-sm3")
ALGORITHMS = (LEGACY, *KEYED)
_DIGEST = {"hmac-sha256": "sha256", "hmac-sm3": "sm3"}


def sm3_available() -> bool:
    return "sm3" in hashlib.algorithms_available


def mac(alg: str, key: bytes, message: str) -> str:
    """The hex MAC of ``message`` under ``alg`` (a keyed algorithm); 64 hex characters for both."""
    return hmac.new(key, message.encode(), _DIGEST[alg]).hexdigest()


def legacy_digest(message: str) -> str:
    return hashlib.sha256(message.encode()).hexdigest()


def equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@lru_cache
def _key(audit_key: str, secret_key: str) -> bytes:
    if audit_key:
        return audit_key.encode()
    log.warning(
        "未设置 CIVICGRID_AUDIT_KEY：审计链密钥由 CIVICGRID_SECRET_KEY 派生，仅适用于开发与测试；"
        "生产环境必须单独设置并妥善保管（不得存入数据库）"
    )
    return hashlib.sha256(("civicgrid-audit-key:" + secret_key).encode()).digest()


def audit_key() -> bytes:
    """The key of the audit MACs: ``CIVICGRID_AUDIT_KEY``, or (development and test only; production refuses
    to start without one) a key derived from the secret key, with a warning in the log."""
    s = get_settings()
    return _key(s.audit_key, s.secret_key)


def key_is_derived() -> bool:
    return not get_settings().audit_key


def current_alg() -> str:
    return get_settings().audit_mac
