"""The paths a demo case takes through the loop, each step a call of the real ``transition`` at a past time.

A well-run district: public reports are verified within the hour, cases registered and dispatched within
minutes, departments sign during office hours and most dispose well within their limit; a realistic
minority is dispatched to the wrong department and returned, extended, reworked after a failed check,
disposed late (and supervised by the leader), held for funding, reopened after a citizen's complaint, or
rated unsatisfied. Every story runs to its end unless its next step would lie after ``now``: the cases
still open are the recent ones, at the stage their clock has reached.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from civicgrid.cases.intake import ReportIn, report
from civicgrid.cases.transition import transition
from civicgrid.models import Case, Category
from civicgrid.org.roles import ANONYMOUS_CITIZEN, SYSTEM, Principal
from civicgrid.sla.clock import Limit, Unit

TZ = ZoneInfo("Asia/Shanghai")
PhotoFn = Callable[[str, datetime, Principal], list[int]]  # (step, time, actor) -> attachment ids


class Story:
    """Moves one case forward step by step; stops quietly once a step would lie in the future."""

    def __init__(
        self,
        session: Session,
        case: Case,
        t: datetime,
        now: datetime,
        rng: random.Random,
        photo: PhotoFn,
        flush: Callable[[], None],
    ) -> None:
        self.s, self.case, self.t, self.now, self.rng, self.photo = session, case, t, now, rng, photo
        self.flush = flush  # the real flush (history.py defers the engine's own)
        self.dup_text = ""  # a second citizen's words for the same problem
        self.alive = True

    def step(
        self,
        action: str,
        actor: Principal,
        minutes: tuple[float, float],
        data: dict[str, Any] | None = None,
        *,
        office: bool = False,
    ) -> bool:
        if not self.alive:
            return False
        t = self.t + timedelta(minutes=self.rng.uniform(*minutes))
        if office:
            t = office_time(t, self.rng)
        if t >= self.now:
            self.alive = False
            return False
        data = dict(data or {})
        if action in ("verify", "feedback"):
            data["attachment_ids"] = self.photo(action, t, actor)
        transition(self.s, self.case, action, actor, data, now=t)
        self.t = t
        return True

    def at(self, t: datetime, action: str, actor: Principal, data: dict[str, Any] | None = None) -> bool:
        self.t = max(self.t, t - timedelta(minutes=1))
        return self.step(action, actor, (0.5, 1.0), data)


def office_time(t: datetime, rng: random.Random) -> datetime:
    """``t`` within a department's working day (08:00–18:00 local), else the next morning soon after 8."""
    local = t.astimezone(TZ)
    if 8 <= local.hour < 18:
        return t
    day = local.date() if local.hour < 8 else local.date() + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 8, tzinfo=TZ) + timedelta(minutes=rng.uniform(5, 75))
    return start.astimezone(t.tzinfo)


class Cast:
    """The demo's people as principals, looked up by role."""

    def __init__(self, by_name: dict[str, Principal], depts: dict[int, str]) -> None:
        self.by_name, self.depts = by_name, depts
        self.dept_codes = sorted(depts.values())

    def get(self, username: str) -> Principal:
        return self.by_name[username]

    def handler(self, dept_id: int | None) -> Principal | None:
        from civicgrid.demo import people

        code = self.depts.get(dept_id or 0)
        return self.by_name.get(people.handler_username(code)) if code else None

    def inspector(self, street_code: str) -> Principal:
        from civicgrid.demo import people

        return self.by_name[people.inspector_username(street_code)]


def play(st: Story, a: Cast, query_code: str | None, clock: Any, cat: Category, routed: str) -> int:
    """Drive a case along one of the loop's paths. Returns how many extra cases (duplicates) it created."""
    case, rng = st.case, st.rng
    op, lead, disp = a.get("operator"), a.get("shiftlead"), a.get("dispatcher")
    insp = a.inspector(case.street_code)
    extra = 0
    if case.source in ("citizen", "hotline", "open311"):
        st.step("send_verify", op, (2, 15))
        confirmed = rng.random() > 0.07
        note = "现场核实属实，已拍照" if confirmed else "到场未发现所反映的问题"
        st.step("verify", insp, (12, 50), {"confirmed": confirmed, "note": note})
        if not confirmed:
            st.step("void", lead, (3, 15), {"note": "核实不属实，不予立案"})
            return 0
    elif rng.random() < 0.03:
        st.step("void", lead, (3, 15), {"note": "重复上报，不予立案"})
        return 0
    if rng.random() < 0.04 and st.alive:
        extra += duplicate(st, a)
    st.step("register", SYSTEM if case.source == "sensor" else lead, (2, 10), {"note": "符合立案条件"})
    if rng.random() < 0.05 and routed:
        wrong = rng.choice([d for d in a.dept_codes if d != routed])
        if st.step("dispatch", disp, (2, 8), {"department_code": wrong}):
            handler = a.handler(case.department_id)
            if handler is not None:
                st.step("return", handler, (20, 90), {"note": "非本部门职责，申请回退"}, office=True)
    st.step("dispatch", disp, (2, 8))
    if not _dispose(st, a, clock, cat, first=True):
        return extra
    if rng.random() < 0.015:  # a citizen says it is not solved: reopened, disposed again
        st.step("reopen", lead, (120, 1440), {"note": "市民反映问题仍未解决，重新派遣"})
        if not _dispose(st, a, clock, cat, first=False):
            return extra
    if case.source in ("citizen", "open311") and rng.random() < 0.55:
        rating = rng.choices([5, 4, 3, 2, 1], [62, 24, 7, 4, 3])[0]
        remark = {5: "处理及时，非常满意", 4: "处理得不错", 3: "一般", 2: "处理太慢", 1: "问题没有根本解决"}
        rater = a.get("citizen") if case.reporter_user_id else ANONYMOUS_CITIZEN
        data = {"rating": rating, "note": remark[rating], "query_code": query_code}
        st.step("rate", rater, (60, 2880), data)
    return extra


