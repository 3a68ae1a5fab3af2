"""Password hashing with argon2id.

The parameters are OWASP's argon2id configuration (19 MiB, 2 passes, 1 lane): about 60 ms of one core per
hash here. argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes) cost ~300 ms of CPU, so five logins at once
kept a two-core server busy for 1.5 s (issue 11: a burst of staff actions must each be answered in ≤ 2 s).
Guessing stays slow where it matters: a login is limited per account (org/service.py locks after five
failures). A hash made with other parameters still verifies, and is replaced on the next good login.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's (it is replaced on a good login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
