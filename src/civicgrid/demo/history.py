"""A year of demo history, every case driven through the real intake and transition function with past times,
so events, stage timestamps, due times, rework and close types are what the engine really produces."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.cases.intake import ReportIn, report
from civicgrid.cases.transition import transition
from civicgrid.demo import people
from civicgrid.geo.plan import DistrictPlan
from civicgrid.models import Case, Category, Department, User, utcnow
from civicgrid.org.auth import principal_of
from civicgrid.org.roles import SYSTEM, Principal
from civicgrid.sla.clock import Limit, Unit
from civicgrid.sla.deadlines import get_clock

SOURCES = (("inspector", 0.55), ("citizen", 0.2), ("hotline", 0.2), ("sensor", 0.05))


def _corpus() -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    folder = resources.files("civicgrid.data") / "corpus"
    if not folder.is_dir():
        return texts
    for f in folder.iterdir():
        if f.name.endswith(".csv"):
            with f.open(encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    texts.setdefault(row["category_code"], []).append(row["text"])
    return texts


class _Actors:
    def __init__(self, session: Session) -> None:
        users = {u.username: principal_of(u) for u in session.scalars(select(User))}
        self.by_name = users
        self.depts = {d.id: d.code for d in session.scalars(select(Department))}
        self.dept_codes = list(self.depts.values())

    def get(self, username: str) -> Principal:
        return self.by_name[username]

    def handler(self, dept_id: int | None) -> Principal:
        return self.by_name[people.handler_username(self.depts[dept_id or 0])]

    def inspector(self, street_code: str) -> Principal:
        return self.by_name[people.inspector_username(street_code)]


class _Story:
    """Moves one case forward step by step; stops quietly once a step would lie in the future."""

    def __init__(self, session: Session, case: Case, t: datetime, now: datetime, rng: random.Random) -> None:
        self.s, self.case, self.t, self.now, self.rng = session, case, t, now, rng
        self.alive = True

    def step(
        self, action: str, actor: Principal, minutes: tuple[float, float], data: dict[str, Any] | None = None
    ) -> bool:
        if not self.alive:
            return False
        t = self.t + timedelta(minutes=self.rng.uniform(*minutes))
        if t >= self.now:
            self.alive = False
            return False
        transition(self.s, self.case, action, actor, data or {}, now=t)
        self.t = t
        return True

    def at(self, t: datetime, action: str, actor: Principal, data: dict[str, Any] | None = None) -> bool:
        self.t = max(self.t, t - timedelta(minutes=1))
        return self.step(action, actor, (0.5, 1.0), data)


def _received_time(rng: random.Random, now: datetime) -> datetime:
    day = now - timedelta(days=rng.triangular(0, 365, 0))  # more recent days are busier
    local_hour = rng.choices(
        range(24), weights=[1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 13, 11, 8, 9, 12, 13, 12, 10, 7, 5, 4, 3, 2, 1]
    )[0]
    base = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        hours=local_hour - 8, minutes=rng.uniform(0, 59)
    )
    return min(base, now - timedelta(minutes=5))


def generate_history(
    session: Session,
    plan: DistrictPlan,
    n: int,
    *,
    seed: int = 7,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    rng = random.Random(seed)
    now = now or utcnow()
    actors = _Actors(session)
    cats = list(session.scalars(select(Category).order_by(Category.code)))
    weights = [
        3.0 if c.code in {"E0102", "E0505", "E0506", "E0201", "E0504", "C0118", "E0104"} else 1.0
        for c in cats
    ]
    texts = _corpus()
    grids = list(plan.grids)
    hot = rng.sample(grids, 40)  # recurring trouble spots
    clock = get_clock()
    created = 0
    while created < n:
        cat = rng.choices(cats, weights)[0]
        grid = rng.choice(hot) if rng.random() < 0.25 else rng.choice(grids)
        c = grid.geometry.centroid
        lng, lat = c.x + rng.uniform(-0.0003, 0.0003), c.y + rng.uniform(-0.0003, 0.0003)
        source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        t0 = _received_time(rng, now)
        street = grid.code[:9]
        reporter = {
            "inspector": actors.inspector(street),
            "citizen": actors.get("citizen") if rng.random() < 0.3 else None,
            "hotline": actors.get("operator"),
            "sensor": SYSTEM,
        }[source]
        desc = rng.choice(texts.get(cat.code) or [f"{cat.name}，请尽快处理"])
        res = report(
            session,
            ReportIn(
                description=desc,
                lng=lng,
                lat=lat,
                category_code=cat.code,
                source=source,
                reporter_name="张先生" if source in ("citizen", "hotline") else None,
                reporter_phone=f"139{rng.randrange(10**8):08d}" if source in ("citizen", "hotline") else None,
            ),
            reporter or _anonymous(),
            now=t0,
            rapid=False,
        )
        created += 1
        # Recent cases stop somewhere along the loop, so every stage has work waiting in it.
        horizon = now if now - t0 > timedelta(days=7) else t0 + timedelta(minutes=2 + rng.expovariate(1 / 90))
        story = _Story(session, res.case, t0, min(horizon, now), rng)
        created += _play(story, actors, res.query_code, clock, cat, rng)
        if progress and created % 100 < 2:
            progress(min(created, n), n)
    # The SLA sweeper catches up on what is open now: 黄灯 and 红灯 supervisions, as in production.
    from civicgrid.jobs.sweeper import sweep

    sweep(session, now=now)
    if progress:
        progress(n, n)
    return created


def _anonymous() -> Principal:
    from civicgrid.org.roles import ANONYMOUS_CITIZEN

    return ANONYMOUS_CITIZEN


def _play(
    st: _Story, a: _Actors, query_code: str | None, clock: Any, cat: Category, rng: random.Random
) -> int:
    """Drive a case along one of the loop's paths. Returns how many extra cases (duplicates) it created."""
    case = st.case
    street = case.street_code
    op, lead, disp, leader = a.get("operator"), a.get("shiftlead"), a.get("dispatcher"), a.get("leader")
    insp = a.inspector(street)
    extra = 0
    if case.source in ("citizen", "hotline"):
        st.step("send_verify", op, (3, 20))
        confirmed = rng.random() > 0.08
        st.step(
            "verify",
            insp,
            (10, 55),
            {"confirmed": confirmed, "note": "现场核实属实" if confirmed else "现场未发现该问题"},
        )
        if not confirmed:
            st.step("void", lead, (3, 20), {"note": "核实不属实，不予立案"})
            return 0
    elif rng.random() < 0.03:
        st.step("void", lead, (3, 20), {"note": "重复或不属于城市管理范围，不予立案"})
        return 0
    if rng.random() < 0.04 and st.alive:
        extra += _duplicate(st, a, rng)
    st.step("register", lead if case.source != "sensor" else SYSTEM, (2, 12), {"note": "符合立案条件"})
    if rng.random() < 0.05:
        wrong = rng.choice([d for d in a.dept_codes if d != _routed(st)])
        if st.step("dispatch", disp, (2, 10), {"department_code": wrong}):
            st.step("return", a.handler(case.department_id), (20, 120), {"note": "非本部门职责，申请回退"})
    st.step("dispatch", disp, (2, 10))
    for attempt in range(3):
        handler = a.handler(case.department_id) if case.department_id else None
        if handler is None:
            return extra
        st.step("sign", handler, (5, 50))
        if attempt == 0 and rng.random() < 0.04:
            st.step("extend", handler, (30, 120), {"limit": "2wd", "note": "需协调产权单位，申请延期"})
            st.step("approve_extension", lead, (10, 60), {"approved": rng.random() < 0.85})
        if rng.random() < 0.01 and st.alive:
            st.step("hold", lead, (60, 600), {"note": "需专项资金，暂挂账", "review_on": "2026-12-31"})
            return extra
        frac = rng.choices(
            [rng.uniform(0.1, 0.8), rng.uniform(0.8, 1.0), rng.uniform(1.0, 2.5)], [0.82, 0.1, 0.08]
        )[0]
        limit_min = clock.limit_minutes(Limit(cat.limit_amount, cat.limit_unit))  # type: ignore[arg-type]
        unit: Unit = "wh" if cat.limit_unit in ("wh", "wd") else "h"
        due_step = clock.add(st.t, Limit(max(1.0, limit_min * frac) / 60.0, unit))
        if not st.at(due_step, "feedback", handler, {"note": "已按要求处置完毕，附处置后照片"}):
            late = case.due_at + timedelta(hours=2) if case.due_at else None
            if late and late < st.now and rng.random() < 0.3:
                st.alive = True
                st.at(late, "supervise", leader, {"note": "超期未处置，请加快办理"})
            return extra
        st.step("send_check", op, (5, 30))
        passed = rng.random() > 0.06
        st.step(
            "check",
            insp,
            (15, 55),
            {"passed": passed, "note": "核查通过" if passed else "现场仍未处理到位，返工"},
        )
        if passed:
            break
    if case.state != "checked":  # three failed checks in a row: the case stays open for rework
        return extra
    st.step("close", lead, (5, 30), {"note": "处置到位，同意结案"})
    if case.state != "closed":
        return extra
    if rng.random() < 0.02:
        st.step("reopen", lead, (60, 1440), {"note": "市民反映问题仍未解决"})
        return extra
    if case.source == "citizen" and rng.random() < 0.5:
        rater = a.get("citizen") if case.reporter_user_id else _anonymous()
        st.step(
            "rate",
            rater,
            (60, 2880),
            {
                "rating": rng.choices([5, 4, 3, 2, 1], [60, 25, 8, 4, 3])[0],
                "note": "处理及时",
                "query_code": query_code,
            },
        )
    return extra


def _routed(st: _Story) -> str:
    from civicgrid.catalog.routing import route

    cat = st.s.get(Category, st.case.category_code)
    assert cat is not None
    dept = route(
        st.s,
        cat,
        grid_code=st.case.grid_code,
        community_code=st.case.community_code,
        street_code=st.case.street_code,
    )
    return dept.code if dept else ""


def _duplicate(st: _Story, a: _Actors, rng: random.Random) -> int:
    """A second citizen reports the same problem a little later; the operator merges it."""
    t = st.t + timedelta(minutes=rng.uniform(1, 10))
    if t >= st.now:
        return 0
    master = st.case
    dup = report(
        st.s,
        ReportIn(
            description=master.description,
            lng=master.lng + 0.0001,
            lat=master.lat,
            category_code=master.category_code,
            source="citizen",
            reporter_phone=f"137{rng.randrange(10**8):08d}",
        ),
        _anonymous(),
        now=t,
        rapid=False,
    ).case
    transition(
        st.s,
        dup,
        "merge",
        a.get("operator"),
        {"master_case_id": master.id, "note": "同一问题重复上报"},
        now=t + timedelta(minutes=1),
    )
    st.t = t + timedelta(minutes=1)
    return 1
