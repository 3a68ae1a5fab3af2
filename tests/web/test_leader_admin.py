"""The leader dashboard and the admin pages.

First the dashboard's SQL aggregates and the admin routes on the test database (exact values, SQLite
and PostgreSQL); then, in Chromium on part 1's live server, the dashboard drawn with its charts and map,
督办 of an overdue case, and the admin pages (grid import preview → commit, a routing rule, a user,
a category limit).
The database tests come first in this file so the test database exists before the live server takes over.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import advance, grid_point, make_case
from civicgrid.models import Case, Category, Department, SecurityEvent, Supervision
from civicgrid.org.tokens import issue_token

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
PASSWORD = "civicgrid2026"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


def _dispatched(session: Session, at: datetime, index: int, category: str = "E0102") -> Case:
    case = make_case(session, category=category, point=grid_point(session, index), now=at)
    return advance(
        session,
        case,
        [("register", "shiftlead", {}), ("dispatch", "dispatcher", {})],
        now=at + timedelta(minutes=5),
    )


def _handler(session: Session, case: Case) -> str:
    code = session.scalar(select(Department.code).where(Department.id == case.department_id))
    assert code is not None
    return f"handler_{code.lower()}"


def _feedback(session: Session, case: Case, at: datetime) -> None:
    h = _handler(session, case)
    advance(session, case, [("sign", h, {}), ("feedback", h, {"note": "已处置"})], now=at)


@pytest.fixture
def four_cases(session: Session) -> dict[str, Case]:
    """On time, overdue and open, late feedback, within its limit; and a report late in a local day."""
    a = _dispatched(session, T0, 0)
    _feedback(session, a, a.due_at - timedelta(hours=1))  # type: ignore[operator]
    b = _dispatched(session, T0 + timedelta(hours=1), 0)
    c = _dispatched(session, T0 + timedelta(hours=2), 1)
    _feedback(session, c, c.due_at + timedelta(hours=1))  # type: ignore[operator]
    d = _dispatched(session, T0 + timedelta(days=9), 2)
    late = make_case(session, point=grid_point(session, 3), now=T0 + timedelta(hours=16, minutes=30))
    session.flush()
    return {"a": a, "b": b, "c": c, "d": d, "late": late}


def test_kpis_follow_spec_definitions(session: Session, four_cases: dict[str, Case]) -> None:
    from civicgrid.analytics.cockpit import kpis

    now = T0 + timedelta(days=9, hours=1)
    k = kpis(session, T0 - timedelta(days=1), now)
    assert (k.reported, k.registered, k.closed, k.open_cases) == (5, 4, 0, 4)
    # 应处置 = a (on time) + b (overdue, undisposed) + c (late); d is still within its limit.
    assert (k.due, k.on_time, k.on_time_rate) == (3, 1, 1 / 3)
    assert k.overdue == 1  # b; c was fed back (late) and waits for the check, a was fed back in time
    assert (k.supervised, k.rated, k.satisfaction) == (0, 0, None)


def test_trend_buckets_by_local_day(session: Session, four_cases: dict[str, Case]) -> None:
    from civicgrid.analytics.cockpit import trend

    now = T0 + timedelta(days=9, hours=1)
    t = trend(session, T0 - timedelta(hours=2), now, weekly=False)
    assert t["labels"][:3] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert len(t["labels"]) == 10
    # 16:30 UTC on 2 March is 00:30 on 3 March in Shanghai.
    assert t["reported"][:3] == [3, 1, 0]
    assert t["reported"][9] == 1
    assert t["on_time_rate"][0] == pytest.approx(33.3)
    assert t["on_time_rate"][9] is None
    weekly = trend(session, T0 - timedelta(hours=2), now, weekly=True)
    assert weekly["labels"] == ["2026-03-02", "2026-03-09"]
    assert weekly["reported"] == [4, 1]


def test_departments_categories_and_grids(session: Session, four_cases: dict[str, Case]) -> None:
    from civicgrid.analytics.cockpit import categories, departments, grid_stats, overdue_cases

    now = T0 + timedelta(days=9, hours=1)
    since = T0 - timedelta(days=1)
    rows = departments(session, since, now)
    assert len(rows) == 1
    assert (rows[0].due, rows[0].on_time, rows[0].overdue_now) == (3, 1, 1)
    assert categories(session, since) == [
        {"code": "E0102", "name": "暴露垃圾", "major": "市容环境", "count": 5}
    ]
    stats = grid_stats(session, since, now)
    g0, g1 = grid_point(session, 0).grid_code, grid_point(session, 1).grid_code
    assert stats[g0] == (2, 2, 1)  # a on time, b overdue
    assert stats[g1] == (1, 1, 1)  # c late
    lines = overdue_cases(session, now)
    assert [x.number for x in lines] == [four_cases["b"].number]


def _cookie_client(client: Any, session: Session, username: str) -> Any:
    from civicgrid.models import User

    user_id = session.scalar(select(User.id).where(User.username == username))
    client.cookies.clear()
    client.cookies.set("civicgrid_token", issue_token(user_id)[0])
    return client


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert m
    return m.group(1)


def test_pages_need_their_role(client: Any, session: Session) -> None:
    c = _cookie_client(client, session, "leader")
    assert c.get("/admin").status_code == 403
    assert c.get("/admin/users").status_code == 403
    assert c.get("/leader").status_code == 200
    c = _cookie_client(client, session, "operator")
    r = c.get("/leader")
    assert r.status_code == 403
    assert "无权操作" in r.text
    assert c.get("/web/api/leader/grids").status_code == 403


def test_admin_change_is_audited(client: Any, session: Session) -> None:
    c = _cookie_client(client, session, "admin")
    token = _csrf(c.get("/admin/categories").text)
    form = {
        "csrf_token": token,
        "limit_amount": "3",
        "limit_unit": "wd",
        "urgent": "",
        "department_code": "@street",
        "merge_radius_m": "50",
        "merge_window_h": "24",
    }
    r = c.post("/admin/categories/C0101", data=form, follow_redirects=False)
    assert r.status_code == 303
    session.expire_all()
    cat = session.get(Category, "C0101")
    assert cat is not None
    assert (cat.limit_text, cat.department_code, cat.merge_radius_m, cat.merge_window_h) == (
        "3wd",
        "@street",
        50,
        24,
    )
    ev = session.scalars(select(SecurityEvent).order_by(SecurityEvent.id.desc())).first()
    assert ev is not None
    assert (ev.kind, ev.subject, ev.data["after"]["limit"]) == ("admin_category_update", "C0101", "3wd")
    bad = c.post("/admin/categories/C0101", data=form | {"limit_unit": "days"}, follow_redirects=False)
    assert bad.status_code == 303
    assert session.get(Category, "C0101").limit_unit == "wd"  # type: ignore[union-attr]
    # Without the CSRF token nothing happens.
    assert c.post("/admin/categories/C0101", data={**form, "csrf_token": "x"}).status_code == 403


def test_supervise_post(client: Any, session: Session, four_cases: dict[str, Case]) -> None:
    c = _cookie_client(client, session, "leader")
    token = _csrf(c.get("/leader").text)
    b = four_cases["b"]
    r = c.post(
        f"/leader/cases/{b.id}/supervise",
        data={"csrf_token": token, "note": "请本周内办结"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/leader?days=30#overdue"
    sup = session.scalars(select(Supervision).where(Supervision.case_id == b.id)).one()
    assert (sup.level, sup.note, sup.department_id) == ("leader", "请本周内办结", b.department_id)
    # A case that is not open any more cannot be supervised: a message, nothing written.
    closed_like = four_cases["late"]  # still 待受理: not registered
    r = c.post(f"/leader/cases/{closed_like.id}/supervise", data={"csrf_token": token, "note": "x"})
    assert r.status_code == 200
    assert session.scalars(select(Supervision).where(Supervision.case_id == closed_like.id)).first() is None


# --- In Chromium, on the live server ------------------------------------------------------------------------


class Person:
    def __init__(self, context: Any, base: str, name: str) -> None:
        self.base, self.name = base, name
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on(
            "console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("dialog", lambda d: d.accept())

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def login(self, username: str) -> None:
        self.goto("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("form[action='/login'] button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        assert "/login" not in self.page.url

    def shot(self, label: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"leader-admin-{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def flash(self) -> str:
        return str(self.page.locator(".flash").first.inner_text())


@contextmanager
def person(browser: Any, live: Any, name: str) -> Iterator[Person]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    p = Person(context, live.url, name)
    try:
        yield p
        assert p.errors == [], f"JavaScript errors: {p.errors}"
    finally:
        context.close()


def _overdue_case_in_live_db() -> int:
    """A case dispatched three weeks ago and never handled (the live server's database)."""
    from civicgrid.cases.intake import ReportIn, report
    from civicgrid.cases.transition import transition
    from civicgrid.db import unit_of_work
    from civicgrid.models import Area, User
    from civicgrid.models import utcnow as now_utc
    from civicgrid.org.auth import principal_of

    with unit_of_work() as s:
        area = s.scalars(
            select(Area).where(Area.level == "grid").order_by(Area.code).offset(77).limit(1)
        ).one()
        users = {u.username: principal_of(u) for u in s.scalars(select(User))}
        t = now_utc() - timedelta(days=21)
        res = report(
            s,
            ReportIn(
                description="井盖缺失，行人易踩空",
                lng=area.centroid_lng,
                lat=area.centroid_lat,
                category_code="C0101",
                source="inspector",
            ),
            users["inspector001"],
            now=t,
            rapid=False,
        )
        transition(s, res.case, "register", users["shiftlead"], {}, now=t + timedelta(minutes=3))
        transition(s, res.case, "dispatch", users["dispatcher"], {}, now=t + timedelta(minutes=6))
        s.flush()
        return res.case.id


@pytest.mark.browser
def test_leader_dashboard_and_supervise(browser: Any, live_server: Any) -> None:
    case_id = _overdue_case_in_live_db()
    with person(browser, live_server, "leader") as p:
        p.login("leader")
        p.goto("/leader")
        p.page.wait_for_selector("html[data-dashboard-ready='1']", timeout=15000)
        assert p.page.locator("#chart-trend canvas").count() >= 1
        assert p.page.locator("#chart-categories canvas").count() >= 1
        assert p.page.locator("#leader-map canvas.leaflet-zoom-animated").count() == 1
        assert int(p.page.locator("[data-kpi=overdue]").inner_text()) >= 1
        assert p.page.locator("#leader-legend .legend-item").count() >= 3
        p.shot("dashboard")
        box = p.page.locator("#leader-map").bounding_box()
        p.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        assert "网格" in p.page.locator(".grid-tip").inner_text(timeout=5000)
        p.page.click("[data-metric=late]")
        assert "超期率" in p.page.locator("#leader-legend").inner_text()
        row = p.page.locator(f"#overdue tr[data-case='{case_id}']")
        row.locator("summary").click()
        row.locator("textarea[name=note]").fill("超期三周，请环卫处本周内办结并反馈")
        row.locator("form button[type=submit]").click()
        p.page.wait_for_load_state("networkidle")
        assert "已督办案卷" in p.flash()
        assert "超期三周" in p.page.locator("#supervised").inner_text()
        p.page.wait_for_selector("html[data-dashboard-ready='1']", timeout=15000)
        p.shot("supervised")
    from civicgrid.db import unit_of_work

    with unit_of_work(write=False) as s:
        sup = s.scalars(select(Supervision).where(Supervision.case_id == case_id)).one()
        assert (sup.level, sup.note) == ("leader", "超期三周，请环卫处本周内办结并反馈")
        assert s.get(Case, case_id).supervised is True  # type: ignore[union-attr]


def _square(x: float, y: float, d: float) -> list[list[list[float]]]:
    return [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]


def _four_grids(tmp: Path, broken: bool = False) -> Path:
    d = 0.001
    features = []
    for i, (dx, dy) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):
        geom = {"type": "Polygon", "coordinates": _square(120.7 + dx * d, 31.4 + dy * d, d)}
        if broken and i == 3:
            geom["coordinates"] = [
                [[120.7, 31.4], [120.702, 31.402], [120.702, 31.4], [120.7, 31.402], [120.7, 31.4]]
            ]
        props = {
            "code": f"32050809900{1 + i // 2}{i % 2 + 1:02d}",
            "street_name": "试点街道",
            "community_name": f"试点{1 + i // 2}社区",
        }
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    path = tmp / ("broken.geojson" if broken else "four.geojson")
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8"
    )
    return path


