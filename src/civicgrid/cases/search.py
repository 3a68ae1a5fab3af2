"""Case search: one WHERE clause for the queue, the department's list and ``GET /api/v1/cases?q=``.

A query matches a case when it is part of the case's number, address or description (a substring, Latin
letters in any case), or when it is a phone number whose keyed hash is the reporter's (the phone is stored
encrypted; only its HMAC can be matched, so a phone matches when typed in full).

The substring match is indexed (migration 0013): on SQLite by the FTS5 trigram index ``case_search``; on
PostgreSQL by a pg_trgm GIN index when the server has the extension. The text itself is checked again
where the index alone could be wrong (a longer query is several trigrams, which a case may hold apart), so
the index only narrows; a query of two or three characters without letter case is one trigram or a set of
trigrams beginning with it, which the index answers exactly, and the check is left out.

At a million cases (bench/bench_search.py) two things cost: reading every matching row to sort a broad
match (破损 finds 4 % of all cases), and counting it. Above ``WALK_FROM`` matches a list walks the cases
newest first and probes the match set instead (``matches(q, walk=True)``), and ``COUNT_CAP`` is how far a
list that shows "1000+ 件" needs to count.
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
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import NullType

from civicgrid.errors import InvalidInput
from civicgrid.models import Case
from civicgrid.security import pii

MIN_CHARS = 2
MAX_CHARS = 100
COUNT_CAP = 1000  # a list counts matches up to here and shows "1000+" beyond (web queue)
ALL_TRIGRAMS_UP_TO = 12  # characters: a query this long asks the index for each of its trigrams
WALK_FROM = 1000  # matches above which a newest-first page walks the cases instead of sorting the matches
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


def matches(q: str, *, walk: bool = False) -> ColumnElement[bool]:
    """The clause selecting the cases that ``q`` finds (on ``Case``; combine with ``readable_cases``).

    ``walk``: the same cases, but on SQLite the match set is only probed, never used to drive the query, so
    that ``ORDER BY received_at DESC LIMIT n`` walks the received-time index and stops after n (for a
    query with many matches; for a rare one this would read every case)."""
    text = check(q)
    found: ColumnElement[bool] = _TextMatch(text, walk=walk)
    digest = phone_hash(text)
    return or_(found, Case.reporter_phone_hash == digest) if digest else found


def exact_in_index(text: str) -> bool:
    """Does the SQLite index alone decide ``text`` (no re-check of the text needed)?

    Two or three characters are one trigram (or, for two, the trigrams beginning with them, every position
    of address and description beginning one): a case holds them exactly when the index says so. Only for
    characters without letter case, as the index folds case the Unicode way and ``LIKE`` only for ASCII."""
    return len(text) <= 3 and all(ch.lower() == ch.upper() for ch in text)


class _TextMatch(ColumnElement[bool]):
    """A substring of number, address or description; compiled per backend (see the module's doc)."""

    # Not Boolean: on SQLite a Boolean expression in WHERE is rendered "(…) = 1", which no index can serve.
    type = NullType()  # type: ignore[assignment]
    inherit_cache = False  # the clause embeds its own bound values

    def __init__(self, text: str, *, walk: bool = False) -> None:
        self.text = text
        self.walk = walk


def _recheck(text: str, *, ilike: bool, case: Any = Case) -> ColumnElement[bool]:
    cols = (case.number, case.address, case.description)
    if ilike:
        return or_(*(c.icontains(text, autoescape=True) for c in cols))
    return or_(*(c.contains(text, autoescape=True) for c in cols))  # SQLite's LIKE ignores ASCII case


def fts_query(text: str) -> str:
    """An FTS5 query (trigram tokenizer, detail=none) that every case containing ``text`` satisfies.

    Up to ``ALL_TRIGRAMS_UP_TO`` characters every trigram is asked for: digits share trigrams across case
    numbers, and every third one alone leaves many cases that hold them apart, each read to be re-checked
    (0601202 at 1 M cases: 20,599 such candidates with every third, 1,067 with all; the lists read cost
    no more). A longer text asks for a few spread over it (every third, and the last), which narrow as well
    and read fewer lists."""
    step = 1 if len(text) <= ALL_TRIGRAMS_UP_TO else 3
    starts = sorted(set(range(0, len(text) - 2, step)) | {len(text) - 3})
    return " AND ".join(_quoted(text[i : i + 3]) for i in starts)


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _fts_match(text: str) -> ColumnElement[bool]:
    query: Any
    if len(text) >= 3:
        query = bindparam("fts_q", fts_query(text), unique=True)
    else:
        # Two characters begin a trigram wherever they occur (the indexed text ends with a space): match
        # any of the indexed trigrams that start with them.
        prefix = text.lower()
        query = (
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
    return literal_column("case_search").op("MATCH")(query)


@compiles(_TextMatch, "sqlite")
def _compile_sqlite(element: _TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    # "id IN (the index's candidates)" is what SQLite can drive the query from (or each side of an OR with
    # the phone) instead of walking every case in received order to probe it; the candidates are rowids
    # read from the index alone, and the text is re-checked on the case row the query reads anyway. With
    # ``walk`` the id is written "+id", which SQLite does not use as an index: it probes the set instead.
    fts = _fts_match(element.text)
    ids: Select[Any] = select(literal_column("case_search.rowid")).select_from(_FTS).where(fts)
    column = compiler.process(Case.__table__.c.id, **kw)
    sql = ("+" if element.walk else "") + column + " IN (" + compiler.process(ids, **kw) + ")"
    if not exact_in_index(element.text):
        sql += " AND (" + compiler.process(_recheck(element.text, ilike=False), **kw) + ")"
    return "(" + sql + ")"


@compiles(_TextMatch)
def _compile_default(element: _TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL: ILIKE is what the pg_trgm GIN index (gin_trgm_ops) answers.
    # Parenthesised: the clause is an OR, and must not mix with the AND of the scope around it.
    return "(" + compiler.process(_recheck(element.text, ilike=True), **kw) + ")"
