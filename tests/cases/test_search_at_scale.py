"""The search's paths for many matches (cases/search.py): a page that walks the cases newest first instead of
sorting the matches, a count that stops at a cap (the queue shows "1000+"), and the index answering short
queries alone. Each path must give exactly the answers of the plain one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import grid_point, make_case, principal
from civicgrid.cases import repository, search
from civicgrid.cases.repository import CaseFilter
from civicgrid.models import User
from civicgrid.org.tokens import issue_token

QUERIES = ("井盖", "破损", "井盖破损", "盖破", "规模", "规模测试", "Ab", "ab", "xyz")


@pytest.fixture
def many(session: Session) -> list[int]:
    p = grid_point(session, 7)
    start = datetime.now(UTC) - timedelta(days=30)
    texts = ["规模测试井盖破损", "规模测试井盖缺失", "规模测试路面破损", "规模测试 AbC 标识", "规模测试 xyz"]
    ids = []
    for i in range(25):  # received out of id order: the walk must follow received time, not ids
        when = start + timedelta(hours=(i * 7) % 25)
        ids.append(make_case(session, point=p, description=texts[i % len(texts)], now=when).id)
    session.flush()
    return ids


def _plain(session: Session, q: str, page_size: int) -> tuple[list[int], int]:
    reader = principal(session, "shiftlead")
    rows, total = repository.list_cases(session, reader, CaseFilter(text=q), page=1, page_size=page_size)
    return [c.id for c in rows], total


def test_walk_and_cap_give_the_plain_answers(
    session: Session, many: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = {q: _plain(session, q, 4) for q in QUERIES}
    assert plain["规模测试"][1] == 25 and plain["井盖破损"][1] == 5 and plain["xyz"][1] == 5
    assert plain["ab"] == plain["Ab"] and plain["ab"][1] == 5  # Latin letters in any case (re-checked)
    monkeypatch.setattr(search, "WALK_FROM", 0)  # every search walks the received-time index
    reader = principal(session, "shiftlead")
    for q in QUERIES:
        walked = repository.list_cases(session, reader, CaseFilter(text=q), page=1, page_size=4)
        assert ([c.id for c in walked[0]], walked[1]) == plain[q], q
        page2 = repository.list_cases(session, reader, CaseFilter(text=q), page=2, page_size=4)
        monkeypatch.setattr(search, "WALK_FROM", 10**9)
        again = repository.list_cases(session, reader, CaseFilter(text=q), page=2, page_size=4)
        monkeypatch.setattr(search, "WALK_FROM", 0)
        assert [c.id for c in page2[0]] == [c.id for c in again[0]], q
        capped = repository.list_cases(session, reader, CaseFilter(text=q), page=1, page_size=4, count_cap=3)
        assert [c.id for c in capped[0]] == plain[q][0]
        assert capped[1] == min(plain[q][1], 4)  # counted up to one past the cap


def test_short_caseless_queries_are_answered_by_the_index_alone() -> None:
    assert search.exact_in_index("破损") and search.exact_in_index("井盖破") and search.exact_in_index("12")
    assert not search.exact_in_index("井盖破损")  # several trigrams: a case may hold them apart
    assert not search.exact_in_index("ab")  # letters: the index folds case unlike LIKE
    assert search.fts_query("0601202") == '"060" AND "601" AND "012" AND "120" AND "202"'
    assert search.fts_query("小区门口垃圾桶满溢散发异味了") == (
        '"小区门" AND "口垃圾" AND "桶满溢" AND "散发异" AND "异味了"'  # every third, and the last
    )


def test_the_queue_counts_a_search_up_to_the_cap(
    client: Any, session: Session, many: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = session.scalar(select(User).where(User.username == "shiftlead"))
    assert user is not None
    client.cookies.set("civicgrid_token", issue_token(user.id)[0])
    monkeypatch.setattr(search, "COUNT_CAP", 10)
    monkeypatch.setattr(search, "WALK_FROM", 10)
    html = client.get("/center", params={"tab": "all", "q": "规模测试"}).text
    assert "共 10+ 件" in html
    html = client.get("/center", params={"tab": "all", "q": "井盖破损"}).text
    assert "共 5 件" in html
