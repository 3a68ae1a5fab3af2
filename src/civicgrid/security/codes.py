"""Anonymous tracking codes (查询码): issue them, and decide whether a typed code opens a case.

An anonymous reporter gets a code once, with the case number; together they let anyone holding them follow the
case and rate it. So the code is a bearer secret and is treated like one:

- **Issue.** 10 characters from a 31-character alphabet without look-alikes (no 0/O, 1/I/L), drawn with
  ``secrets``: 10 · log2(31) ≈ 49.5 bits. Shown grouped as ``K7QHM-3ZPX9``.
- **Normalise.** What a person types is accepted in lower case, with spaces or dashes and in full-width forms
  (NFKC); nothing else is forgiven — every other character must be the code's own, in its place.
- **Store.** ``v2$`` + HMAC-SHA256 of the normalised code, under a key used for nothing else: the setting
  ``tracking_code_key`` or, when empty, a key derived from ``secret_key`` for this purpose only (so it is
  separate from the phone-hash key even though both start from the same secret). Compared in constant time.
- **Legacy codes.** Before revision ``0005_tracking_codes`` a code was 6 hex digits (24 bits) and its stored
  digest went through the phone normaliser, which kept only the digits: the digest of ``CC7E77`` was the
  digest of ``777``. Digests cannot be re-hashed into the new scheme without the codes, so the migration
  *wraps* each old digest: ``v1$`` + HMAC(code key, ``legacy:`` + old digest). A legacy case opens only when
  the input is exactly a 6-hex-digit code whose old digest matches — ``777`` or a 10-character code never
  does — and it is throttled like any other. The information the old digest threw away cannot be recovered:
  a legacy case still opens for every 6-hex code with the same digits; the throttle (see
  ``cases/tracking.py``) is what makes guessing that hopeless. New cases are never given a legacy code.

``opens(stored, typed)`` is the one answer to "does this code open this case", used by the JSON API, the web
pages and the ``rate`` action.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import unicodedata

from civicgrid.settings import get_settings

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 characters: no 0/O, 1/I/L
LENGTH = 10
GROUP = 5
BITS = LENGTH * math.log2(len(ALPHABET))  # ≈ 49.5
NEW_PREFIX = "v2$"
LEGACY_PREFIX = "v1$"

_SEPARATORS = re.compile(r"[\s\-_.·—–]+")
_NEW_FORM = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
_LEGACY_FORM = re.compile(r"[0-9A-F]{6}")


def issue() -> str:
    """A fresh code in its display form, e.g. ``K7QHM-3ZPX9``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return raw[:GROUP] + "-" + raw[GROUP:]


def normalise(typed: str | None) -> str:
    """The code a person meant: full-width folded, separators dropped, upper case. Nothing else changes."""
    if not typed:
        return ""
    folded = unicodedata.normalize("NFKC", typed)
    return _SEPARATORS.sub("", folded).upper()


def _key() -> bytes:
    s = get_settings()
    if s.tracking_code_key:
        return s.tracking_code_key.encode()
    return hmac.new(s.secret_key.encode(), b"civicgrid-tracking-code-key-v2", hashlib.sha256).digest()


def _mac(message: str) -> str:
    return hmac.new(_key(), message.encode(), hashlib.sha256).hexdigest()


def digest(code: str) -> str:
    """What is stored for a newly issued code."""
    normal = normalise(code)
    if not _NEW_FORM.fullmatch(normal):
        raise ValueError("not a tracking code of the current format")
    return NEW_PREFIX + _mac("code:" + normal)


def legacy_digest(code: str) -> str:
    """The digest a pre-0005 code was stored under (a frozen copy of the old ``pii.keyed_hash("q:" + code)``:
    HMAC-SHA256 under ``secret_key`` of the digits, or of the whole text when it had none)."""
    value = "q:" + code
    normal = "".join(ch for ch in value if ch.isdigit()) or value.strip()
    return hmac.new(get_settings().secret_key.encode(), normal.encode(), hashlib.sha256).hexdigest()


def wrap_legacy(old_digest: str) -> str:
    """The stored form of a pre-0005 digest (used by the migration)."""
    return LEGACY_PREFIX + _mac("legacy:" + old_digest)


def is_wrapped(stored: str | None) -> bool:
    return bool(stored) and str(stored).startswith((NEW_PREFIX, LEGACY_PREFIX))


def opens(stored: str | None, typed: str | None) -> bool:
    """Whether ``typed`` is exactly the code whose digest is ``stored`` (constant-time comparison)."""
    code = normalise(typed)
    if not stored or not code:
        return False
    if stored.startswith(NEW_PREFIX) and _NEW_FORM.fullmatch(code):
        candidate = NEW_PREFIX + _mac("code:" + code)
    elif stored.startswith(LEGACY_PREFIX) and _LEGACY_FORM.fullmatch(code):
        candidate = wrap_legacy(legacy_digest(code))
    else:
        return False
    return hmac.compare_digest(stored.encode(), candidate.encode())
