"""Case search (``GET /api/v1/cases?q=``): part of a number, a whole phone, an address, words of the
description (Chinese, two characters and more); always within the reader's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from builders import advance, auth, grid_point, make_case


def _ids(client, session, q: str, user: str = "shiftlead", **params) -> list[int]:
    r = client.get("/api/v1/cases", params={"q": q, **params}, headers=auth(session, user))
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


def _numbers(client, session, q: str, user: str = "shiftlead") -> set[str]:
    r = client.get("/api/v1/cases", params={"q": q}, headers=auth(session, user))
    assert r.status_code == 200, r.text
    return {c["number"] for c in r.json()["items"]}


def test_partial_number_finds_only_that_case(client, session) -> None:
    a = make_case(session, category="E0102")
    b = make_case(session, category="C0101", description="井盖缺失")
    session.flush()
    assert _ids(client, session, a.number[3:]) == [a.id]  # "02" + date + sequence: not in C0101…
    assert _ids(client, session, b.number[1:].lower()) == [b.id]  # letters in any case
    assert set(_ids(client, session, a.number[5:13])) >= {a.id, b.id}  # the shared date finds both


def test_whole_phone_matches_its_keyed_hash_and_a_part_does_not(client, session) -> None:
    mine = make_case(session, source="citizen", reporter_phone="13912345678", description="楼道堆物")
    make_case(session, source="citizen", reporter_phone="13900000000", description="楼道堆物")
    session.flush()
    assert _ids(client, session, "13912345678") == [mine.id]
    assert _ids(client, session, "139-1234-5678") == [mine.id]  # typed with separators
    assert _ids(client, session, "139 1234 5678") == [mine.id]
    assert _ids(client, session, "1391234") == []  # the phone is never stored in clear: no partial match


def test_address_and_description_words_match_as_substrings(client, session) -> None:
    p = grid_point(session, 3)
    road = make_case(session, point=p, address="星港街道金鸡湖大道1688号东门", description="路灯不亮")
    bins = make_case(session, point=p, description="菜场门口垃圾桶满溢散发异味")
    tail = make_case(session, point=p, description="夜间施工噪声，井盖异响")
    session.flush()
    assert _ids(client, session, "金鸡湖大道1688") == [road.id]
    assert _ids(client, session, "垃圾桶满溢") == [bins.id]
    assert _ids(client, session, "异味") == [bins.id]  # two Chinese characters
    assert _ids(client, session, "异响") == [tail.id]  # two characters at the very end of the text
    assert set(_ids(client, session, "门口")) == {bins.id}
    assert _ids(client, session, "东门") == [road.id]
    assert _ids(client, session, "噪声井盖") == []  # the words must be adjacent, as typed
    assert _ids(client, session, "%%") == []  # wildcards are text, not patterns


def test_search_combines_with_filters_and_paging(client, session) -> None:
    p = grid_point(session, 4)
    old = make_case(
        session, point=p, description="共享单车堆放占道", now=datetime.now(UTC) - timedelta(days=3)
    )
    new = make_case(session, point=p, description="共享单车堆放占道")
    session.flush()
    r = client.get(
        "/api/v1/cases", params={"q": "共享单车", "page_size": 1}, headers=auth(session, "shiftlead")
    ).json()
    assert (r["total"], [c["id"] for c in r["items"]]) == (2, [new.id])
    assert _ids(client, session, "共享单车", sort="received") == [old.id, new.id]
    day = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert _ids(client, session, "共享单车", received_from=day) == [new.id]


def test_a_handler_never_finds_another_departments_case(client, session) -> None:
    cases = {}
    for dept, index in (("HW", 6), ("SZ", 7)):
        c = make_case(session, point=grid_point(session, index), description="绿化带枯树倒伏压住护栏")
        advance(
            session, c, [("register", "shiftlead", {}), ("dispatch", "dispatcher", {"department_code": dept})]
        )
        cases[dept] = c
    session.flush()
    assert _ids(client, session, "枯树倒伏", user="handler_sz") == [cases["SZ"].id]
    assert _ids(client, session, cases["HW"].number, user="handler_sz") == []
    assert _ids(client, session, "枯树", user="handler_hw") == [cases["HW"].id]
    assert set(_ids(client, session, "枯树倒伏")) == {cases["HW"].id, cases["SZ"].id}


def test_bad_queries_are_refused_plainly(client, session) -> None:
    h = auth(session, "shiftlead")
    for params, where in (
        ({"q": "井"}, "q"),
        ({"q": "长" * 101}, "q"),
        ({"sort": "number"}, "sort"),
    ):
        r = client.get("/api/v1/cases", params=params, headers=h)
        assert r.status_code == 422, params
        assert r.headers["content-type"].startswith("application/problem+json")
        assert where in r.text


def test_sort_by_time_left_puts_the_most_urgent_first(client, session) -> None:
    p = grid_point(session, 8)
    now = datetime.now(UTC)
    late = make_case(session, point=p, description="排序测试甲", now=now - timedelta(hours=2))
    fresh = make_case(session, point=p, description="排序测试乙", now=now - timedelta(minutes=1))
    dispatched = make_case(session, point=p, description="排序测试丙", now=now - timedelta(minutes=5))
    advance(
        session,
        dispatched,
        [("register", "shiftlead", {}), ("dispatch", "dispatcher", {"department_code": "HW"})],
    )
    session.flush()
    # 待受理: due 30 minutes after receipt (late: 1 h 30 min ago; fresh: in 29 min); the dispatched case's
    # disposal limit (暴露垃圾, 4 working hours) is later than both.
    assert _ids(client, session, "排序测试", sort="due") == [late.id, fresh.id, dispatched.id]
    assert _ids(client, session, "排序测试", sort="-due") == [dispatched.id, fresh.id, late.id]


def test_the_index_follows_edits_and_its_triggers_survive_migrations(client, session) -> None:
    case = make_case(session, point=grid_point(session, 9), address="旧地址彩虹桥北", description="桥面坑洼")
    session.flush()
    assert _ids(client, session, "彩虹桥") == [case.id]
    case.address = "新地址月光码头"
    session.flush()
    assert _ids(client, session, "彩虹桥") == []
    assert _ids(client, session, "月光码头") == [case.id]
    if session.get_bind().dialect.name == "sqlite":  # a later batch migration of `cases` must put them back
        names = set(session.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        assert {"case_search_ai", "case_search_ad", "case_search_au"} <= names
