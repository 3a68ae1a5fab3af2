"""The case API: report, list, read, act, follow by number, photos."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Header, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from civicgrid import idempotency, jsonbody, validation
from civicgrid.cases import batch, present, repository, sources, tracking
from civicgrid.cases.attachments import owns_upload
from civicgrid.cases.intake import ReportIn, report
from civicgrid.cases.schemas import (
    AttachmentOut,
    BatchBody,
    BatchItemOut,
    BatchOut,
    CaseDetail,
    CasePage,
    ReportBody,
    ReportOut,
    TrackOut,
)
from civicgrid.cases.states import STATE_LABELS, State
from civicgrid.cases.transition import transition
from civicgrid.deps import DbSession, RowId, run_write
from civicgrid.errors import Forbidden, InvalidInput, NotFound, UnsupportedMedia
from civicgrid.fields import SaneDateTime
from civicgrid.models import Attachment, Case
from civicgrid.org.auth import CurrentUser, Reporter
from civicgrid.org.roles import ANONYMOUS_CITIZEN, Principal
from civicgrid.security import audit, pii
from civicgrid.settings import get_settings
from civicgrid.storage.files import check_anonymous_quota, get_storage, store_image
from civicgrid.storage.images import PreparedImage, prepare_off_loop

router = APIRouter(prefix="/api/v1", tags=["案卷 cases"], route_class=jsonbody.JsonRoute)


@dataclass
class _Submission:
    """A report request read off the wire (asynchronously), before any database work."""

    raw: Any
    photos: list[tuple[str, bytes]]
    digest: str  # canonical digest of the body (fields and photo hashes), for Idempotency-Key checks
    client: str = ""  # the client's address (anonymous uploads are limited per client)
    images: list[PreparedImage] = field(default_factory=list)  # the photos, checked and rendered


async def _read_submission(request: Request) -> _Submission:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str) and v != ""}
        photos = []
        for upload in form.getlist("photos"):
            if not isinstance(upload, str) and upload.filename:
                photos.append((upload.filename, await upload.read(get_settings().max_upload_bytes + 1)))
        digest = idempotency.form_digest(
            [(k, v) for k, v in form.multi_items() if isinstance(v, str)], [("photos", d) for _, d in photos]
        )
        return _Submission(fields, photos, digest)
    if jsonbody.PARSED in request.scope:  # parsed strictly by the JsonBody middleware
        raw = request.scope[jsonbody.PARSED]
    else:  # an empty body, or one sent without a JSON content type
        try:
            raw = jsonbody.loads_strict(await request.body())
        except jsonbody.JsonRejected as exc:
            raise InvalidInput(str(exc)) from None
    return _Submission(raw, [], idempotency.json_digest(raw))


MAX_PHOTOS = 9


def _body(raw: Any) -> ReportBody:
    try:
        return ReportBody.model_validate(raw)
    except ValidationError as exc:
        raise validation.invalid(exc.errors(include_url=False, include_input=False)) from None


async def _prepare_photos(sub: _Submission) -> None:
    """Refuse a bad body or too many photos before decoding any; then check and render the photos on the
    image threads (not the database's), so a refused report costs no decoding and no file."""
    if not sub.photos:
        return
    if len(sub.photos) > MAX_PHOTOS:
        raise InvalidInput(f"最多上传 {MAX_PHOTOS} 张照片，收到 {len(sub.photos)} 张")
    _body(sub.raw)
    limit = get_settings().max_upload_bytes
    sub.images = [await prepare_off_loop(data, filename=name, max_bytes=limit) for name, data in sub.photos]


def _validated(session: Any, actor: Principal, sub: _Submission) -> ReportBody:
    body = _body(sub.raw)
    if sub.images:  # stored as this request's own uploads; their files are written once the report commits
        if actor.user_id is None:
            limit = get_settings().anonymous_uploads_per_hour
            check_anonymous_quota(session, sub.client, len(sub.images), limit=limit)
        ids = [
            store_image(session, image, uploaded_by=actor.user_id, client=sub.client).attachment.id
            for image in sub.images
        ]
        body = body.model_copy(update={"attachment_ids": ids})
    return body


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
    # Read the request on the event loop; do every database step in one thread-pool hop, once it is this
    # request's turn to write (deps.run_write), so a worker waiting on the database never blocks its other
    # connections.
    key = request.headers.get("idempotency-key")
    sub = await _read_submission(request)
    sub.client = request.client.host if request.client else ""
    await _prepare_photos(sub)
    return await run_write(session, _post_report, session, actor, key, sub)


def _post_report(session: Any, actor: Principal, key: str | None, sub: _Submission) -> Any:
    scope = idempotency.scope_of("reports", f"user:{actor.user_id}" if actor.user_id else None, sub.digest)
    if key:
        key = idempotency.check_key(key)
        earlier = idempotency.claim(session, scope, key, sub.digest)
        if earlier is not None:
            return JSONResponse(
                idempotency.answer(earlier),
                status_code=earlier.status,
                headers={"Idempotent-Replayed": "true"},
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
    received_from: SaneDateTime | None = None,
    received_to: SaneDateTime | None = None,
    overdue: bool | None = None,
    number: str | None = None,
    q: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=100,
            description="搜索：案卷号的一部分、地址或问题描述中的文字（2 个字起），或完整的报告人电话",
        ),
    ] = None,
    sort: Annotated[
        str,
        Query(
            pattern="^-?(received|due)$", description="排序：received 上报时间、due 剩余时限；前加 - 为倒序"
        ),
    ] = "-received",
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
        text=q,
    )
    rows, total = repository.list_cases(session, actor, f, page=page, page_size=page_size, sort=sort)
    names = present.names(session)
    return CasePage(
        total=total, page=page, page_size=page_size, items=[present.case_out(c, actor, names) for c in rows]
    )


