"""The one function that changes a case's state.

``transition(session, case, action, actor, data)`` checks the role, the actor's reach over the case, the state
and the action's own conditions; then applies the action's effect (stage timestamps, due times, counters),
sets the new state and appends an event — all in the caller's transaction. It raises before writing anything
when refused. The web forms, the JSON API, Open311, the CLI, auto-dispatch and the SLA sweeper all call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from civicgrid import domains
from civicgrid.cases.actions import ACTION_DATA, ActionData
from civicgrid.cases.effects import EFFECTS, Ctx
from civicgrid.cases.events import append_event
from civicgrid.cases.guards import blocked_reason
from civicgrid.cases.scope import role_in_scope
from civicgrid.cases.states import RULES, STATE_LABELS
from civicgrid.errors import Forbidden, IllegalTransition, InvalidInput, NotYourCase
from civicgrid.models import Case, CaseEvent, utcnow
from civicgrid.org.roles import ROLE_LABELS, Principal


def validate_data(action: str, data: ActionData | Mapping[str, Any] | None) -> ActionData:
    model = ACTION_DATA.get(action)
    if model is None:
        raise InvalidInput(f"未知的操作：{action}", allowed=sorted(ACTION_DATA))
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(dict(data or {}))
    except ValidationError as exc:
        raise InvalidInput(
            _explain(exc), errors=exc.errors(include_url=False, include_context=False)
        ) from None


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "请求体"
        parts.append(f"{field}：{err['msg']}")
    return "；".join(parts)


def acting_role(actor: Principal, action: str, case: Case) -> str:
    """The role under which ``actor`` may take ``action`` on ``case``; raises 403 if none."""
    rule = RULES[action]
    held = [r for r in sorted(actor.roles) if r in rule.roles]
    if not held:
        need = "、".join(ROLE_LABELS.get(r, r) for r in sorted(rule.roles) if r != "system")
        raise Forbidden(f"「{rule.label}」只能由{need}执行", required_roles=sorted(rule.roles))
    for role in held:
        if role_in_scope(actor, role, case):
            return role
    raise NotYourCase(f"该案卷不在您的职责范围内，不能执行「{rule.label}」")


def allowed_actions(actor: Principal, case: Case) -> list[str]:
    """Actions ``actor`` may take on ``case`` right now (shown to users and listed with a 409)."""
    out = []
    for action, rule in RULES.items():
        if case.state not in rule.from_states or blocked_reason(action, case):
            continue
        if any(r in rule.roles and role_in_scope(actor, r, case) for r in actor.roles):
            out.append(action)
    return out


def transition(
    session: Any,
    case: Case,
    action: str,
    actor: Principal,
    data: ActionData | Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> CaseEvent:
    if action not in RULES:
        raise InvalidInput(f"未知的操作：{action}", allowed=sorted(RULES))
    rule = RULES[action]
    role = acting_role(actor, action, case)
    if case.state not in rule.from_states:
        raise IllegalTransition(
            f"案卷当前状态为「{STATE_LABELS[case.state]}」，不能执行「{rule.label}」",
            state=case.state,
            allowed=allowed_actions(actor, case),
        )
    reason = blocked_reason(action, case)
    if reason:
        raise IllegalTransition(
            f"不能执行「{rule.label}」：{reason}", state=case.state, allowed=allowed_actions(actor, case)
        )
    payload = validate_data(action, data)  # after the refusals, so a refusal never hides behind a body error
    _check_attachments(session, case, payload.attachment_ids)

    now = (now or utcnow()).astimezone(UTC)
    ctx = Ctx(session=session, case=case, actor=actor, role=role, now=now, data=payload, extra={})
    from_state = case.state
    to_state = EFFECTS[action](ctx)
    case.state = to_state.value
    event = append_event(
        session,
        case,
        action=action,
        actor=actor,
        role=role,
        from_state=from_state,
        to_state=to_state.value,
        now=now,
        note=payload.note,
        data=_jsonable(ctx.extra),
        attachment_ids=payload.attachment_ids,
    )
    session.flush()
    # Whatever must follow from the change (inbox notices, webhooks, callbacks, roll-ups) is written by the
    # registered subscribers in this same transaction: it exists exactly when the change does.
    for subscriber in domains.callables("subscribers"):
        subscriber(session, case, event)
    session.flush()
    return event


def _check_attachments(session: Any, case: Case, ids: list[int]) -> None:
    if not ids:
        return
    from civicgrid.models import Attachment

    for att_id in ids:
        att = session.get(Attachment, att_id)
        if att is None or (att.case_id is not None and att.case_id != case.id):
            raise InvalidInput(f"附件 {att_id} 不存在或不属于该案卷")
        att.case_id = case.id


def _jsonable(extra: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in extra.items()}
