"""Personal information at rest (PIPL): encryption with rotatable keys, keyed hashes for matching, masking."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from civicgrid.settings import get_settings


def _derive_key(material: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(("civicgrid-pii:" + material).encode()).digest())


@lru_cache
def _fernet(pii_keys: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in pii_keys.split(",") if k.strip()] or [secret_key]
    return MultiFernet([Fernet(_derive_key(k)) for k in keys])


def _current() -> MultiFernet:
    s = get_settings()
    return _fernet(s.pii_keys, s.secret_key)


def encrypt(value: str | None) -> str | None:
    if not value:
        return None
    return _current().encrypt(value.encode()).decode()


def decrypt(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def rotate(token: str | None) -> str | None:
    """Re-encrypt with the first (newest) key."""
    if not token:
        return None
    return _current().rotate(token.encode()).decode()


def keyed_hash(value: str) -> str:
    """HMAC of a normalised value, so the same phone can be matched without storing it in clear."""
    normalised = "".join(ch for ch in value if ch.isdigit()) or value.strip()
    return hmac.new(get_settings().secret_key.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return digits[:1] + "*" * (len(digits) - 1)


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
