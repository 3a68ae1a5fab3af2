"""Rapid response (快速反应) after intake: merge a duplicate into its master case, or register and dispatch a
trusted report automatically — always through the transition function, with the system as the actor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from civicgrid.cases import sources
from civicgrid.cases.dedupe import find_master
from civicgrid.cases.transition import transition
from civicgrid.errors import AppError
from civicgrid.models import Case
from civicgrid.org.roles import SYSTEM
from civicgrid.settings import get_settings


def should_auto_dispatch(case: Case) -> bool:
    if sources.trusted(case.source):
        return True
    return (case.classification_confidence or 0.0) >= get_settings().auto_dispatch_min_confidence


def respond(session: Session, case: Case, *, now: datetime) -> str:
    """Returns what happened: 'merged', 'dispatched' or 'queued'."""
    master = find_master(session, case) if sources.get(case.source).dedupe == "nearby" else None
    if master is not None:
        transition(
            session,
            case,
            "merge",
            SYSTEM,
            {"master_case_id": master.id, "note": "自动并案：附近有同类未结案件"},
            now=now,
        )
        return "merged"
    if not should_auto_dispatch(case):
        return "queued"
    try:
        transition(session, case, "register", SYSTEM, {"note": "自动立案"}, now=now)
        transition(session, case, "dispatch", SYSTEM, {"note": "按派遣规则自动派遣"}, now=now)
    except AppError:
        # No route for it: leave it registered for a dispatcher (the register event is kept).
        return "queued"
    return "dispatched"