@pytest.mark.browser
def test_admin_pages(browser: Any, live_server: Any, tmp_path: Path) -> None:
    with person(browser, live_server, "admin") as p:
        p.login("admin")
        p.goto("/admin")
        p.shot("overview")

        # Grids: a broken file is refused with reasons; a good one is previewed, then stored (not active).
        p.goto("/admin/grids")
        p.page.set_input_files("#grid-upload input[name=file]", str(_four_grids(tmp_path, broken=True)))
        p.page.click("#grid-upload button[type=submit]")
        assert p.page.locator("[data-summary=errors]").inner_text() == "1"
        assert "自相交" in p.page.locator(".errors-list").inner_text()
        assert p.page.locator("form[action='/admin/grids/commit']").count() == 0
        p.page.set_input_files("#grid-upload input[name=file]", str(_four_grids(tmp_path)))
        p.page.fill("#grid-upload input[name=name]", "试点街道网格")
        p.page.click("#grid-upload button[type=submit]")
        assert p.page.locator("[data-summary=grids]").inner_text() == "4"
        assert p.page.locator("[data-summary=errors]").inner_text() == "0"
        p.shot("grid-preview")
        p.page.uncheck("input[name=activate]")
        p.page.click("form[action='/admin/grids/commit'] button[type=submit]")
        p.page.wait_for_load_state("networkidle")
        assert "已导入网格版本「试点街道网格」：4 个网格" in p.flash()
        first = p.page.locator("#generations tbody tr").first.inner_text()
        assert "试点街道网格" in first and "4" in first and "未启用" in first

        # A routing rule.
        p.goto("/admin/routing")
        p.page.select_option("#rule-form select[name=category_code]", "E0201")
        p.page.fill("#rule-form input[name=area_code]", "320508003")
        p.page.select_option("#rule-form select[name=department_code]", "JD003")
        p.page.click("#rule-form button[type=submit]")
        p.page.wait_for_load_state("networkidle")
        assert "已添加派遣规则" in p.flash()
        top = p.page.locator("#rules tbody tr").first.inner_text()
        assert "E0201" in top and "320508003" in top

        # A user with two roles and grids.
        p.goto("/admin/users")
        p.page.fill("#user-form input[name=username]", "inspector_new")
        p.page.fill("#user-form input[name=display_name]", "新监督员")
        p.page.fill("#user-form input[name=password]", "Grid-2026-new")
        p.page.check("#user-form input[value=inspector]")
        p.page.check("#user-form input[value=operator]")
        p.page.fill("#user-form textarea[name=grid_codes]", "320508001001, 320508001002")
        p.page.click("#user-form button[type=submit]")
        p.page.wait_for_load_state("networkidle")
        assert "已创建用户：inspector_new" in p.flash()
        row = p.page.locator("#users tr[data-user='inspector_new']").inner_text()
        assert "监督员" in row and "受理员" in row and "2" in row
        p.shot("users")

        # A category limit.
        p.goto("/admin/categories")
        row_l = p.page.locator("#cat-C0102")
        row_l.locator("input[name=limit_amount]").fill("6")
        row_l.locator("select[name=limit_unit]").select_option("wh")
        row_l.locator("button[type=submit]").click()
        p.page.wait_for_load_state("networkidle")
        assert "处置时限 6wh" in p.flash()
        assert p.page.locator("[data-limit=C0102]").inner_text() == "6wh"
        p.shot("categories")

        # An API key, shown once, then revoked.
        p.goto("/admin/keys")
        p.page.fill("#key-form input[name=name]", "12345 热线对接")
        p.page.click("#key-form button[type=submit]")
        p.page.wait_for_load_state("networkidle")
        key = p.page.locator("#new-key [data-secret]").inner_text()
        assert key.startswith("cg311_")
        p.goto("/admin/keys")
        assert key not in p.page.content()
        p.page.locator("#keys tbody tr").last.locator("button").click()
        p.page.wait_for_load_state("networkidle")
        assert "已吊销接口密钥：12345 热线对接" in p.flash()

    from civicgrid.db import unit_of_work

    with unit_of_work(write=False) as s:
        kinds = set(s.scalars(select(SecurityEvent.kind).where(SecurityEvent.kind.startswith("admin_"))))
    assert {
        "admin_grid_import",
        "admin_routing_create",
        "admin_user_create",
        "admin_category_update",
        "admin_api_key_create",
        "admin_api_key_revoke",
    } <= kinds


@pytest.mark.browser
def test_non_admin_gets_403(browser: Any, live_server: Any) -> None:
    with person(browser, live_server, "leader403") as p:
        p.login("leader")
        response = p.goto("/admin/routing")
        assert response.status == 403
        p.errors.remove(
            "console: Failed to load resource: the server responded with a status of 403 (Forbidden)"
        )
        assert "无权操作" in p.page.locator("h1").inner_text()
        p.shot("admin-403")