@router.get("/cases/{case_id:int}", response_model=CaseDetail, summary="案卷详情（含流转记录）")
def get_case(case_id: RowId, session: DbSession, actor: CurrentUser) -> CaseDetail:
    case = repository.get_case(session, actor, case_id, with_events=True)
    return present.case_detail(case, actor, present.names(session), session)


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
    return present.case_detail(repository.load_full(session, case_id), actor, present.names(session), session)


@router.post("/cases/batch", response_model=BatchOut, summary="批量签收 / 派遣 / 结案（逐件给出结果）")
def act_batch(
    body: BatchBody,
    session: DbSession,
    actor: CurrentUser,
    idempotency_key: Annotated[str | None, Header(description="重试时带相同的键，不会重复执行")] = None,
) -> Any:
    """Each case is acted on in its own savepoint: a refused case (with its reason as problem details)
    leaves nothing written and does not undo the others. The answer is 200 with one result per case."""
    digest = idempotency.json_digest(body.model_dump(mode="json"))
    scope = idempotency.scope_of("cases-batch", f"user:{actor.user_id}", digest)
    if idempotency_key:
        idempotency_key = idempotency.check_key(idempotency_key)
        earlier = idempotency.claim(session, scope, idempotency_key, digest)
        if earlier is not None:
            return JSONResponse(
                idempotency.answer(earlier),
                status_code=earlier.status,
                headers={"Idempotent-Replayed": "true"},
            )
    result = batch.run_batch(session, actor, body.action, body.ids, body.data)
    out = BatchOut(
        action=result.action,
        action_label=result.label,
        succeeded=result.succeeded,
        refused=result.refused,
        results=[
            BatchItemOut(
                id=i.case_id,
                number=i.number,
                ok=i.ok,
                state=i.state,
                state_label=i.state_label or None,
                problem=None
                if i.ok
                else {
                    "type": f"urn:civicgrid:problem:{i.code}",
                    "title": i.title,
                    "status": i.status,
                    "detail": i.message,
                },
            )
            for i in result.items
        ],
    )
    if idempotency_key:
        idempotency.remember(session, scope, idempotency_key, 200, out.model_dump(mode="json"))
    return out


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


def _tracked(session: Any, request: Request, number: str, code: str | None) -> Case:
    """The case if ``code`` opens it; wrong codes are throttled per number and per client (tracking.py)."""
    client = request.client.host if request.client else ""
    return tracking.open_tracked(session, number, code, client=client)


@router.get("/track/{number}", response_model=TrackOut, summary="凭案卷号和查询码查询进度")
def track(
    number: str,
    request: Request,
    session: DbSession,
    code: Annotated[str | None, Query(max_length=64, description="查询码（如 K7QHM-3ZPX9）")] = None,
) -> TrackOut:
    case = _tracked(session, request, number, code)
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
                "note": present.public_note(e),
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
    request: Request,
    session: DbSession,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    case = _tracked(session, request, number, str(body.get("query_code") or ""))
    transition(session, repository.get_case_for_update(session, case.id), "rate", ANONYMOUS_CITIZEN, body)
    return {"number": case.number, "rating": case.rating}


# --- Photos -------------------------------------------------------------------------------------------------


@router.post(
    "/attachments",
    response_model=AttachmentOut,
    status_code=201,
    summary="上传照片（匿名上传时返回 upload_token，上报时需一并提供）",
)
async def upload(
    request: Request,
    session: DbSession,
    actor: Reporter,
    file: Annotated[UploadFile, File(description="图片文件")],
) -> AttachmentOut:
    limit = get_settings().max_upload_bytes
    data = await file.read(limit + 1)
    image = await prepare_off_loop(data, filename=file.filename or "", max_bytes=limit)
    client = request.client.host if request.client else ""

    def store() -> AttachmentOut:
        if actor.user_id is None:
            check_anonymous_quota(session, client, 1, limit=get_settings().anonymous_uploads_per_hour)
        stored = store_image(session, image, uploaded_by=actor.user_id, client=client)
        out = present.attachment_out(stored.attachment)
        # Commit on this thread: the files move into place once the row is safe, before the answer leaves.
        session.commit()
        return out.model_copy(update={"upload_token": stored.token})

    return await run_write(session, store)


def _attachment(
    session: Any, att_id: int, actor: Principal | None, code: str | None, request: Request
) -> Attachment:
    att = session.get(Attachment, att_id)
    if att is None:
        raise NotFound("照片不存在")
    if att.case_id is None:  # not attached yet: only its uploader (or the holder of its upload token)
        token = request.query_params.get("upload_token", "")[:64]
        if not owns_upload(session, att, actor, [token]):
            raise NotFound("照片不存在")
        return att
    case = session.get(Case, att.case_id)
    if actor is not None:
        repository.get_case(session, actor, case.id)
    else:
        _tracked(session, request, case.number, code)
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

    return _photo(_attachment(session, att_id, optional_principal(request, session), code, request), ".jpg")


@router.get("/attachments/{att_id}/thumb", summary="照片缩略图", response_class=Response)
def thumb(att_id: RowId, request: Request, session: DbSession, code: str | None = None) -> Response:
    from civicgrid.org.auth import optional_principal

    att = _attachment(session, att_id, optional_principal(request, session), code, request)
    return _photo(att, ".thumb.jpg")