def _dispose(st: Story, a: Cast, clock: Any, cat: Category, *, first: bool) -> bool:
    """Sign, dispose, check (reworked until it passes) and close; False if the story stopped first."""
    case, rng = st.case, st.rng
    lead, op, leader = a.get("shiftlead"), a.get("operator"), a.get("leader")
    insp = a.inspector(case.street_code)
    for attempt in range(3):
        handler = a.handler(case.department_id)
        if handler is None:
            return False
        # Working-hour limits are signed in office hours; clock-hour (urgent) ones at once, day or night.
        st.step("sign", handler, (5, 40), office=cat.limit_unit in ("wh", "wd"))
        if first and attempt == 0 and rng.random() < 0.04:
            st.step("extend", handler, (30, 120), {"limit": "2wd", "note": "需协调产权单位，申请延期"})
            st.step("approve_extension", lead, (10, 60), {"approved": rng.random() < 0.85})
        if first and attempt == 0 and rng.random() < 0.008 and st.alive:
            review = (st.now + timedelta(days=rng.randint(20, 90))).astimezone(TZ).date().isoformat()
            st.step("hold", lead, (60, 600), {"note": "需专项资金，暂挂账", "review_on": review})
            # Weeks later the money comes, the work is done, and the case is closed as a special case.
            st.step("release", lead, (10 * 1440, 40 * 1440), {"note": "专项资金已到位，解除挂账"})
            st.step("close", lead, (1440, 4320), {"special": True, "note": "专项整治已完成，特殊结案"})
            return False
        frac = rng.choices(
            [rng.uniform(0.15, 0.8), rng.uniform(0.8, 1.0), rng.uniform(1.0, 2.2)], [0.84, 0.1, 0.06]
        )[0]
        if attempt:
            frac = min(frac, 0.5)  # rework is quick
        limit_min = clock.limit_minutes(Limit(cat.limit_amount, cat.limit_unit))  # type: ignore[arg-type]
        unit: Unit = "wh" if cat.limit_unit in ("wh", "wd") else "h"
        base = case.last_dispatched_at if attempt == 0 and case.last_dispatched_at else st.t
        done = clock.add(base, Limit(max(10.0, limit_min * frac) / 60.0, unit))
        done = max(done, st.t + timedelta(minutes=rng.uniform(10, 40)))
        if case.due_at and done > case.due_at and rng.random() < 0.35:
            late = case.due_at + timedelta(hours=rng.uniform(1, 6))
            if late < min(done, st.now):
                st.at(late, "supervise", leader, {"note": "已超期，请加快办理并说明原因", "level": "leader"})
        if not st.at(done, "feedback", handler, {"note": "已按要求处置完毕，附处置后照片"}):
            return False
        st.step("send_check", op, (3, 20))
        passed = attempt == 2 or rng.random() > 0.06
        note = "核查通过" if passed else "现场仍未处理到位，返工"
        st.step("check", insp, (15, 50), {"passed": passed, "note": note})
        if passed:
            break
    if case.state != "checked":
        return False
    st.step("close", lead, (5, 25), {"note": "处置到位，同意结案"})
    return case.state == "closed"


def duplicate(st: Story, a: Cast) -> int:
    """A second citizen reports the same problem a little later; the operator merges it."""
    rng = st.rng
    t = st.t + timedelta(minutes=rng.uniform(1, 10))
    if t >= st.now:
        return 0
    master = st.case
    dup = report(
        st.s,
        ReportIn(
            description=st.dup_text or master.description,
            lng=master.lng + 0.00005,
            lat=master.lat,
            address=master.address,
            category_code=master.category_code,
            source="citizen",
            reporter_phone=f"137{rng.randrange(10**8):08d}",
        ),
        ANONYMOUS_CITIZEN,
        now=t,
        rapid=False,
    ).case
    st.flush()  # the merge looks the master case up by id
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
