"""One transition function for every workflow: the city-management case (案卷), and the ones to come — the
12345 work order, the dispute, the supervision task. A workflow is data: its states, a rule table (who may
take which action from which states, and where it leads), the data each action takes, guards beyond the
table, the effect of each action, how a role reaches a subject, and how an event is recorded (each in its own
hash chain). ``transition`` checks the role, the actor's reach, the state, the guards and the data — in that
order, raising before anything is written — then applies the effect, sets the state, records the event and
calls the workflow's subscribers (``Domain.subscribers``), all in the caller's transaction.

Pure of storage: the engine imports no table; each workflow brings its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from civicgrid import domains, validation
from civicgrid.errors import Forbidden, IllegalTransition, InvalidInput, NotYourCase
from civicgrid.org.roles import ROLE_LABELS, Principal

S = TypeVar("S")  # the subject: a case, a work order, a task …


@dataclass(frozen=True)
class Rule:
    """Who may take an action from which states, and where it leads (None: decided by the effect)."""

    action: str
    label: str
    roles: frozenset[str]
    from_states: frozenset[str]
    to_state: str | None


def rule(action: str, label: str, roles: str, from_states: Iterable[str], to: str | None) -> Rule:
    """A rule row: ``rule("sign", "签收", "handler", {"dispatched"}, "processing")``."""
    return Rule(action, label, frozenset(roles.split()), frozenset(from_states), to)


@dataclass
class Ctx(Generic[S]):
    """What an effect receives."""

    session: Any
    subject: S
    actor: Principal
    role: str
    now: datetime
    data: Any  # the action's validated model
    extra: dict[str, Any]  # facts recorded in the event's data


Guard = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class Workflow(Generic[S]):
    name: str  # also the key of its subscribers in the domain registry
    subject_label: str  # 案卷, 工单, 任务 … (in refusal messages)
    state_labels: Mapping[str, str]
    rules: Mapping[str, Rule]
    data: Mapping[str, type[BaseModel]]
    effects: Mapping[str, Callable[[Ctx[Any]], str]]  # returns the state the subject ends in
    reach: Callable[[Principal, str, Any], bool]  # does this role (held by the actor) reach the subject?
    record: Callable[..., Any]  # append the event (and link it into the workflow's hash chain)
    guards: Mapping[str, tuple[Guard, ...]] = field(default_factory=dict)
    # (session, subject, actor, data), after every check and before the effect: e.g. claim uploaded photos
    before_effect: Callable[[Any, Any, Principal, Any], None] | None = None

    def __post_init__(self) -> None:
        if not set(self.rules) == set(self.data) == set(self.effects):
            raise ValueError(f"workflow {self.name}: every action needs a rule, a data model and an effect")

    # --- questions a page asks ---------------------------------------------------------------------------

    def blocked_reason(self, action: str, subject: S) -> str | None:
        for guard in self.guards.get(action, ()):
            reason = guard(subject)
            if reason:
                return reason
        return None

    def acting_role(self, actor: Principal, action: str, subject: S) -> str:
        """The role under which ``actor`` may take ``action``; raises 403 if none."""
        r = self.rules[action]
        held = [x for x in sorted(actor.roles) if x in r.roles]
        if not held:
            need = "、".join(ROLE_LABELS.get(x, x) for x in sorted(r.roles) if x != "system")
            raise Forbidden(f"「{r.label}」只能由{need}执行", required_roles=sorted(r.roles))
        for role in held:
            if self.reach(actor, role, subject):
                return role
        raise NotYourCase(f"该{self.subject_label}不在您的职责范围内，不能执行「{r.label}」")

    def allowed_actions(self, actor: Principal, subject: S) -> list[str]:
        """Actions ``actor`` may take on ``subject`` right now (shown to users and listed with a 409)."""
        state = getattr(subject, "state")  # noqa: B009
        out = []
        for action, r in self.rules.items():
            if state not in r.from_states or self.blocked_reason(action, subject):
                continue
            if any(x in r.roles and self.reach(actor, x, subject) for x in actor.roles):
                out.append(action)
        return out

    def validate_data(self, action: str, data: BaseModel | Mapping[str, Any] | None) -> Any:
        model = self.data.get(action)
        if model is None:
            raise InvalidInput(f"未知的操作：{action}", allowed=sorted(self.data))
        if isinstance(data, model):
            return data
        try:
            return model.model_validate(dict(data or {}))
        except ValidationError as exc:  # where and what, never the input (validation.py)
            raise validation.invalid(exc.errors(include_url=False, include_input=False)) from None

    # --- the one function that changes a subject's state ---------------------------------------------

    def transition(
        self,
        session: Any,
        subject: S,
        action: str,
        actor: Principal,
        data: BaseModel | Mapping[str, Any] | None = None,
        *,
        now: datetime | None = None,
    ) -> Any:
        if action not in self.rules:
            raise InvalidInput(f"未知的操作：{action}", allowed=sorted(self.rules))
        r = self.rules[action]
        role = self.acting_role(actor, action, subject)
        state = getattr(subject, "state")  # noqa: B009
        if state not in r.from_states:
            raise IllegalTransition(
                f"{self.subject_label}当前状态为「{self.state_labels[state]}」，不能执行「{r.label}」",
                state=state,
                allowed=self.allowed_actions(actor, subject),
            )
        reason = self.blocked_reason(action, subject)
        if reason:
            raise IllegalTransition(
                f"不能执行「{r.label}」：{reason}", state=state, allowed=self.allowed_actions(actor, subject)
            )
        payload = self.validate_data(
            action, data
        )  # after the refusals: a refusal never hides behind a body error
        if self.before_effect is not None:
            self.before_effect(session, subject, actor, payload)

        now = (now or datetime.now(UTC)).astimezone(UTC)
        ctx: Ctx[S] = Ctx(
            session=session, subject=subject, actor=actor, role=role, now=now, data=payload, extra={}
        )
        to_state = str(self.effects[action](ctx))
        subject.state = to_state  # type: ignore[attr-defined]
        event = self.record(
            session,
            subject,
            action=action,
            actor=actor,
            role=role,
            from_state=state,
            to_state=to_state,
            now=now,
            payload=payload,
            extra=_jsonable(ctx.extra),
        )
        session.flush()
        # Whatever must follow from the change (inbox notices, webhooks, callbacks, roll-ups) is written by
        # the workflow's subscribers in this same transaction: it exists exactly when the change does.
        for subscriber in subscribers(self.name):
            subscriber(session, subject, event)
        session.flush()
        return event


def subscribers(workflow: str) -> list[Callable[[Any, Any, Any], None]]:
    """The registered subscribers of one workflow's events (``Domain.subscribers``: (workflow, ref) pairs)."""
    return [domains.resolve(ref) for name, ref in domains.each("subscribers") if name == workflow]


def _jsonable(extra: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in extra.items()}
