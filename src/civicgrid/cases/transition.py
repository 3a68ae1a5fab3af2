"""The one function that changes a case's state: the case workflow handed to the workflow engine.

``transition(session, case, action, actor, data)`` checks the role, the actor's reach over the case, the state
and the action's own conditions; then applies the action's effect (stage timestamps, due times, counters),
sets the new state, appends an event to the case-event hash chain and calls the case-event subscribers — all
in the caller's transaction. It raises before writing anything when refused. The web forms, the JSON API,
Open311, the CLI, auto-dispatch and the SLA sweeper all call it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from civicgrid.cases.actions import ACTION_DATA, ActionData
from civicgrid.cases.attachments import attach, claim_attachments, label_step
from civicgrid.cases.effects import EFFECTS, Ctx, Effect
from civicgrid.cases.events import append_event
from civicgrid.cases.guards import GUARDS
from civicgrid.cases.scope import role_in_scope
from civicgrid.cases.states import RULES, STATE_LABELS
from civicgrid.models import Case, CaseEvent
from civicgrid.org.roles import Principal
from civicgrid.workflow import engine

# Whose words are public whatever they ask: a citizen's own (a rating's comment). Staff notes are internal
# unless the action's data says ``public``.
PUBLIC_ROLES = frozenset({"citizen"})


def _effect(fn: Effect) -> Callable[[engine.Ctx[Case]], str]:
    def run(c: engine.Ctx[Case]) -> str:
        ctx = Ctx(
            session=c.session,
            case=c.subject,
            actor=c.actor,
            role=c.role,
            now=c.now,
            data=c.data,
            extra=c.extra,
        )
        return fn(ctx).value

    return run


def _record(
    session: Any,
    case: Case,
    *,
    action: str,
    actor: Principal,
    role: str,
    from_state: str,
    to_state: str,
    now: datetime,
    payload: ActionData,
    extra: dict[str, Any],
) -> CaseEvent:
    label_step(session, payload.attachment_ids, action)
    return append_event(
        session,
        case,
        action=action,
        actor=actor,
        role=role,
        from_state=from_state,
        to_state=to_state,
        now=now,
        note=payload.note,
        data=extra,
        attachment_ids=payload.attachment_ids,
        public=payload.public or role in PUBLIC_ROLES,
    )


def _claim_attachments(session: Any, case: Case, actor: Principal, payload: ActionData) -> None:
    """The same ownership check as the intake: only the uploader's own photos (cases/attachments.py)."""
    attach(claim_attachments(session, payload.attachment_ids, actor, case_id=case.id), case.id)


CASE_WORKFLOW: engine.Workflow[Case] = engine.Workflow(
    name="case",
    subject_label="案卷",
    state_labels=STATE_LABELS,
    rules=RULES,
    data=ACTION_DATA,
    effects={action: _effect(fn) for action, fn in EFFECTS.items()},
    reach=lambda actor, role, case: role_in_scope(actor, role, case),
    record=_record,
    guards=GUARDS,
    before_effect=_claim_attachments,
)


def validate_data(action: str, data: ActionData | Mapping[str, Any] | None) -> ActionData:
    return CASE_WORKFLOW.validate_data(action, data)


def acting_role(actor: Principal, action: str, case: Case) -> str:
    """The role under which ``actor`` may take ``action`` on ``case``; raises 403 if none."""
    return CASE_WORKFLOW.acting_role(actor, action, case)


def allowed_actions(actor: Principal, case: Case) -> list[str]:
    """Actions ``actor`` may take on ``case`` right now (shown to users and listed with a 409)."""
    return CASE_WORKFLOW.allowed_actions(actor, case)


def transition(
    session: Any,
    case: Case,
    action: str,
    actor: Principal,
    data: ActionData | Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> CaseEvent:
    return CASE_WORKFLOW.transition(session, case, action, actor, data, now=now)
