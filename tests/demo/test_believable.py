"""The demo district reads like a well-run district (issue 13): what a trainer showing it would notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.demo.history import generate_history
from civicgrid.geo.plan import DistrictPlan
from civicgrid.models import Attachment, Case, CaseEvent
from civicgrid.security.audit import verify_all

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
INTAKE = ("received", "verifying", "verified", "registered")
FINAL = ("closed", "voided", "merged")


def _aware(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def test_demo_history_is_believable(session: Session, plan: DistrictPlan) -> None:
    made = generate_history(session, plan, 400, seed=11, now=NOW, photos=30)
    session.flush()
    cases = list(session.scalars(select(Case)))
    assert len(cases) == made >= 400
    open_ = [c for c in cases if c.state not in FINAL]
    closed = [c for c in cases if c.state == "closed"]

    # Most cases are closed, and most of those on time; open cases are a small, recent minority.
    assert len(closed) / len(cases) > 0.8
    on_time = sum(c.close_type == "normal" for c in closed) / len(closed)
    assert 0.85 < on_time < 0.99  # a realistic minority closed late
    assert 0 < len(open_) / len(cases) < 0.1
    working = [c for c in open_ if not c.held]  # 挂账 cases wait for funding, outside the clock
    overdue = [c for c in working if c.due_at is not None and _aware(c.due_at) < NOW]  # type: ignore[operator]
    assert len(overdue) <= max(2, len(working) // 3)
    # Nothing lies unsigned or unregistered for weeks: intake stages are hours old, disposal days.
    for c in open_:
        age = NOW - _aware(c.received_at)  # type: ignore[operator]
        if c.state in INTAKE:
            assert age < timedelta(days=2), (c.number, c.state, age)
        elif not c.held:
            assert age < timedelta(days=45), (c.number, c.state, age)
    # Inspectors' verify/check tasks are mostly within their hour.
    tasks = [c for c in open_ if c.state in ("verifying", "checking")]
    late_tasks = [c for c in tasks if c.stage_due_at and _aware(c.stage_due_at) < NOW]  # type: ignore[operator]
    assert len(late_tasks) <= max(1, len(tasks) // 3)

    # A realistic minority of problem cases.
    assert any(c.return_count for c in cases)
    assert any(c.rework_count for c in cases)
    assert any(c.extension_count for c in cases)
    assert any(c.close_type == "overdue" for c in closed)
    assert any(c.rating is not None and c.rating <= 2 for c in cases)

    # Every case has a street address on one of the district's roads (or in a community).
    roads = {r.name for r in plan.roads}
    communities = {c.name for c in plan.communities}
    for c in cases:
        assert c.address, c.number
        assert any(c.address.startswith(n) for n in roads | communities), c.address

    # Texts match how the case came in.
    by_source: dict[str, list[Case]] = {}
    for c in cases:
        by_source.setdefault(c.source, []).append(c)
    assert {"inspector", "hotline", "citizen"} <= set(by_source)
    caller = ("市民", "来电人", "诉求人")  # a hotline operator writes down what the caller said
    assert all(any(w in c.description[:20] for w in caller) for c in by_source["hotline"])
    assert not any("来电" in c.description for c in by_source["inspector"] + by_source["citizen"])
    assert all(c.description.startswith("【物联感知告警】") for c in by_source.get("sensor", []))
    assert all(c.reporter_phone_hash for c in by_source["hotline"])

    # The most recent cases carry photos: 处置前 from the report (or the verification of a phone call), and
    # 处置后 from the disposal once it was fed back.
    recent = sorted(cases, key=lambda c: _aware(c.received_at))[-30:]  # type: ignore[arg-type,return-value]
    steps: dict[int, set[str]] = {}
    for att in session.scalars(select(Attachment).where(Attachment.case_id.in_([c.id for c in recent]))):
        steps.setdefault(att.case_id or 0, set()).add(att.step or "")
    for c in recent:
        if c.state == "merged" or (c.state == "voided" and c.source == "inspector"):
            continue
        if c.source != "hotline" or c.verified_at is not None:
            assert steps.get(c.id, set()) & {"report", "verify"}, (c.number, c.source, c.state)
        if c.state == "closed":
            assert "feedback" in steps.get(c.id, set()), c.number
    assert (
        session.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id.is_(None))) == 0
    )

    # Every action went through the engine: the audit chain verifies.
    assert (
        session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.action == "report"))
        == made
    )
    assert verify_all(session) == []
