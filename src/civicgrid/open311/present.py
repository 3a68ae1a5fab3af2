"""A case as an Open311 service request: public fields only (no reporter data), names looked up in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.cases import sources
from civicgrid.cases.events import public_note
from civicgrid.models import Area, Attachment, Case, CaseEvent, Category, Department
from civicgrid.open311.catalog import limit_notice
from civicgrid.open311.status import HIDDEN, REQUEST_ACTION, event_text, request_status
from civicgrid.open311.timefmt import w3c


def media_path(att_id: int) -> str:
    return f"/open311/v2/media/{att_id}.jpg"


class Context:
    """Everything the presenter needs for a page of cases, loaded with a handful of queries."""

    def __init__(self, session: Session, cases: Sequence[Case], base_url: str) -> None:
        ids = [c.id for c in cases]
        self.base_url = base_url.rstrip("/")
        self.categories = {c.code: c for c in session.scalars(select(Category))}
        self.departments = {d.id: d.name for d in session.scalars(select(Department))}
        codes = {c.street_code for c in cases} | {c.community_code for c in cases}
        self.area_names: dict[str, str] = {}
        if codes:
            for code, name in session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))):
                self.area_names[code] = name
        self.events: dict[int, list[CaseEvent]] = {i: [] for i in ids}
        self.photos: dict[int, list[int]] = {i: [] for i in ids}
        masters = {c.master_case_id for c in cases if c.master_case_id}
        self.master_numbers: dict[int, str] = {}
        if ids:
            for ev in session.scalars(
                select(CaseEvent).where(CaseEvent.case_id.in_(ids)).order_by(CaseEvent.id)
            ):
                self.events[ev.case_id].append(ev)
            for att_id, owner in session.execute(
                select(Attachment.id, Attachment.case_id)
                .where(Attachment.case_id.in_(ids))
                .order_by(Attachment.id)
            ):
                if owner is not None:
                    self.photos[owner].append(att_id)
        if masters:
            self.master_numbers = dict(
                session.execute(select(Case.id, Case.number).where(Case.id.in_(masters))).all()
            )

    def url(self, path: str) -> str:
        return self.base_url + path


def client_data(events: Sequence[CaseEvent]) -> dict[str, Any]:
    for ev in events:
        if ev.action == REQUEST_ACTION:
            return dict(ev.data or {})
    return {}


def attribute_list(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Attribute values as a list (codes may not be valid XML element names)."""
    return [
        {"code": code, "values": list(v)} if isinstance(v, list) else {"code": code, "value": v}
        for code, v in values.items()
    ]


def public_events(events: Sequence[CaseEvent]) -> list[CaseEvent]:
    return [e for e in events if e.action not in HIDDEN]


def service_request(case: Case, ctx: Context, *, extensions: bool = False) -> dict[str, Any]:
    cat = ctx.categories.get(case.category_code)
    events = ctx.events.get(case.id, [])
    shown = public_events(events)
    latest = shown[-1] if shown else None
    extra = client_data(events)
    photos = [ctx.url(media_path(i)) for i in ctx.photos.get(case.id, [])]
    media_url = extra.get("media_url") or (photos[0] if photos else None)
    place = ctx.area_names.get(case.street_code, "") + ctx.area_names.get(case.community_code, "")
    out: dict[str, Any] = {
        "service_request_id": case.number,
        "status": request_status(case.state),
        "status_notes": event_text(latest.action, latest.to_state, public_note(latest)) if latest else None,
        "service_name": cat.name if cat else case.category_code,
        "service_code": case.category_code,
        "description": case.description,
        "agency_responsible": ctx.departments.get(case.department_id) if case.department_id else None,
        "service_notice": limit_notice(cat) if cat else None,
        "requested_datetime": w3c(case.received_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(case.due_at),
        "address": case.address or place or None,
        "address_id": case.grid_code,
        "zipcode": None,
        "lat": round(case.lat, 6),
        "long": round(case.lng, 6),
        "media_url": media_url,
    }
    if extensions:
        out["extended_attributes"] = {
            "channel": sources.label(case.source),
            "source": case.source,
            "duplicate": case.master_case_id is not None,
            "parent_service_request_id": ctx.master_numbers.get(case.master_case_id)
            if case.master_case_id
            else None,
            "report_count": case.report_count,
            "grid_code": case.grid_code,
            "street": ctx.area_names.get(case.street_code),
            "community": ctx.area_names.get(case.community_code),
            "attributes": attribute_list(extra.get("attributes") or {}),
            "photos": photos,
        }
        out["notes"] = [
            {
                "datetime": w3c(e.created_at),
                "description": event_text(e.action, e.to_state, public_note(e)),
                "type": "status_change" if e.from_state != e.to_state else "note",
                "action": e.action,
            }
            for e in shown
        ]
    return out
