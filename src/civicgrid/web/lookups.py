"""Read helpers for the pages: category and street choices, departments, case map points, timelines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from civicgrid.cases.events import public_note
from civicgrid.cases.present import light
from civicgrid.cases.states import STATE_LABELS, event_label
from civicgrid.cases.tracking import open_tracked
from civicgrid.catalog.service import active_categories
from civicgrid.geo.service import area_by_code, areas_of_level, names_of
from civicgrid.models import Case, CaseEvent
from civicgrid.org.service import active_departments

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    group: str = ""


def category_choices(session: Session) -> list[Choice]:
    rows = active_categories(session)
    kinds = {"C": "部件", "E": "事件"}
    return [Choice(c.code, c.name, f"{kinds.get(c.kind, c.kind)} · {c.major_name}") for c in rows]


def street_choices(session: Session) -> list[Choice]:
    return [Choice(a.code, a.name) for a in areas_of_level(session, "street")]


def area_names(session: Session, codes: set[str]) -> dict[str, str]:
    return names_of(session, codes)


def department_choices(session: Session) -> list[Choice]:
    rows = active_departments(session)
    kinds = {"department": "专业部门", "street_office": "街道办事处"}
    return [Choice(d.code, d.name, kinds.get(d.kind, d.kind)) for d in rows]


def stage_due(case: Case) -> datetime | None:
    """The deadline that matters now: disposal due once dispatched, else the current stage's due time."""
    return case.due_at if case.due_at and case.dispatched_at else case.stage_due_at


def map_point(case: Case, now: datetime, names: dict[str, str] | None = None) -> dict[str, Any]:
    category = (names or {}).get(case.category_code, case.category_code)
    return {
        "id": case.id,
        "lat": case.lat,
        "lng": case.lng,
        "light": light(case, now),
        "label": case.number,
        "detail": f"{category} · {STATE_LABELS.get(case.state, case.state)}",
        "url": f"/cases/{case.id}",
    }


def json_block(value: Any) -> Markup:
    """JSON safe to place inside <script type="application/json"> (no "</" can close the element)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def grid_feature(session: Session, grid_code: str) -> dict[str, Any] | None:
    area = area_by_code(session, grid_code)
    if area is None:
        return None
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": area.code, "geometry": area.geometry, "properties": {"name": area.name}}
        ],
    }


PUBLIC_ACTIONS = frozenset(
    {"report", "register", "dispatch", "sign", "feedback", "close", "void", "merge", "rate", "reopen"}
)


@dataclass(frozen=True)
class TimelineItem:
    action: str
    label: str
    state_label: str
    actor: str
    role: str
    note: str
    at: datetime
    attachment_ids: tuple[int, ...]
    public: bool = False  # the note is 公开 (shown to the public); else 内部


def timeline(events: list[CaseEvent], *, public: bool) -> list[TimelineItem]:
    """Events newest first. The public view hides internal steps, people, and every note not marked 公开."""
    out = []
    for e in events:
        if public and e.action not in PUBLIC_ACTIONS:
            continue
        out.append(
            TimelineItem(
                action=e.action,
                label=event_label(e.action, e.data),
                state_label=STATE_LABELS.get(e.to_state, e.to_state),
                actor="" if public else e.actor_label,
                role="" if public else e.actor_role,
                note=public_note(e) if public else e.note,
                at=e.created_at,
                attachment_ids=() if public else tuple(int(i) for i in (e.attachment_ids or [])),
                public=e.public,
            )
        )
    return list(reversed(out))


def tracked_case(
    session: Session,
    number: str,
    code: str,
    user_id: int | None,
    *,
    client: str = "",
    remembered: bool = False,
) -> Case:
    """A case followed by its number: the reporter's own (logged in) or proven by the query code. A typed code
    is throttled per number and per client; one ``remembered`` in the signed tracking cookie is not (see
    cases/tracking.py)."""
    return open_tracked(session, number, code, client=client, user_id=user_id, remembered=remembered)
