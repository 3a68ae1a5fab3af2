"""The case API: report, list, read, act, follow by number, photos."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from civicgrid import idempotency
from civicgrid.cases import present, repository, sources
from civicgrid.cases.intake import ReportIn, report
from civicgrid.cases.schemas import AttachmentOut, CaseDetail, CasePage, ReportBody, ReportOut, TrackOut
from civicgrid.cases.states import STATE_LABELS, State
from civicgrid.cases.transition import transition
from civicgrid.deps import DbSession, RowId
from civicgrid.errors import Forbidden, InvalidInput, NotFound, UnsupportedMedia
from civicgrid.models import Attachment, Case
from civicgrid.org.auth import CurrentUser, Reporter
from civicgrid.org.roles import ANONYMOUS_CITIZEN, Principal
from civicgrid.security import audit, pii
from civicgrid.security.pii import keyed_hash
from civicgrid.settings import get_settings
from civicgrid.storage.files import get_storage, save_image

router = APIRouter(prefix="/api/v1", tags=["案卷 cases"])


@dataclass
class _Submission:
    """A report request read off the wire (asynchronously), before any database work."""

    raw: Any
    photos: list[tuple[str, bytes]]
    digest: str | None  # hash of a JSON body, for Idempotency-Key checks


async def _read_submission(request: Request) -> _Submission:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str) and v != ""}
        photos = []
        for upload in form.getlist("photos"):
            if not isinstance(upload, str) and upload.filename:
                photos.append((upload.filename, await upload.read(get_settings().max_upload_bytes + 1)))
        return _Submission(fields, photos, None)
    body = await request.body()
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("请求体不是有效的 UTF-8 JSON（或嵌套过深）") from None
    return _Submission(raw, [], idempotency.body_hash(body))


def _validated(session: Any, actor: Principal, sub: _Submission) -> ReportBody:
    raw = sub.raw
    if sub.photos:
        limit = get_settings().max_upload_bytes
        ids = [
            save_image(session, data, filename=name, uploaded_by=actor.user_id, max_bytes=limit).id
            for name, data in sub.photos
        ]
        raw = {**raw, "attachment_ids": ids}
    try:
        return ReportBody.model_validate(raw)
    except ValidationError as exc:
        msg = "；".join(f"{'.'.join(str(p) for p in e['loc'])}：{e['msg']}" for e in exc.errors())
        raise InvalidInput(msg, errors=exc.errors(include_url=False, include_context=False)) from None


@router.post(
    "/reports",
    status_code=201,
    response_model=ReportOut,
    summary="上报问题（JSON 或带照片的表单）",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": ReportBody.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "description": {"type": "string"},
                            "lng": {"type": "number"},
                            "lat": {"type": "number"},
                            "category_code": {"type": "string"},
                            "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        },
                        "required": ["description", "lng", "lat"],
                    }
                },
            },
            "required": True,
        }
    },
)
async def post_report(request: Request, session: DbSession, actor: Reporter) -> Any:
    # Read the request on the event loop; do every database step in the thread pool, so a worker waiting on
    # the database never blocks its other connections.
    key = request.headers.get("idempotency-key")
    sub = await _read_submission(request)
    return await run_in_threadpool(_post_report, session, actor, key, sub)


def _post_report(session: Any, actor: Principal, key: str | None, sub: _Submission) -> Any:
    scope = f"reports:{actor.user_id or 'anonymous'}"
    if key:
        key = idempotency.check_key(key)
        earlier = idempotency.claim(session, scope, key, sub.digest)
        if earlier is not None:
            return JSONResponse(
                earlier.response, status_code=earlier.status, headers={"Idempotent-Replayed": "true"}
            )
    body = _validated(session, actor, sub)
    sources.check_claim(actor, body.source)
    result = report(session, ReportIn(**body.model_dump()), actor)
    case = result.case
    names = present.names(session)
    master = session.get(Case, case.master_case_id) if case.master_case_id else None
    outcome = (
        "merged"
        if case.state == State.merged
        else ("dispatched" if case.state == State.dispatched else "queued")
    )
    out = ReportOut(
        id=case.id,
        number=case.number,
        state=case.state,
        state_label=STATE_LABELS[case.state],
        category_code=case.category_code,
        category_name=names.categories.get(case.category_code, ""),
        grid_code=case.grid_code,
        query_code=result.query_code,
        outcome=outcome,
        master_number=master.number if master else None,
        suggestions=result.suggestions,
    )
    if key:
        idempotency.remember(session, scope, key, 201, out.model_dump(mode="json"))
    # Commit here, on this thread, before the answer is serialised: the write lock is held no longer than the
    # intake needs (the request's own commit after this finds nothing left to do).
    session.commit()
    return out


@router.get("/cases", response_model=CasePage, summary="案卷列表（按权限范围）")
def list_cases(
    session: DbSession,
    actor: CurrentUser,
    state: Annotated[list[State] | None, Query(description="状态，可多选")] = None,
    category: str | None = None,
    department: str | None = None,
    street: str | None = None,
    community: str | None = None,
    grid: str | None = None,
    source: str | None = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
    overdue: bool | None = None,
    number: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CasePage:
    f = repository.CaseFilter(
        states=[s.value for s in state] if state else None,
        category_code=category,
        department_code=department,
        street_code=street,
        community_code=community,
        grid_code=grid,
        source=source,
        received_from=received_from,
        received_to=received_to,
        overdue=overdue,
        number=number,
    )
    rows, total = repository.list_cases(session, actor, f, page=page, page_size=page_size)
    names = present.names(session)
    return CasePage(
        total=total, page=page, page_size=page_size, items=[present.case_out(c, actor, names) for c in rows]
    )


@router.get("/cases/{case_id}", response_model=CaseDetail, summary="案卷详情（含流转记录）")
def get_case(case_id: RowId, session: DbSession, actor: CurrentUser) -> CaseDetail:
    case = repository.get_case(session, actor, case_id, with_events=True)
    return present.case_detail(case, actor, present.names(session))


@router.post("/cases/{case_id}/actions/{action}", response_model=CaseDetail, summary="对案卷执行操作")
def act(
    case_id: RowId,
    action: str,
    session: DbSession,
    actor: CurrentUser,
    body: Annotated[dict[str, Any] | None, Body(description='操作参数，如 {"department_code": "HW"}')] = None,
) -> CaseDetail:
    repository.get_case(session, actor, case_id)  # 404/403 before anything else
    case = repository.get_case_for_update(session, case_id)
    transition(session, case, action, actor, body or {})
    # The actor was allowed to act; show them the result even if it left their scope (a handler's 回退).
    return present.case_detail(repository.load_full(session, case_id), actor, present.names(session))


REVEAL_ROLES = frozenset({"operator", "shift_lead", "dispatcher"})


@router.post("/cases/{case_id}/reveal", summary="查看报告人完整联系方式（仅受理员/值班长/派遣员，记入审计）")
def reveal(case_id: RowId, request: Request, session: DbSession, actor: CurrentUser) -> dict[str, Any]:
    if not actor.has_any(REVEAL_ROLES):
        raise Forbidden("只有受理员、值班长、派遣员可以查看报告人完整联系方式")
    case = repository.get_case(session, actor, case_id)
    audit.record(
        session,
        "reveal",
        user_id=actor.user_id,
        subject=case.number,
        ip=request.client.host if request.client else "",
        data={"fields": ["reporter_name", "reporter_phone"]},
    )
    return {
        "number": case.number,
        "reporter_name": pii.decrypt(case.reporter_name_enc),
        "reporter_phone": pii.decrypt(case.reporter_phone_enc),
    }


# --- Following a case by its number (public, with the query code) -------------------------------------------


def _tracked(session: Any, number: str, code: str | None, actor: Principal | None) -> Case:
    case = repository.get_by_number(session, number.strip().upper())
    if case is None:
        raise NotFound("案卷号不存在")
    own = actor is not None and actor.user_id is not None and case.reporter_user_id == actor.user_id
    if not own and (
        not code
        or not case.query_code_hash
        or not hmac.compare_digest(case.query_code_hash, keyed_hash("q:" + code.strip().upper()))
    ):
        raise NotFound("案卷号或查询码不正确")
    return case


@router.get("/track/{number}", response_model=TrackOut, summary="凭案卷号和查询码查询进度")
def track(number: str, session: DbSession, code: str | None = None) -> TrackOut:
    case = _tracked(session, number, code, None)
    names = present.names(session)
    public_actions = {
        "report",
        "register",
        "dispatch",
        "sign",
        "feedback",
        "close",
        "void",
        "merge",
        "rate",
        "reopen",
    }
    return TrackOut(
        number=case.number,
        state=case.state,
        state_label=STATE_LABELS[case.state],
        category_name=names.categories.get(case.category_code, ""),
        description=case.description,
        received_at=case.received_at,
        closed_at=case.closed_at,
        due_at=case.due_at,
        rating=case.rating,
        timeline=[
            {
                "action": e.action,
                "label": present.ACTION_LABELS.get(e.action, e.action),
                "state_label": STATE_LABELS[e.to_state],
                "note": e.note if e.action in {"feedback", "close", "void"} else "",
                "created_at": e.created_at,
            }
            for e in case.events
            if e.action in public_actions
        ],
        photos=[present.attachment_out(a) for a in case.attachments],
    )


@router.post("/track/{number}/rate", summary="凭查询码评价已结案件")
def rate_tracked(
    number: str,
    session: DbSession,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    case = _tracked(session, number, str(body.get("query_code") or ""), None)
    transition(session, repository.get_case_for_update(session, case.id), "rate", ANONYMOUS_CITIZEN, body)
    return {"number": case.number, "rating": case.rating}


# --- Photos -------------------------------------------------------------------------------------------------


@router.post("/attachments", response_model=AttachmentOut, status_code=201, summary="上传照片")
async def upload(
    session: DbSession, actor: Reporter, file: Annotated[UploadFile, File(description="图片文件")]
) -> AttachmentOut:
    limit = get_settings().max_upload_bytes
    data = await file.read(limit + 1)

    def store() -> AttachmentOut:
        att = save_image(
            session, data, filename=file.filename or "", uploaded_by=actor.user_id, max_bytes=limit
        )
        return present.attachment_out(att)

    return await run_in_threadpool(store)


def _attachment(session: Any, att_id: int, actor: Principal | None, code: str | None) -> Attachment:
    att = session.get(Attachment, att_id)
    if att is None:
        raise NotFound("照片不存在")
    if att.case_id is None:
        if actor is None or (
            att.uploaded_by != actor.user_id and not actor.has_any({"operator", "shift_lead", "admin"})
        ):
            raise NotFound("照片不存在")
        return att
    case = session.get(Case, att.case_id)
    if actor is not None:
        repository.get_case(session, actor, case.id)
    else:
        _tracked(session, case.number, code, None)
    return att


def _photo(att: Attachment, suffix: str) -> Response:
    try:
        data = get_storage().get(att.storage_key + suffix)
    except NotFound:
        raise
    except OSError:
        raise UnsupportedMedia("照片文件读取失败") from None
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/attachments/{att_id}", summary="照片（已去除位置信息）", response_class=Response)
def photo(att_id: RowId, request: Request, session: DbSession, code: str | None = None) -> Response:
    from civicgrid.org.auth import optional_principal

    return _photo(_attachment(session, att_id, optional_principal(request, session), code), ".jpg")


@router.get("/attachments/{att_id}/thumb", summary="照片缩略图", response_class=Response)
def thumb(att_id: RowId, request: Request, session: DbSession, code: str | None = None) -> Response:
    from civicgrid.org.auth import optional_principal

    return _photo(_attachment(session, att_id, optional_principal(request, session), code), ".thumb.jpg")
