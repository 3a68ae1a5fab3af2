"""POST requests: a client's service request becomes a case through the intake (source ``open311``), then the
rapid response runs. Auto-dispatched or merged requests answer with their number; queued ones with a token."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from civicgrid.cases.events import append_event
from civicgrid.cases.intake import ReportIn, report
from civicgrid.cases.rapid import respond
from civicgrid.errors import AppError
from civicgrid.models import ApiClient, Case, Category, utcnow
from civicgrid.open311 import location
from civicgrid.open311.attributes import check_values, load_definitions, summary
from civicgrid.open311.catalog import active_category, limit_notice
from civicgrid.open311.errors import Problems, fail
from civicgrid.open311.params import Params
from civicgrid.open311.status import REQUEST_ACTION
from civicgrid.open311.tokens import make_token
from civicgrid.org.roles import ANONYMOUS_CITIZEN
from civicgrid.security import audit, pii
from civicgrid.settings import get_settings
from civicgrid.storage.files import save_image

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://\S+$")


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class Submitted:
    case: Case
    outcome: str  # merged | dispatched | queued
    body: dict[str, Any]


def _where(session: Session, params: Params, problems: Problems) -> location.Place | None:
    lat, lng = params.get("lat"), params.get("long")
    text = params.get("address_string")
    if (lat is None) != (lng is None):
        problems.add(400, "lat 和 long 必须同时提供")
        return None
    if lat is not None and lng is not None:
        try:
            x, y = float(lng), float(lat)
        except ValueError:
            x = y = math.nan
        if not (math.isfinite(x) and math.isfinite(y)):
            problems.add(400, f"lat/long 应为有限的数字（WGS84 度），收到：{lat[:30]}, {lng[:30]}")
            return None
        return location.Place(x, y, text or "")
    grid = params.get("address_id")
    if grid is not None:
        place = location.by_address_id(session, grid)
        if place is None:
            problems.add(400, f"未知的地址编号（address_id，应为单元网格代码）：{grid}")
        return place
    if text is not None:
        place, reason = location.by_address_string(session, text)
        if place is None:
            problems.add(400, f"无法根据地址定位：{text}（{reason}）")
        return place
    problems.add(400, "缺少位置：请提供 lat 和 long、address_string 或 address_id 之一")
    return None


def _contact(params: Params, problems: Problems) -> tuple[str | None, str | None, str | None]:
    name = ((params.get("last_name") or "") + (params.get("first_name") or "")).strip() or None
    phone = params.get("phone")
    if phone is not None and not (5 <= len(phone) <= 20):
        problems.add(400, "phone 格式不正确")
    email = params.get("email")
    if email is not None and not _EMAIL.match(email):
        problems.add(400, f"email 格式不正确：{email}")
    return name, phone, email


def _check(
    session: Session, params: Params, problems: Problems
) -> tuple[Category | None, dict[str, Any], str]:
    code = params.get("service_code")
    cat = None
    if code is None:
        problems.add(400, "缺少 service_code")
    else:
        cat = active_category(session, code)
        if cat is None:
            problems.add(404, f"未知的服务代码（service_code）：{code}")
    values: dict[str, Any] = {}
    text = ""
    if cat is not None:
        defs = load_definitions(cat.attributes)
        values, errors = check_values(defs, params.attributes())
        for e in errors:
            problems.add(400, e)
        text = summary(defs, values)
    limit = get_settings().max_description_chars
    desc = params.get("description") or ""
    if len(desc) > limit:
        problems.add(400, f"description 过长：最多 {limit} 字，收到 {len(desc)} 字")
    media = params.get("media_url")
    if media is not None and (len(media) > 500 or not _URL.match(media)):
        problems.add(400, "media_url 应为 http(s) 网址，且不超过 500 字符")
    return cat, values, text


def submit(
    session: Session, params: Params, uploads: list[Upload], client: ApiClient, *, now: datetime | None = None
) -> Submitted:
    now = now or utcnow()
    problems = Problems()
    cat, values, attr_text = _check(session, params, problems)
    place = _where(session, params, problems)
    name, phone, email = _contact(params, problems)
    problems.raise_if_any()
    assert cat is not None and place is not None
    max_bytes = get_settings().max_upload_bytes
    try:
        ids = [save_image(session, u.data, filename=u.filename, max_bytes=max_bytes).id for u in uploads[:9]]
        result = report(
            session,
            ReportIn(
                description=params.get("description") or f"{cat.name}（{attr_text or '通过 Open311 上报'}）",
                lng=place.lng,
                lat=place.lat,
                category_code=cat.code,
                source="open311",
                address=place.address,
                reporter_name=name,
                reporter_phone=phone,
                attachment_ids=ids,
                api_client_id=client.id,
            ),
            ANONYMOUS_CITIZEN,
            now=now,
            rapid=False,
        )
    except AppError as exc:
        raise fail(404 if exc.status == 404 else 400, exc.message) from None
    case = result.case
    data = {
        "api_client_id": client.id,
        "api_client": client.name,
        "attributes": values,
        "media_url": params.get("media_url"),
        "device_id": params.get("device_id"),
        "account_id": params.get("account_id"),
        "email_enc": pii.encrypt(email) if email else None,
        "jurisdiction_id": params.get("jurisdiction_id"),
    }
    append_event(
        session,
        case,
        action=REQUEST_ACTION,
        actor=ANONYMOUS_CITIZEN,
        role="citizen",
        from_state=case.state,
        to_state=case.state,
        now=now,
        note=attr_text,
        data={k: v for k, v in data.items() if v not in (None, {}, "")},
    )
    session.flush()
    outcome = respond(session, case, now=now)
    audit.record(
        session,
        "api_key_use",
        subject=client.name,
        data={"client_id": client.id, "call": "POST requests", "case": case.number},
    )
    body: dict[str, Any] = {}
    if outcome == "queued":
        body["token"] = make_token(case.id)
        notice = f"已收到，等待受理员受理；受理后可凭 token 查询案卷号。{limit_notice(cat)}"
    else:
        body["service_request_id"] = case.number
        notice = "已自动立案并派遣处置部门。" + limit_notice(cat)
        if outcome == "merged":
            master = session.get(Case, case.master_case_id) if case.master_case_id else None
            notice = f"附近已有同类问题（案卷 {master.number if master else ''}），已并案处理。"
    body["service_notice"] = notice
    body["account_id"] = params.get("account_id")
    return Submitted(case, outcome, body)
