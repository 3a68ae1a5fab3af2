"""The demo history: every case driven through the real engine, a believable spread of states and paths."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from civicgrid.demo.district import generate_demo_district
from civicgrid.demo.history import generate_history
from civicgrid.models import Case, CaseEvent
from civicgrid.security.audit import verify_all


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_history_runs_every_path_through_the_engine(session, seed: int) -> None:
    plan = generate_demo_district()
    made = generate_history(session, plan, 250, seed=seed, now=datetime(2026, 11, 20, 6, 0, tzinfo=UTC))
    session.flush()
    assert made >= 250
    states = dict(session.execute(select(Case.state, func.count()).group_by(Case.state)).all())
    assert states.get("closed", 0) > 150 and states.get("voided", 0) > 0
    assert sum(states.values()) == made
    # Every case has its report event, and the hash chain over all of them is whole.
    reported = session.scalar(
        select(func.count(func.distinct(CaseEvent.case_id))).where(CaseEvent.action == "report")
    )
    assert reported == made
    assert verify_all(session) == []
