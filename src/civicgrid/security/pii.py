"""Personal information at rest (PIPL): encryption with rotatable keys, keyed hashes for matching, masking.

Two ciphers (``CIVICGRID_PII_CIPHER``): Fernet (AES-128-CBC with HMAC-SHA256) and SM4-GCM (国密, for systems
assessed under GB/T 39786-2021; SM4 in GCM mode from OpenSSL through ``cryptography``). A ciphertext names its
cipher and key — ``fernet:<key id>:<Fernet token>`` or ``sm4gcm:<key id>:<base64url(nonce‖ciphertext‖tag)>``,
the header being authenticated as associated data — so rows of both kinds and of old and new keys decrypt side
by side while ``civicgrid pii rotate`` re-encrypts them. Bare Fernet tokens (written before the header
existed) still decrypt with any listed key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from civicgrid.errors import AppError
from civicgrid.settings import get_settings

CIPHERS = {"fernet": "fernet", "sm4-gcm": "sm4gcm"}  # setting → tag in the ciphertext
NONCE_BYTES = 12
TAG_BYTES = 16


class UndecryptableError(AppError):
    """A ciphertext that none of the configured keys opens (its key was dropped too early)."""

    def __init__(self) -> None:
        super().__init__(
            "无法解密个人信息：缺少加密它的密钥（请把旧密钥保留在 CIVICGRID_PII_KEYS 中）", status=500
        )


def _derive_key(material: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(("civicgrid-pii:" + material).encode()).digest())


def _sm4_key(material: str) -> bytes:
    return hashlib.new("sm3", ("civicgrid-pii-sm4:" + material).encode()).digest()[:16]


def _key_id(material: str) -> str:
    return hashlib.sha256(("civicgrid-pii-kid:" + material).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class _Key:
    kid: str
    fernet: Fernet
    sm4: bytes


@dataclass(frozen=True)
class _Keyring:
    keys: tuple[_Key, ...]  # the first encrypts
    legacy: MultiFernet

    def find(self, kid: str) -> _Key | None:
        return next((k for k in self.keys if k.kid == kid), None)


@lru_cache
def _keyring(pii_keys: str, secret_key: str) -> _Keyring:
    materials = [k.strip() for k in pii_keys.split(",") if k.strip()] or [secret_key]
    keys = tuple(_Key(_key_id(m), Fernet(_derive_key(m)), _sm4_key(m)) for m in materials)
    return _Keyring(keys, MultiFernet([k.fernet for k in keys]))


def _current() -> tuple[_Keyring, str]:
    s = get_settings()
    return _keyring(s.pii_keys, s.secret_key), CIPHERS[s.pii_cipher]


def _sm4_encrypt(key: bytes, header: str, plaintext: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(header.encode())
    body = enc.update(plaintext) + enc.finalize()
    return base64.urlsafe_b64encode(nonce + body + enc.tag).decode()


def _sm4_decrypt(key: bytes, header: str, data: str) -> bytes:
    raw = base64.urlsafe_b64decode(data.encode())
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise ValueError("short ciphertext")
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(header.encode())
    return dec.update(body) + dec.finalize()


def _encrypt_with(key: _Key, cipher: str, value: str) -> str:
    header = f"{cipher}:{key.kid}"
    if cipher == "sm4gcm":
        return f"{header}:{_sm4_encrypt(key.sm4, header, value.encode())}"
    return f"{header}:{key.fernet.encrypt(value.encode()).decode()}"


def _open(token: str) -> str:
    """The plaintext of ``token``; raises UndecryptableError."""
    ring, _ = _current()
    try:
        if ":" not in token:  # a bare Fernet token from before the header
            return ring.legacy.decrypt(token.encode()).decode()
        cipher, kid, data = token.split(":", 2)
        key = ring.find(kid)
        if key is None:
            raise UndecryptableError
        if cipher == "sm4gcm":
            return _sm4_decrypt(key.sm4, f"{cipher}:{kid}", data).decode()
        if cipher == "fernet":
            return key.fernet.decrypt(data.encode()).decode()
    except (InvalidToken, InvalidTag, ValueError):
        pass
    raise UndecryptableError


def encrypt(value: str | None) -> str | None:
    if not value:
        return None
    ring, cipher = _current()
    return _encrypt_with(ring.keys[0], cipher, value)


def decrypt(token: str | None) -> str | None:
    """The plaintext, or None when there is none or no configured key opens it."""
    if not token:
        return None
    try:
        return _open(token)
    except UndecryptableError:
        return None


def is_current(token: str) -> bool:
    """Encrypted with the configured cipher under the first (newest) key."""
    ring, cipher = _current()
    return token.startswith(f"{cipher}:{ring.keys[0].kid}:")


def rotate(token: str | None) -> str | None:
    """Re-encrypt with the configured cipher and the first (newest) key; a token already so encrypted is kept.
    Raises UndecryptableError rather than lose a value that no key opens."""
    if not token:
        return None
    if is_current(token):
        return token
    ring, cipher = _current()
    return _encrypt_with(ring.keys[0], cipher, _open(token))


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
