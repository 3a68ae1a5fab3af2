"""Turning case rows into API shapes (names looked up once per request, personal data masked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid import domains
from civicgrid.cases.attachments import step_label
from civicgrid.cases.events import public_note as public_note
from civicgrid.cases.schemas import AttachmentOut, CaseDetail, CaseOut, EventOut
from civicgrid.cases.states import ACTION_LABELS as ACTION_LABELS
from civicgrid.cases.states import DISPOSAL_CLOCK, STATE_LABELS, event_label
from civicgrid.cases.transition import allowed_actions
from civicgrid.models import Attachment, Case, CaseEvent, Category, Department, utcnow
from civicgrid.org.roles import Principal
from civicgrid.refcache import ProcessCache
from civicgrid.security import pii
from civicgrid.sla.deadlines import WARNING_FRACTION, get_clock

STAFF = frozenset({"operator", "shift_lead", "dispatcher", "leader", "admin", "inspector"})


@dataclass(frozen=True)
class Names:
    """Category and department names, and which categories run on the working clock."""

    categories: dict[str, str]
    working: frozenset[str]
    departments: dict[int, tuple[str, str]]


_names: ProcessCache[None, Names] = ProcessCache()


def names(session: Session) -> Names:
    """The names every case view needs, from the process cache (see refcache.py)."""

    def load() -> Names:
        cats = session.execute(select(Category.code, Category.name, Category.limit_unit)).all()
        return Names(
            categories={code: name for code, name, _ in cats},
            working=frozenset(code for code, _, unit in cats if unit in ("wh", "wd")),
            departments={
                i: (code, name)
                for i, code, name in session.execute(select(Department.id, Department.code, Department.name))
            },
        )

    return _names.get(None, load)


def light(case: Case, now: datetime, working: bool = True) -> str:
    """Traffic light of the disposal clock: red overdue, yellow past 80 % of the limit (on the working clock
    for working-unit limits), green otherwise; none once disposal is over or the case is parked."""
    if case.state not in DISPOSAL_CLOCK or case.due_at is None or case.held:
        return "none"
    if now > case.due_at:
        return "red"
    start = case.dispatched_at
    if start and get_clock().elapsed_fraction(start, case.due_at, now, working=working) >= WARNING_FRACTION:
        return "yellow"
    return "green"


def attachment_out(att: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=att.id,
        content_type="image/jpeg",
        size=att.size,
        width=att.width,
        height=att.height,
        url=f"/api/v1/attachments/{att.id}",
        thumb_url=f"/api/v1/attachments/{att.id}/thumb",
        step=att.step,
        step_label=step_label(att.step) if att.case_id is not None else "",
    )


def case_out(case: Case, actor: Principal, names: Names, now: datetime | None = None) -> CaseOut:
    now = now or utcnow()
    dept = names.departments.get(case.department_id) if case.department_id else None
    show_masked = bool(actor.roles & STAFF) or (
        actor.user_id is not None and actor.user_id == case.reporter_user_id
    )
    lt = light(case, now, case.category_code in names.working)
    return CaseOut(
        **{
            k: getattr(case, k)
            for k in CaseOut.model_fields
            if hasattr(case, k) and k not in {"reporter_name", "reporter_phone"}
        },
        state_label=STATE_LABELS[case.state],
        category_name=names.categories.get(case.category_code, case.category_code),
        department_code=dept[0] if dept else None,
        department_name=dept[1] if dept else None,
        overdue=lt == "red",
        light=lt,
        reporter_name=pii.mask_name(pii.decrypt(case.reporter_name_enc)) if show_masked else None,
        reporter_phone=pii.mask_phone(pii.decrypt(case.reporter_phone_enc)) if show_masked else None,
        allowed_actions=allowed_actions(actor, case),
    )


def event_out(ev: CaseEvent) -> EventOut:
    return EventOut(
        id=ev.id,
        action=ev.action,
        action_label=event_label(ev.action, ev.data),
        actor=ev.actor_label,
        actor_role=ev.actor_role,
        from_state=ev.from_state,
        to_state=ev.to_state,
        note=ev.note,
        data=ev.data,
        attachment_ids=list(ev.attachment_ids or []),
        created_at=ev.created_at,
        public=ev.public,
    )


def case_links(session: Session, case: Case) -> dict[str, Any]:
    """What other domains add to a case's detail, e.g. the monitoring station of a sensor case: functions
    ``(session, case) -> dict`` declared as ``Domain.extra["case_detail"]``, so this engine names no domain.
    Only keys that are fields of ``CaseDetail`` are kept."""
    out: dict[str, Any] = {}
    for domain in domains.all_domains():
        for ref in domain.extra.get("case_detail", ()):
            out.update(domains.resolve(ref)(session, case))
    return {k: v for k, v in out.items() if k in CaseDetail.model_fields and k not in CaseOut.model_fields}


def case_detail(case: Case, actor: Principal, names: Names, session: Session | None = None) -> CaseDetail:
    base = case_out(case, actor, names)
    return CaseDetail(
        **base.model_dump(),
        events=[event_out(e) for e in case.events],
        attachments=[attachment_out(a) for a in case.attachments],
        **(case_links(session, case) if session is not None else {}),
    )
