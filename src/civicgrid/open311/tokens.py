"""Open311 tokens: opaque, signed references to a case that has not been accepted yet. Nothing is stored:
the token carries the case id and an HMAC over it, so a token cannot be guessed or forged. Pure."""

from __future__ import annotations

import hashlib
import hmac

from civicgrid.settings import get_settings

_MARK = "T"


def _sig(case_id: int) -> str:
    secret = get_settings().secret_key.encode("utf-8")
    return hmac.new(secret, f"open311-token:{case_id}".encode(), hashlib.sha256).hexdigest()[:20]


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def make_token(case_id: int) -> str:
    return f"{_MARK}{_b36(case_id)}-{_sig(case_id)}"


def read_token(token: str) -> int | None:
    """The case id inside a genuine token, else None."""
    if not token.startswith(_MARK) or "-" not in token or len(token) > 64:
        return None
    head, sig = token[1:].split("-", 1)
    try:
        case_id = int(head, 36)
    except ValueError:
        return None
    return case_id if hmac.compare_digest(sig, _sig(case_id)) else None
