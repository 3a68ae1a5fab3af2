"""The case page (every staff role) and the one form endpoint that takes any action on a case.

The page shows the map, photos (labelled by the step that added them, and 处置前/处置后 side by side on the
核查 and 结案 screens), the full timeline, duplicate candidates, the suggested category and department, and
one form per action the user may take now (``allowed_actions``). Every action goes through ``transition``.
A refused action shows the page again (no redirect) with everything typed kept, the photos offered back and
what to fix said on the fields (``web/form_errors.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from civicgrid.cases import attachments, dedupe, present, repository, sources
from civicgrid.cases.states import ACTION_LABELS, INTAKE, RULES
from civicgrid.cases.transition import transition
from civicgrid.catalog import routing
from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute
from civicgrid.errors import AppError, NotFound
from civicgrid.models import Case, utcnow
from civicgrid.org.roles import Principal
from civicgrid.web import lookups
from civicgrid.web.form_errors import (
    LIMIT_UNITS,
    FailedForm,
    Problem,
    limit_label,
    message_of,
    problems_of,
)
from civicgrid.web.forms import (
    NOTE_LABELS,
    PostedPhotos,
    action_data,
    action_views,
    keep_photos,
    kept_photos,
    read_photos,
    store_photos,
    typed_values,
)
from civicgrid.web.render import render
from civicgrid.web.session import CsrfForm, WebUser, flash, safe_next
from civicgrid.web.views_api import suggest_categories

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

STAFF_ROLES = frozenset({"operator", "shift_lead", "dispatcher", "handler", "inspector", "leader", "admin"})


COMPARE_STATES = frozenset({"checking", "checked", "closed"})  # the 核查 and 结案 screens


@router.get("/cases/{case_id}")
def case_page(case_id: RowId, request: Request, session: DbSession, user: WebUser) -> HTMLResponse:
    if not user.has_any(STAFF_ROLES):
        raise NotFound("案卷不存在")
    return _page(request, session, user, case_id)


def _page(
    request: Request,
    session: Any,
    user: Principal,
    case_id: int,
    failed: FailedForm | None = None,
    status: int = 200,
) -> HTMLResponse:
    case = repository.get_case(session, user, case_id, with_events=True)
    names = present.names(session)
    now = utcnow()
    out = present.case_out(case, user, names, now)
    allowed = [a for a in out.allowed_actions if a != "rate"]
    areas = lookups.area_names(session, {case.street_code, case.community_code})
    master = session.get(Case, case.master_case_id) if case.master_case_id else None
    dispatchable = "dispatch" in allowed
    suggestions = suggest_categories(case.description) if case.state in {s.value for s in INTAKE} else []
    compare = attachments.before_after(case.attachments)
    return render(
        request,
        "center/case.html",
        status_code=status,
        failed=failed,
        limit_units=LIMIT_UNITS,
        requested_limit=limit_label(case.extension_requested_limit),
        compare=compare if case.state in COMPARE_STATES or compare.after else None,
        case=case,
        out=out,
        actions=action_views(allowed),
        items=lookups.timeline(list(case.events), public=False),
        photos=attachments.photos(case.attachments),
        duplicates=dedupe.duplicate_candidates(session, case),
        suggestions=suggestions,
        suggested_dept=routing.suggested_department(session, case)
        if dispatchable or case.state in {"registered"}
        else None,
        departments=lookups.department_choices(session) if dispatchable else [],
        categories=lookups.category_choices(session),
        street_name=areas.get(case.street_code, case.street_code),
        community_name=areas.get(case.community_code, case.community_code),
        due=lookups.stage_due(case),
        source_label=sources.label(case.source),
        master=master,
        point=lookups.json_block([lookups.map_point(case, now, names.categories) | {"url": ""}]),
        grid=lookups.json_block(lookups.grid_feature(session, case.grid_code)),
        back=safe_next(request.query_params.get("back"), ""),
    )


@router.post("/cases/{case_id}/actions/{action}")
def case_action(
    case_id: RowId, action: str, request: Request, session: DbSession, user: WebUser, form: CsrfForm
) -> Response:
    repository.get_case(session, user, case_id)  # 404 / 403 before anything else
    if action not in RULES:
        raise NotFound(f"未知的操作：{action}")
    label = ACTION_LABELS.get(action, action)
    target = safe_next(str(form.get("next") or ""), "")
    posted = PostedPhotos()
    try:
        posted = read_photos(session, form, user)
        ids = [p.id for p in kept_photos(session, form, user)]
        ids += [p.id for p in store_photos(session, posted.images, user)]
        if posted.error is not None:
            raise posted.error
        case = repository.get_case_for_update(session, case_id)
        transition(session, case, action, user, action_data(action, form, ids))
        number = case.number
    except AppError as exc:
        session.rollback()
        problems = problems_of(exc, {"note": NOTE_LABELS.get(action, "说明")})
        if posted.error is exc:
            problems["photos"] = Problem("", detail=exc.message)
        failed = FailedForm(action, message_of(exc, problems), typed_values(form), problems, label=label)
        failed.photos = keep_photos(session, posted, form, user)
        session.commit()  # the kept photos: offered back below, swept if never used
        page = _page(request, session, user, case_id, failed, status=exc.status)
        page.headers.update(getattr(exc, "headers", None) or {})
        return page
    readable = repository.is_readable(session, user, case_id)
    session.commit()
    if not target:
        target = f"/cases/{case_id}" if readable else "/"
    response = RedirectResponse(target, status_code=303)
    flash(response, "已完成「{label}」：{number}", "success", values={"label": label, "number": number})
    return response
