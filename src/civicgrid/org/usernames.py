"""Usernames have one normal form, used to store them and to look them up at login.

"Operator", " operator" and "ｏｐｅｒａｔｏｒ" (full width) are all "operator": Unicode NFKC, trimmed,
case-folded.
Names holding characters a reader cannot see or that reorder the text (control, format — bidi overrides,
zero-width joiners —, private-use, unassigned characters, and any inner whitespace) are refused, so that two
accounts never look alike on screen. Pure logic: no database, no web.
"""

from __future__ import annotations

import unicodedata

from civicgrid.errors import InvalidInput

MAX_LENGTH = 64
# Unicode categories refused anywhere in a name: controls, format characters (bidi, zero-width), surrogates,
# private use, unassigned, and every kind of separator (spaces, line and paragraph separators).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
# Letters and symbols that render as blank space although their category says otherwise.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u034f")


def _fold(name: str) -> str:
    # NFKC after case folding too: folding may produce text that is no longer normalised.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).strip().casefold())


def _bad_character(name: str) -> str | None:
    for ch in name:
        if ch in _INVISIBLE or unicodedata.category(ch) in _REFUSED_CATEGORIES or ch.isspace():
            return ch
    return None


def normal_username(raw: str) -> str:
    """The normal form of a new username; ``InvalidInput`` (422, in Chinese) when it is empty, too long, or
    holds an invisible or reordering character."""
    name = _fold(raw)
    if not name:
        raise InvalidInput("用户名不能为空")
    if len(name) > MAX_LENGTH:
        raise InvalidInput(f"用户名不能超过 {MAX_LENGTH} 个字符")
    bad = _bad_character(name)
    if bad is not None:
        raise InvalidInput(
            f"用户名不能包含空格、控制字符或不可见字符（发现 U+{ord(bad):04X}），"
            "请只使用字母、数字、汉字和 _ - ."
        )
    return name


def lookup_key(raw: str) -> str | None:
    """The normal form to look a login up by, or ``None`` when no account can have this name."""
    try:
        return normal_username(raw)
    except InvalidInput:
        return None
