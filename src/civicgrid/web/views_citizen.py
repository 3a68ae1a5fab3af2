"""市民 pages (mobile first): report a problem with a point and photos; follow it by number and code; rate.

A refused report or rating shows its form again with everything typed kept; a report's good photos are kept
as the citizen's uploads and offered back (web/forms.py), so nothing has to be chosen twice.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from civicgrid.cases import attachments, repository
from civicgrid.cases.intake import IntakeResult, ReportIn, report
from civicgrid.cases.repository import CaseFilter
from civicgrid.cases.states import STATE_LABELS, State
from civicgrid.cases.transition import allowed_actions, transition
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.errors import AppError, InvalidInput
from civicgrid.models import Case, utcnow
from civicgrid.org.roles import ANONYMOUS_CITIZEN, Principal
from civicgrid.web import lookups
from civicgrid.web.form_errors import FailedForm, Problem, message_of, problems_of
from civicgrid.web.forms import (
    KeptPhoto,
    PostedPhotos,
    keep_photos,
    kept_photos,
    parse_float,
    read_photos,
    store_photos,
)
from civicgrid.web.render import render
from civicgrid.web.session import CsrfForm, OptionalWebUser, flash, pack, set_cookie, unpack

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

RECEIPT_COOKIE = "civicgrid_receipt"
TRACK_COOKIE = "civicgrid_track"
REPORT_FIELDS = ("description", "lng", "lat", "address", "category_code", "reporter_name", "reporter_phone")


def tracked_codes(request: Request) -> dict[str, str]:
    """Case number → query code remembered for this browser (a signed cookie, never in a URL)."""
    raw = unpack("track", request.cookies.get(TRACK_COOKIE))
    if not isinstance(raw, list):
        return {}
    return {str(x[0]): str(x[1]) for x in raw if isinstance(x, list) and len(x) == 2}


def remember_code(request: Request, response: Response, number: str, code: str) -> None:
    codes = tracked_codes(request)
    codes.pop(number, None)
    codes[number] = code
    items = [[n, c] for n, c in codes.items()][-8:]
    set_cookie(response, TRACK_COOKIE, pack("track", items), max_age=30 * 24 * 3600)


def report_form_page(
    request: Request,
    session: Any,
    values: dict[str, str],
    error: str = "",
    status: int = 200,
    *,
    inspector: bool = False,
    problems: dict[str, Problem] | None = None,
    photos: list[KeptPhoto] | None = None,
) -> HTMLResponse:
    """The report form (citizen or inspector), with the values kept, what to fix on its fields and the photos
    of a refused try offered back."""
    return render(
        request,
        "citizen/report.html",
        status_code=status,
        categories=lookups.category_choices(session),
        values=values,
        error=error,
        inspector=inspector,
        problems=problems or {},
        kept=photos or [],
    )


def submit_report(
    request: Request,
    session: Any,
    form: Any,
    reporter: Principal,
    values: dict[str, str],
    *,
    source: str,
    inspector: bool = False,
) -> Response | IntakeResult:
    """Report from a form: the result, or the form again (typed values, problems, photos kept) if refused."""
    user = reporter if reporter.user_id is not None else None
    client = request.client.host if request.client else None
    posted = PostedPhotos()
    try:
        posted = read_photos(session, form, user, client=client)
        kept = kept_photos(session, form, user)
        stored = store_photos(session, posted.images, user, client=client)
        if posted.error is not None:
            raise posted.error
        photos = kept + stored
        data = ReportIn(
            description=values["description"],
            lng=parse_float(form, "lng", "经度"),
            lat=parse_float(form, "lat", "纬度"),
            category_code=values.get("category_code") or None,
            source=source,
            address=values.get("address", ""),
            reporter_name=values.get("reporter_name") or None,
            reporter_phone=values.get("reporter_phone") or None,
            attachment_ids=[p.id for p in photos],
            upload_tokens=[p.token for p in photos if p.token],
        )
        return report(session, data, reporter)
    except AppError as exc:
        session.rollback()
        problems = problems_of(exc)
        if posted.error is exc:
            problems["photos"] = Problem("", detail=exc.message)
        offered = keep_photos(session, posted, form, user, client=client)
        session.commit()  # the kept photos: offered back below, swept if never used
        page = report_form_page(
            request,
            session,
            values,
            message_of(exc, problems),
            status=exc.status,
            inspector=inspector,
            problems=problems,
            photos=offered,
        )
        page.headers.update(getattr(exc, "headers", None) or {})  # e.g. Retry-After of a 429
        return page


_report_page = report_form_page


@router.get("/report")
def report_page(request: Request, session: DbSession, user: OptionalWebUser) -> HTMLResponse:
    return _report_page(request, session, {})


@router.post("/report")
def report_submit(request: Request, session: DbSession, user: OptionalWebUser, form: CsrfForm) -> Response:
    values = {k: str(form.get(k) or "").strip() for k in REPORT_FIELDS}
    reporter: Principal = user or ANONYMOUS_CITIZEN
    result = submit_report(request, session, form, reporter, values, source="citizen")
    if isinstance(result, Response):
        return result
    case = result.case
    master = session.get(Case, case.master_case_id) if case.master_case_id else None
    receipt = {
        "number": case.number,
        "code": result.query_code or "",
        "state": case.state,
        "master": master.number if master else "",
    }
    session.commit()
    response = RedirectResponse("/report/done", status_code=303)
    set_cookie(response, RECEIPT_COOKIE, pack("receipt", receipt), max_age=1800)
    if result.query_code:
        remember_code(request, response, case.number, result.query_code)
    return response


@router.get("/report/done")
def report_done(request: Request, user: OptionalWebUser) -> Response:
    receipt = unpack("receipt", request.cookies.get(RECEIPT_COOKIE))
    if not isinstance(receipt, dict):
        return RedirectResponse("/track", status_code=303)
    return render(
        request,
        "citizen/done.html",
        receipt=receipt,
        state_label=STATE_LABELS.get(receipt.get("state", ""), ""),
    )


@router.get("/track")
def track_page(request: Request, session: DbSession, user: OptionalWebUser) -> HTMLResponse:
    mine: list[Case] = []
    if user is not None and user.has("citizen"):
        mine, _ = repository.list_cases(session, user, CaseFilter(), page=1, page_size=20)
    remembered = list(tracked_codes(request))[::-1]
    return render(request, "citizen/track.html", mine=mine, remembered=remembered, number="", error="")


@router.post("/track")
def track_lookup(request: Request, session: DbSession, user: OptionalWebUser, form: CsrfForm) -> Response:
    number = str(form.get("number") or "").strip().upper()
    code = str(form.get("code") or "").strip().upper()
    client = request.client.host if request.client else ""
    try:
        case = lookups.tracked_case(session, number, code, user.user_id if user else None, client=client)
    except AppError as exc:
        remembered = list(tracked_codes(request))[::-1]
        page = render(
            request,
            "citizen/track.html",
            status_code=exc.status,
            mine=[],
            remembered=remembered,
            number=number,
            error=exc.message,
        )
        page.headers.update(getattr(exc, "headers", None) or {})  # Retry-After of a 429
        return page
    response = RedirectResponse(f"/track/{case.number}", status_code=303)
    if code:
        remember_code(request, response, case.number, code)
    return response


@router.get("/track/{number}")
def track_case(number: str, request: Request, session: DbSession, user: OptionalWebUser) -> Response:
    code = tracked_codes(request).get(number.upper(), "")
    try:
        case = lookups.tracked_case(session, number, code, user.user_id if user else None, remembered=True)
    except AppError:
        response = RedirectResponse("/track", status_code=303)
        flash(response, "请输入案卷号和查询码查询进度", "info")
        return response
    return _track_page(request, session, user, case)


def _track_page(
    request: Request,
    session: Any,
    user: Principal | None,
    case: Case,
    failed: FailedForm | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The public view of a case: only steps, states and notes marked 公开 (lookups.timeline)."""
    actor = user if (user and case.reporter_user_id == user.user_id) else ANONYMOUS_CITIZEN
    can_rate = case.state == State.closed and "rate" in allowed_actions(actor, case)
    names = {c.value: c.label for c in lookups.category_choices(session)}
    return render(
        request,
        "citizen/track_case.html",
        status_code=status,
        failed=failed,
        case=case,
        category_name=names.get(case.category_code, case.category_code),
        items=lookups.timeline(list(case.events), public=True),
        photos=attachments.photos(case.attachments),
        can_rate=can_rate,
        point=lookups.json_block([lookups.map_point(case, utcnow(), names) | {"url": ""}]),
    )


