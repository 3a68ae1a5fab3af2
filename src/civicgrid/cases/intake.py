"""Intake (信息收集): a report becomes a case — validated, located, classified, numbered, recorded — and then
the rapid-response steps run: merge with a duplicate, or register and dispatch automatically when trusted."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from civicgrid.cases import sources
from civicgrid.cases.attachments import attach, claim_attachments
from civicgrid.cases.events import append_event
from civicgrid.cases.numbering import next_number
from civicgrid.cases.states import State
from civicgrid.errors import InvalidInput
from civicgrid.fields import TEXT_ERROR, bad_text
from civicgrid.geo.service import locate, locate_address
from civicgrid.models import Case, Category, utcnow
from civicgrid.org.roles import Principal
from civicgrid.security import codes, pii
from civicgrid.settings import get_settings


@dataclass
class ReportIn:
    description: str
    lng: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    category_code: str | None = None
    source: str = "citizen"
    address: str = ""
    reporter_name: str | None = None
    reporter_phone: str | None = None
    attachment_ids: list[int] = field(default_factory=list)
    upload_tokens: list[str] = field(default_factory=list)  # tokens of anonymous uploads in attachment_ids
    api_client_id: int | None = None


@dataclass
class IntakeResult:
    case: Case
    query_code: str | None  # shown once to an anonymous reporter
    suggestions: list[dict[str, object]] = field(default_factory=list)


def _classify(text: str) -> tuple[str | None, float | None, list[dict[str, object]]]:
    try:
        from civicgrid.classify.model import Classifier

        pred = Classifier.load().predict_one(text)
    except (ImportError, FileNotFoundError, OSError):
        return None, None, []
    cands = [{"code": c.code, "name": c.name, "confidence": round(c.confidence, 4)} for c in pred.candidates]
    return pred.category_code, pred.confidence, cands


def _validate(data: ReportIn) -> None:
    s = get_settings()
    desc = (data.description or "").strip()
    if not desc:
        raise InvalidInput("问题描述（description）不能为空")
    if len(desc) > s.max_description_chars:
        raise InvalidInput(f"问题描述过长：最多 {s.max_description_chars} 字，收到 {len(desc)} 字")
    sources.get(data.source)  # a known source (who may claim it is checked at the door: ``check_claim``)
    if data.reporter_phone and not (5 <= len(data.reporter_phone.strip()) <= 20):
        raise InvalidInput("联系电话格式不正确")
    # Every entry point (web forms, Open311, the CLI) comes through here: no control character reaches the
    # database (PostgreSQL refuses NUL with an error), no NaN reaches the locator.
    texts = {
        "问题描述": desc,
        "地址": data.address,
        "姓名": data.reporter_name,
        "联系电话": data.reporter_phone,
    }
    for label, text in texts.items():
        if text and bad_text(text):
            raise InvalidInput(f"{label}{TEXT_ERROR}")
    if any(v is not None and not math.isfinite(v) for v in (data.lng, data.lat)):
        raise InvalidInput("经纬度必须是有限的数字")


def report(
    session: Session, data: ReportIn, reporter: Principal, *, now: datetime | None = None, rapid: bool = True
) -> IntakeResult:
    _validate(data)
    now = (now or utcnow()).astimezone(UTC)
    address_confidence = None
    if data.lng is None or data.lat is None:
        if data.lng is not None or data.lat is not None:
            raise InvalidInput("经度（lng）和纬度（lat）必须同时提供")
        if not data.address.strip():
            raise InvalidInput("请提供位置：经纬度（lng、lat）或地址（address）")
        loc, match = locate_address(session, data.address)
        address_confidence = match.confidence
    else:
        loc = locate(session, data.lng, data.lat, data.crs)
    suggestions: list[dict[str, object]] = []
    # A category chosen by the reporter is not a machine classification: it earns no auto-dispatch on its own.
    confidence: float | None = None
    if data.category_code:
        category = session.get(Category, data.category_code)
        if category is None or not category.active:
            raise InvalidInput(f"未知的类别代码（category_code）：{data.category_code}")
    else:
        code, confidence, suggestions = _classify(data.description)
        category = session.get(Category, code or "E0899")
        if category is None:
            raise InvalidInput("无法确定问题类别，请选择类别（category_code）")
    photos = claim_attachments(session, data.attachment_ids, reporter, tokens=data.upload_tokens)

    query_code = None if reporter.user_id else codes.issue()
    case = Case(
        number=next_number(session, category.code, now, get_settings().timezone),
        state=State.received.value,
        category_code=category.code,
        classification_confidence=confidence,
        description=data.description.strip(),
        source=data.source,
        urgent=category.urgent,
        lng=loc.lng,
        lat=loc.lat,
        address=(data.address or "")[:300],
        generation_id=loc.generation_id,
        grid_code=loc.grid_code,
        community_code=loc.community_code,
        street_code=loc.street_code,
        reporter_user_id=reporter.user_id,
        reporter_name_enc=pii.encrypt(data.reporter_name),
        reporter_phone_enc=pii.encrypt(data.reporter_phone),
        reporter_phone_hash=pii.keyed_hash(data.reporter_phone) if data.reporter_phone else None,
        query_code_hash=codes.digest(query_code) if query_code else None,
        api_client_id=data.api_client_id,
        received_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    attach(photos, case.id, "report")
    role = sorted(reporter.roles)[0] if reporter.roles else "citizen"
    append_event(
        session,
        case,
        action="report",
        actor=reporter,
        role=role,
        from_state=None,
        to_state=case.state,
        now=now,
        note=sources.label(data.source),
        data={
            "source": data.source,
            "grid_code": case.grid_code,
            "confidence": confidence,
            "address_confidence": address_confidence,
        },
        attachment_ids=data.attachment_ids,
        public=True,  # its note is the channel's name, written by the system
    )
    if rapid:
        from civicgrid.cases.rapid import respond

        respond(session, case, now=now)
    session.flush()  # one flush for the report and what rapid response did with it
    return IntakeResult(case=case, query_code=query_code, suggestions=suggestions)
