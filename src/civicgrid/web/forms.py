"""Form handling shared by the pages: photo uploads, and the fields each case action asks for.

The action data is validated by the same pydantic models as the JSON API (``cases.actions``); this module only
turns posted form fields into that data and describes the fields for the templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData, UploadFile

from civicgrid.cases.actions import ACTION_DATA, NoteRequired
from civicgrid.cases.states import ACTION_LABELS
from civicgrid.errors import InvalidInput
from civicgrid.org.roles import Principal
from civicgrid.settings import get_settings
from civicgrid.storage.files import check_anonymous_quota, save_image

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
    "extend": ("limit",),
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
    for name in EXTRA_FIELDS.get(action, ()):
        raw = _text(form, name)
        if name in _BOOL_FIELDS:
            if name == "special":
                data[name] = raw in {"1", "true", "on"}
            elif raw in {"1", "true", "0", "false"}:
                data[name] = raw in {"1", "true"}
            else:
                raise InvalidInput("请选择一项结论")
        elif name == "rating":
            if not raw.isdigit():
                raise InvalidInput("请选择 1–5 分的满意度")
            data[name] = int(raw)
        elif raw:
            data[name] = raw
    return data


def uploads(form: FormData, name: str = "photos") -> list[UploadFile]:
    return [u for u in form.getlist(name) if isinstance(u, UploadFile) and u.filename]


def save_photos(
    session: Session,
    form: FormData,
    actor: Principal | None,
    name: str = "photos",
    *,
    client: str | None = None,
) -> list[int]:
    """Store the posted photos (checked, EXIF stripped, thumbnailed) and return their attachment ids.
    Anonymous photos count against the client's hourly quota, checked before any photo is decoded."""
    files = uploads(form, name)
    if len(files) > MAX_PHOTOS:
        raise InvalidInput(f"最多上传 {MAX_PHOTOS} 张照片，收到 {len(files)} 张")
    settings = get_settings()
    if files and actor is None and client:
        check_anonymous_quota(session, client, len(files), limit=settings.anonymous_uploads_per_hour)
    limit = settings.max_upload_bytes
    ids = []
    for upload in files:
        data = upload.file.read(limit + 1)  # views run in the thread pool; the form was parsed already
        att = save_image(
            session,
            data,
            filename=upload.filename or "",
            uploaded_by=actor.user_id if actor else None,
            client=None if actor else client,
            max_bytes=limit,
        )
        ids.append(att.id)
    return ids


def parse_float(form: FormData, name: str, label: str) -> float:
    raw = _text(form, name).replace("，", ",")
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"请填写{label}（数字），或在地图上点选位置") from None