@router.post("/track/{number}/rate")
def track_rate(
    number: str, request: Request, session: DbSession, user: OptionalWebUser, form: CsrfForm
) -> Response:
    code = tracked_codes(request).get(number.upper(), "")
    case = lookups.tracked_case(session, number, code, user.user_id if user else None, remembered=True)
    own = user is not None and case.reporter_user_id == user.user_id
    actor = user if own and user is not None else ANONYMOUS_CITIZEN
    rating = str(form.get("rating") or "")
    typed = {"rating": rating, "note": str(form.get("note") or "").strip()[:4000]}
    data: dict[str, Any] = {"note": typed["note"], "query_code": None if own else code}
    response = RedirectResponse(f"/track/{case.number}", status_code=303)
    try:
        if not rating.isdigit():
            raise InvalidInput("请选择 1–5 分的满意度", errors=[{"field": "rating", "type": "missing"}])
        data["rating"] = int(rating)
        transition(session, repository.get_case_for_update(session, case.id), "rate", actor, data)
    except AppError as exc:
        session.rollback()
        problems = problems_of(exc, {"note": "评价意见"})
        failed = FailedForm("rate", message_of(exc, problems), typed, problems)
        return _track_page(request, session, user, repository.load_full(session, case.id), failed, exc.status)
    session.commit()
    flash(response, "感谢您的评价！", "success")
    return response
