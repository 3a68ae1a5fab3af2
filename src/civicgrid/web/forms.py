"""Form handling shared by the pages: photo uploads, and the fields each case action asks for.

The action data is validated by the same pydantic models as the JSON API (``cases.actions``); this module only
turns posted form fields into that data and describes the fields for the templates.

A form that fails keeps its photos: the photos that were good are stored again as the user's own free uploads
(committed, swept after ``CIVICGRID_UPLOAD_ORPHAN_HOURS`` if never used) and offered back on the page as
checked "keep" boxes (``kept_photo``; an anonymous citizen's also carry the upload token, ``kept_token``),
so the next submit attaches them without choosing the files again (``KeptPhoto``, ``keep_photos``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData, UploadFile

from civicgrid.cases.actions import ACTION_DATA, NoteRequired
from civicgrid.cases.attachments import owns_upload
from civicgrid.cases.states import ACTION_LABELS
from civicgrid.errors import AppError, InvalidInput
from civicgrid.models import Attachment
from civicgrid.org.roles import Principal
from civicgrid.settings import get_settings
from civicgrid.storage.files import check_anonymous_quota, store_image
from civicgrid.storage.images import PreparedImage, prepare_image
from civicgrid.web.form_errors import FormInvalid, Problem, picked_limit

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MAX_PHOTOS = 9

# The main path of the loop, in order: the first allowed one is shown open as the primary action.
MAIN_PATH = (
    "send_verify",
    "verify",
    "register",
    "dispatch",
    "sign",
    "feedback",
    "send_check",
    "check",
    "close",
    "rate",
)
DANGER = frozenset({"void", "return", "reopen"})
PHOTO_ACTIONS = frozenset({"verify", "check", "feedback", "return"})
NOTE_LABELS = {
    "void": "作废理由",
    "return": "回退理由（为何不属于本部门）",
    "feedback": "处置结果",
    "extend": "延期理由",
    "hold": "挂账原因",
    "reopen": "重新派遣原因",
    "supervise": "督办意见",
    "rate": "评价意见（选填）",
}
# Extra fields per action (besides note and photos), in display order.
EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "verify": ("confirmed",),
    "check": ("passed",),
    "approve_extension": ("approved",),
    "classify": ("category_code",),
    "register": ("category_code",),
    "merge": ("master_number",),
    "dispatch": ("department_code",),
    "extend": ("limit",),  # picked as limit_amount + limit_unit
    "close": ("special",),
    "hold": ("review_on",),
    "rate": ("rating",),
}
_BOOL_FIELDS = frozenset({"confirmed", "passed", "approved", "special"})


@dataclass(frozen=True)
class ActionView:
    """One action as the case page shows it."""

    name: str
    label: str
    fields: tuple[str, ...]
    note_label: str
    note_required: bool
    photos: bool
    primary: bool = False
    danger: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def action_views(actions: list[str]) -> list[ActionView]:
    primary = next((a for a in MAIN_PATH if a in actions), None)
    ordered = [a for a in MAIN_PATH if a in actions] + [a for a in actions if a not in MAIN_PATH]
    out = []
    for name in ordered:
        model = ACTION_DATA[name]
        required = issubclass(model, NoteRequired) or name == "extend"
        out.append(
            ActionView(
                name=name,
                label=ACTION_LABELS.get(name, name),
                fields=EXTRA_FIELDS.get(name, ()),
                note_label=NOTE_LABELS.get(name, "备注（选填）"),
                note_required=required,
                photos=name in PHOTO_ACTIONS,
                primary=name == primary,
                danger=name in DANGER,
            )
        )
    return out


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def action_data(action: str, form: FormData, attachment_ids: list[int]) -> dict[str, Any]:
    """The posted fields of ``action`` as the dict its pydantic model validates."""
    data: dict[str, Any] = {"note": _text(form, "note")}
    if attachment_ids:
        data["attachment_ids"] = attachment_ids
    if _text(form, "public") in {"1", "true", "on"}:
        data["public"] = True
    for name in EXTRA_FIELDS.get(action, ()):
        raw = _text(form, name)
        if name in _BOOL_FIELDS:
            if name == "special":
                data[name] = raw in {"1", "true", "on"}
            elif raw in {"1", "true", "0", "false"}:
                data[name] = raw in {"1", "true"}
            else:
                raise FormInvalid({name: Problem("请选择{field}", _CONCLUSIONS.get(name, "结论"))})
        elif name == "rating":
            if not raw.isdigit():
                raise FormInvalid({name: Problem("请选择 1–5 分的满意度")})
            data[name] = int(raw)
        elif name == "limit" and not raw:
            data[name] = picked_limit(_text(form, "limit_amount"), _text(form, "limit_unit"))
        elif raw:
            data[name] = raw
    return data


_CONCLUSIONS = {"confirmed": "核实结论", "passed": "核查结论", "approved": "审批结论"}


def typed_values(form: FormData) -> dict[str, str]:
    """Every text field of a posted form, as typed (files, the CSRF token and kept photos left out)."""
    skip = {"csrf_token", "kept_photo", "kept_token", "photos"}
    return {k: v[:4000] for k, v in form.multi_items() if isinstance(v, str) and k not in skip}


def uploads(form: FormData, name: str = "photos") -> list[UploadFile]:
    return [u for u in form.getlist(name) if isinstance(u, UploadFile) and u.filename]


# --- Photos that survive a failed form ----------------------------------------------------------------------


@dataclass(frozen=True)
class KeptPhoto:
    """A photo of a failed form, offered back: its upload id, and for an anonymous citizen its token."""

    id: int
    token: str | None = None

    @property
    def thumb_url(self) -> str:
        if self.token:
            return f"/api/v1/attachments/{self.id}/thumb?upload_token={self.token}"
        return f"/web/photos/{self.id}/thumb"


@dataclass
class PostedPhotos:
    """The photos of one post: those that could be used, and the refusal of the first that could not."""

    images: list[PreparedImage] = field(default_factory=list)
    error: AppError | None = None


def read_photos(
    session: Session,
    form: FormData,
    actor: Principal | None,
    name: str = "photos",
    *,
    client: str | None = None,
) -> PostedPhotos:
    """Check and render the posted photos, each on its own: a bad one is reported, the others are kept.
    Too many photos, or an anonymous client over its hourly quota, are refused before any is decoded."""
    files = uploads(form, name)
    if len(files) > MAX_PHOTOS:
        raise FormInvalid({"photos": Problem(f"最多上传 {MAX_PHOTOS} 张照片，本次选择了 {len(files)} 张")})
    settings = get_settings()
    if files and actor is None and client:
        check_anonymous_quota(session, client, len(files), limit=settings.anonymous_uploads_per_hour)
    out = PostedPhotos()
    for n, upload in enumerate(files, 1):
        data = upload.file.read(settings.max_upload_bytes + 1)
        try:
            out.images.append(
                prepare_image(data, filename=upload.filename or "", max_bytes=settings.max_upload_bytes)
            )
        except AppError as exc:
            if out.error is None:
                exc.message = f"第 {n} 张照片（{upload.filename or ''}）未能使用：{exc.message}"
                out.error = exc
    return out


def store_photos(
    session: Session, images: list[PreparedImage], actor: Principal | None, *, client: str | None = None
) -> list[KeptPhoto]:
    """Store checked photos as ``actor``'s uploads (an anonymous one's with a token); the files follow the
    commit."""
    user_id = actor.user_id if actor is not None else None
    out = []
    for image in images:
        stored = store_image(session, image, uploaded_by=user_id, client=None if user_id else client)
        out.append(KeptPhoto(stored.attachment.id, stored.token))
    return out


def kept_photos(session: Session, form: FormData, actor: Principal | None) -> list[KeptPhoto]:
    """The photos a failed form offered back and the user left ticked, if still free and theirs."""
    tokens: dict[int, str] = {}
    for raw in form.getlist("kept_token"):
        head, _, given = str(raw).partition(":")
        if head.isdigit():
            tokens[int(head)] = given[:64]
    out = []
    for raw in dict.fromkeys(str(v) for v in form.getlist("kept_photo")):
        if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
            continue
        att = session.get(Attachment, int(raw))
        token = tokens.get(int(raw), "")
        if att is None or att.case_id is not None or not owns_upload(session, att, actor, [token]):
            continue
        out.append(KeptPhoto(att.id, token if att.upload_token_hash and token else None))
    return out[:MAX_PHOTOS]


def keep_photos(
    session: Session,
    posted: PostedPhotos,
    form: FormData,
    actor: Principal | None,
    *,
    client: str | None = None,
) -> list[KeptPhoto]:
    """After a failed form (its transaction rolled back): the photos to offer back — those kept from the try
    before and the good ones of this post, stored again. The caller commits."""
    kept = kept_photos(session, form, actor)
    room = max(0, MAX_PHOTOS - len(kept))
    try:
        with session.begin_nested():
            kept += store_photos(session, posted.images[:room], actor, client=client)
    except AppError:
        pass  # e.g. the disk is full: the typed text is still kept; the photos must be chosen again
    return kept


def parse_float(form: FormData, name: str, label: str) -> float:
    raw = _text(form, name).replace("，", ",")
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"请填写{label}（数字），或在地图上点选位置") from None
