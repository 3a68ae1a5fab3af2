"""Small JSON and image endpoints the pages call: category suggestions, and photos for a page's viewer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from civicgrid.cases import repository
from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute
from civicgrid.errors import AppError, NotFound
from civicgrid.models import Attachment, Case
from civicgrid.storage.files import get_storage
from civicgrid.web.lookups import tracked_case
from civicgrid.web.session import OptionalWebUser

router = APIRouter(prefix="/web", include_in_schema=False, route_class=UnitOfWorkRoute)


def suggest_categories(text: str, k: int = 3) -> list[dict[str, Any]]:
    """Top-k categories from the trained classifier; none when the classifier (or text) is missing."""
    text = text.strip()
    if len(text) < 2:
        return []
    try:
        from civicgrid.classify.model import Classifier

        pred = Classifier.load().predict_one(text[:1000])
    except (ImportError, FileNotFoundError, OSError, ValueError, AppError):
        return []
    return [
        {"code": c.code, "name": c.name, "confidence": round(float(c.confidence), 4)}
        for c in pred.candidates[:k]
    ]


@router.get("/api/suggest")
def suggest(text: Annotated[str, Query(max_length=4000)] = "") -> dict[str, Any]:
    return {"suggestions": suggest_categories(text)}


def _readable_attachment(request: Request, session: Any, att_id: int, user: Any) -> Attachment:
    att = session.get(Attachment, att_id)
    if att is None:
        raise NotFound("照片不存在")
    if att.case_id is None:
        if user is None or att.uploaded_by != user.user_id:
            raise NotFound("照片不存在")
        return att
    case = session.get(Case, att.case_id)
    if user is not None:
        try:
            repository.get_case(session, user, case.id)
            return att
        except AppError:
            pass
    from civicgrid.web.views_citizen import tracked_codes

    code = tracked_codes(request).get(case.number, "")
    tracked_case(session, case.number, code, user.user_id if user else None, remembered=True)
    return att


def _photo(att: Attachment, suffix: str) -> Response:
    data = get_storage().get(att.storage_key + suffix)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/photos/{att_id}")
def photo(att_id: RowId, request: Request, session: DbSession, user: OptionalWebUser) -> Response:
    return _photo(_readable_attachment(request, session, att_id, user), ".jpg")


@router.get("/photos/{att_id}/thumb")
def thumb(att_id: RowId, request: Request, session: DbSession, user: OptionalWebUser) -> Response:
    return _photo(_readable_attachment(request, session, att_id, user), ".thumb.jpg")
