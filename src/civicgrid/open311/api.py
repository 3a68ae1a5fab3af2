"""HTTP routes of Open311 GeoReport v2 under /open311/v2 (XML and JSON by suffix), the mySociety update
extension, public photos, and the admin's JSON endpoint for service attribute definitions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Request, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from civicgrid import idempotency, problems
from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute, run_write
from civicgrid.errors import NotFound
from civicgrid.jsonbody import JsonRoute
from civicgrid.models import Attachment, Case
from civicgrid.open311 import catalog, query, submit, updates
from civicgrid.open311.config import CHANGESET, SPEC_URL, get_open311_settings
from civicgrid.open311.errors import Open311Error, Problems, fail
from civicgrid.open311.keys import authenticate
from civicgrid.open311.params import Params, check_jurisdiction
from civicgrid.open311.present import Context, service_request
from civicgrid.open311.render import FORMATS, document, errors_document, format_of_path
from civicgrid.open311.tokens import read_token
from civicgrid.org.auth import AdminUser
from civicgrid.storage.files import get_storage

PREFIX = "/open311/v2"
_ERROR_CONTENT = {
    "application/json": {"schema": {"type": "array"}},
    "text/xml": {"schema": {"type": "string"}},
}
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"description": text, "content": _ERROR_CONTENT}
    for code, text in (
        (400, "Open311 错误：参数有误"),
        (403, "Open311 错误：api_key 缺失或无效"),
        (404, "Open311 错误：资源不存在"),
        (405, "Open311 错误：不支持的方法"),
        (413, "Open311 错误：内容过大"),
    )
}
router = APIRouter(
    prefix=PREFIX, tags=["Open311 GeoReport v2"], responses=ERROR_RESPONSES, route_class=UnitOfWorkRoute
)
admin_router = APIRouter(prefix="/api/v1", tags=["类别 catalog"], route_class=JsonRoute)


def _fmt(fmt: str) -> str:
    if fmt not in FORMATS:
        raise fail(404, f"不支持的格式：.{fmt}（可用 .xml 或 .json）")
    return fmt


def _query(request: Request) -> Params:
    params = Params(request.query_params.multi_items())
    found = Problems()
    check_jurisdiction(params, found)
    found.raise_if_any()
    return params


async def _form(request: Request) -> tuple[Params, list[submit.Upload]]:
    form = await request.form()
    items: list[tuple[str, object]] = list(request.query_params.multi_items()) + list(form.multi_items())
    uploads = []
    for key, value in form.multi_items():
        if key in {"media", "media[]"} and isinstance(value, UploadFile) and value.filename:
            uploads.append(submit.Upload(value.filename, await value.read()))
    return Params(items), uploads


async def _digest(request: Request, uploads: list[submit.Upload]) -> str:
    """The canonical digest of a submission (for Idempotency-Key): every parameter but the api_key (it
    names the caller), and the SHA-256 of every photo."""
    form = await request.form()  # cached by _form
    items = list(request.query_params.multi_items()) + list(form.multi_items())
    fields = [(k, v) for k, v in items if isinstance(v, str) and k != "api_key"]
    return idempotency.form_digest(fields, [("media", u.data) for u in uploads])


def _client(session: Any, params: Params, call: str) -> Any:
    found = Problems()
    check_jurisdiction(params, found)
    key = params.get("api_key")
    client = authenticate(session, key) if key else None
    if client is None:
        found.add(403, f"api_key {'无效或已停用' if key else '缺失'}，不能{call}")
    found.raise_if_any()
    return client


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/discovery.{fmt}", summary="服务发现")
def discovery(request: Request, fmt: str) -> Response:
    fmt = _fmt(fmt)
    s = get_open311_settings()
    body = {
        "changeset": CHANGESET,
        "contact": s.contact,
        "key_service": s.key_service,
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": _base(request) + PREFIX,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return document(fmt, "discovery", body)


@router.get("/services.{fmt}", summary="服务（问题类别）列表")
def list_services(request: Request, fmt: str, session: DbSession) -> Response:
    fmt = _fmt(fmt)
    _query(request)
    return document(fmt, "services", catalog.services(session))


@router.get("/services/{code}.{fmt}", summary="服务定义（属性）")
def service_definition(request: Request, code: str, fmt: str, session: DbSession) -> Response:
    fmt = _fmt(fmt)
    _query(request)
    return document(fmt, "service_definition", catalog.service_definition(session, code))


@router.post("/requests.{fmt}", summary="提交服务请求（需 api_key）")
async def post_request(request: Request, fmt: str, session: DbSession) -> Response:
    fmt = _fmt(fmt)
    # Read on the event loop; the database work runs in one thread-pool hop, in its turn (deps.run_write).
    params, uploads = await _form(request)
    digest = await _digest(request, uploads)
    return await run_write(
        session, _post_request, session, fmt, params, uploads, request.headers.get("idempotency-key"), digest
    )


def _post_request(
    session: Any, fmt: str, params: Params, uploads: list[submit.Upload], key: str | None, digest: str
) -> Response:
    client = _client(session, params, "提交服务请求")
    scope = idempotency.scope_of(f"open311:{fmt}", f"apikey:{client.id}", digest)
    if key:  # a retried submission gets the first answer, never a second case; another body gets a 400
        key = idempotency.check_key(key)
        earlier = idempotency.claim(session, scope, key, digest)
        if earlier is not None:
            return Response(
                earlier.response["body"].encode("utf-8"),
                status_code=earlier.status,
                media_type=earlier.response["media_type"],
                headers={"Idempotent-Replayed": "true"},
            )
    done = submit.submit(session, params, uploads, client)
    response = document(fmt, "service_requests", [done.body])
    if key:
        idempotency.remember(
            session,
            scope,
            key,
            response.status_code,
            {"body": bytes(response.body).decode("utf-8"), "media_type": response.media_type},
        )
    return response


@router.get("/tokens/{token}.{fmt}", summary="凭 token 查询案卷号")
def get_token(request: Request, token: str, fmt: str, session: DbSession) -> Response:
    fmt = _fmt(fmt)
    _query(request)
    case_id = read_token(token)
    case = session.get(Case, case_id) if case_id is not None else None
    if case is None:
        raise fail(404, f"未知的 token：{token}")
    number = None if case.state == "received" else case.number
    return document(fmt, "service_requests", [{"service_request_id": number, "token": token}])


@router.get("/requests.{fmt}", summary="查询服务请求")
def list_requests(request: Request, fmt: str, session: DbSession) -> Response:
    from civicgrid.models import utcnow

    fmt = _fmt(fmt)
    params = _query(request)
    found = Problems()
    q = query.parse_query(session, params, utcnow(), found)
    found.raise_if_any()
    cases = query.find_requests(session, q)
    ctx = Context(session, cases, _base(request))
    return document(
        fmt, "service_requests", [service_request(c, ctx, extensions=q.extensions) for c in cases]
    )


@router.get("/requests/{number}.{fmt}", summary="查询单个服务请求")
def get_request(request: Request, number: str, fmt: str, session: DbSession) -> Response:
    fmt = _fmt(fmt)
    params = _query(request)
    found = Problems()
    extensions = params.flag("extensions", found)
    found.raise_if_any()
    case = query.get_request(session, number)
    ctx = Context(session, [case], _base(request))
    return document(fmt, "service_requests", [service_request(case, ctx, extensions=extensions)])


@router.get("/servicerequestupdates.{fmt}", summary="进展更新列表（mySociety 扩展）")
def list_updates(request: Request, fmt: str, session: DbSession) -> Response:
    fmt = _fmt(fmt)
    params = _query(request)
    return document(fmt, "service_request_updates", updates.list_updates(session, params, _base(request)))


@router.post("/servicerequestupdates.{fmt}", summary="提交进展更新（mySociety 扩展，需 api_key）")
async def post_update(request: Request, fmt: str, session: DbSession) -> Response:
    fmt = _fmt(fmt)
    params, _ = await _form(request)

    def apply() -> Response:
        client = _client(session, params, "提交进展更新")
        posted = updates.post_update(session, params, client)
        return document(fmt, "service_request_updates", [{"update_id": str(posted.event.id)}])

    return await run_write(session, apply)


@router.get("/media/{att_id}.jpg", summary="公开照片（已去除位置信息）", response_class=Response)
def media(att_id: RowId, session: DbSession) -> Response:
    att = session.get(Attachment, att_id)
    visible = (
        att is not None
        and att.case_id is not None
        and session.scalar(select(Case.id).where(Case.id == att.case_id, query.public_cases()))
    )
    if not visible or att is None:
        raise fail(404, "照片不存在")
    try:
        data = get_storage().get(att.storage_key + ".jpg")
    except (NotFound, OSError):
        raise fail(404, "照片不存在") from None
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=3600"})


@admin_router.get("/categories/{code}/attributes", summary="类别的 Open311 属性定义")
def get_attributes(code: str, session: DbSession) -> list[dict[str, Any]]:
    return catalog.get_attributes(session, code)


@admin_router.put("/categories/{code}/attributes", summary="修改类别的 Open311 属性定义（管理员）")
def put_attributes(
    code: str, session: DbSession, _admin: AdminUser, body: Annotated[Any, Body(description="属性定义数组")]
) -> list[dict[str, Any]]:
    return catalog.set_attributes(session, code, body)


def _render_error(request: Request, status: int, message: str, code: str) -> Response:
    """AppErrors and validation errors under /open311, as Open311 error bodies (403/404 kept, else 400)."""
    mapped = {401: 403, 403: 403, 404: 404, 405: 405, 413: 413}.get(status, 500 if status >= 500 else 400)
    return errors_document(format_of_path(request.url.path), [(mapped, message)], mapped)


async def _open311_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Open311Error)
    items = [(i.code, i.description) for i in exc.items]
    return errors_document(format_of_path(request.url.path), items, exc.status)


def install(app: FastAPI) -> None:
    """Mount the Open311 routes, its error rendering, and the admin attribute endpoint."""
    app.include_router(router)
    app.include_router(admin_router)
    app.add_exception_handler(Open311Error, _open311_error)
    if not any(prefix == "/open311" for prefix, _ in problems.renderers):
        problems.renderers.append(("/open311", _render_error))
