"""Case search: one WHERE clause for the queue, the department's list and ``GET /api/v1/cases?q=``.

A query matches a case when it is part of the case's number, address or description (a substring, Latin
letters in any case), or when it is a phone number whose keyed hash is the reporter's (the phone is stored
encrypted; only its HMAC can be matched, so a phone matches when typed in full).

The substring match is indexed (migration 0013): on SQLite by the FTS5 trigram index ``case_search``; on
PostgreSQL by a pg_trgm GIN index when the server has the extension. Either way the text itself is checked
again, so the index only narrows and never decides.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import NullType

from civicgrid.errors import InvalidInput
from civicgrid.models import Case
from civicgrid.security import pii

MIN_CHARS = 2
MAX_CHARS = 100
_PHONE = re.compile(r"^\+?[\d\s()-]{7,24}$")
_FTS = table("case_search")
_VOCAB = table("case_search_vocab", literal_column("term"))
_TOP = "\U0010ffff"  # sorts after every character: ``term < prefix + _TOP`` bounds a prefix range


def normalise(q: str | None) -> str:
    """The query as searched: trimmed, inner runs of white space made one space."""
    return " ".join((q or "").split())


def check(q: str) -> str:
    """A normalised query, or a clear error when it is too short or too long to search."""
    text = normalise(q)
    if len(text) < MIN_CHARS:
        raise InvalidInput(f"搜索词至少 {MIN_CHARS} 个字")
    if len(text) > MAX_CHARS:
        raise InvalidInput(f"搜索词最多 {MAX_CHARS} 个字，收到 {len(text)} 个字")
    return text


def phone_hash(q: str) -> str | None:
    """The keyed hash to match when the query is a whole phone number (7–20 digits), else None."""
    digits = "".join(ch for ch in q if ch.isdigit())
    return pii.keyed_hash(q) if _PHONE.match(q) and 7 <= len(digits) <= 20 else None


def matches(q: str) -> ColumnElement[bool]:
    """The clause selecting the cases that ``q`` finds (on ``Case``; combine with ``readable_cases``)."""
    text = check(q)
    found: ColumnElement[bool] = _TextMatch(text)
    digest = phone_hash(text)
    return or_(found, Case.reporter_phone_hash == digest) if digest else found


class _TextMatch(ColumnElement[bool]):
    """A substring of number, address or description; compiled per backend (see the module's doc)."""

    # Not Boolean: on SQLite a Boolean expression in WHERE is rendered "(…) = 1", which no index can serve.
    type = NullType()  # type: ignore[assignment]
    inherit_cache = False  # the clause embeds its own bound values

    def __init__(self, text: str) -> None:
        self.text = text


def _recheck(text: str, *, ilike: bool, case: Any = Case) -> ColumnElement[bool]:
    cols = (case.number, case.address, case.description)
    if ilike:
        return or_(*(c.icontains(text, autoescape=True) for c in cols))
    return or_(*(c.contains(text, autoescape=True) for c in cols))  # SQLite's LIKE ignores ASCII case


def fts_query(text: str) -> str:
    """An FTS5 query (trigram tokenizer, detail=none) that every case containing ``text`` satisfies.

    Not every trigram is needed: a few spread over the text (every third, and the last) narrow as well as
    all of them and read far fewer of the long lists that common trigrams (the ``202`` of every case
    number) have."""
    starts = sorted(set(range(0, len(text) - 2, 3)) | {len(text) - 3})
    return " AND ".join(_quoted(text[i : i + 3]) for i in starts)


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _sqlite_clause(text: str) -> ColumnElement[bool]:
    query: Any
    if len(text) >= 3:
        query = bindparam("fts_q", fts_query(text), unique=True)
    else:
        # Two characters begin a trigram wherever they occur (the indexed text ends with a space): match
        # any of the indexed trigrams that start with them.
        prefix = text.lower()
        terms = (
            select(
                func.coalesce(
                    func.group_concat(
                        literal_column("'\"'")
                        .concat(func.replace(_VOCAB.c.term, '"', '""'))
                        .concat(literal_column("'\"'")),
                        " OR ",
                    ),
                    '""',
                )
            )
            .where(_VOCAB.c.term >= prefix, _VOCAB.c.term < prefix + _TOP)
            .scalar_subquery()
        )
        query = terms
    # The subquery yields exactly the matching ids (the text re-checked inside it), so the clause is one
    # indexable "id IN (…)": SQLite drives the query from it (or from each side of an OR with the phone)
    # instead of walking every case in received order to probe it.
    found = aliased(Case, name="found")
    fts = literal_column("case_search").op("MATCH")(query)
    ids: Select[Any] = (
        select(found.id)
        .select_from(_FTS)
        .join(found, found.id == literal_column("case_search.rowid"))
        .where(fts, _recheck(text, ilike=False, case=found))
    )
    return Case.id.in_(ids)


@compiles(_TextMatch, "sqlite")
def _compile_sqlite(element: _TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    return "(" + compiler.process(_sqlite_clause(element.text), **kw) + ")"


@compiles(_TextMatch)
def _compile_default(element: _TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL: ILIKE is what the pg_trgm GIN index (gin_trgm_ops) answers.
    # Parenthesised: the clause is an OR, and must not mix with the AND of the scope around it.
    return "(" + compiler.process(_recheck(element.text, ilike=True), **kw) + ")"
