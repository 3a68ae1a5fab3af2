"""Who may use a photo: the one check for attaching uploads to a case (intake and every transition) and for
viewing an upload that is not attached yet.

An upload not yet attached belongs to its uploader: the signed-in user who sent it, the holder of the token an
anonymous upload was given, or the request that uploaded it (a form or multipart report with its photos).
Attachment ids are sequential, so holding an id proves nothing.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from civicgrid.errors import Forbidden, InvalidInput
from civicgrid.models import Attachment, Case
from civicgrid.org.roles import Principal
from civicgrid.storage.files import is_fresh, token_hash


def owns_upload(
    session: Session, att: Attachment, actor: Principal | None, tokens: Iterable[str] = ()
) -> bool:
    """Whether ``actor`` (or the holder of one of ``tokens``) uploaded ``att``."""
    if is_fresh(session, att):
        return True
    if actor is not None and actor.user_id is not None and att.uploaded_by == actor.user_id:
        return True
    if att.upload_token_hash:
        return any(hmac.compare_digest(att.upload_token_hash, token_hash(t)) for t in tokens if t)
    return False


def claim_attachments(
    session: Session,
    ids: Iterable[int],
    actor: Principal,
    *,
    case_id: int | None = None,
    tokens: Iterable[str] = (),
) -> list[Attachment]:
    """The uploads ``ids`` checked for attaching to a case (``case_id``; None for a case being created): each
    must exist, be free or already on that case, and belong to ``actor``. Raises before changing anything."""
    tokens = list(tokens)
    out: list[Attachment] = []
    for att_id in dict.fromkeys(ids):
        att = session.get(Attachment, att_id)
        if att is None or (att.case_id is not None and att.case_id != case_id):
            raise InvalidInput(f"附件 {att_id} 不存在或已用于其他案卷")
        if att.case_id is None and not owns_upload(session, att, actor, tokens):
            raise Forbidden(f"附件 {att_id} 不是您上传的照片，不能使用")
        out.append(att)
    return out


def attach(attachments: Iterable[Attachment], case_id: int, step: str | None = None) -> None:
    """Put the claimed uploads on the case, labelled with the workflow ``step`` that added them."""
    for att in attachments:
        att.case_id = case_id
        if step and att.step is None:
            att.step = step[:24]


def label_step(session: Session, ids: Iterable[int], step: str) -> None:
    """Label the photos ``ids`` just attached by the action ``step`` (those not labelled yet)."""
    for att_id in dict.fromkeys(ids):
        att = session.get(Attachment, att_id)
        if att is not None and att.step is None:
            att.step = step[:24]


# --- Steps and the before/after comparison ------------------------------------------------------------------

STEP_LABELS = {
    "report": "上报",
    "verify": "核实",
    "feedback": "处置",
    "check": "核查",
    "return": "回退",
    "close": "结案",
    "reopen": "重新派遣",
    "hold": "挂账",
    "extend": "延期申请",
}
BEFORE_STEPS = frozenset({"report", "verify"})  # the problem as found: 上报, 核实
AFTER_STEPS = frozenset({"feedback"})  # the department's result: 处置


def step_label(step: str | None) -> str:
    return STEP_LABELS.get(step or "", "其他")


@dataclass(frozen=True)
class Photo:
    id: int
    step: str
    label: str


@dataclass(frozen=True)
class BeforeAfter:
    """处置前 (reported and verified photos) beside 处置后 (disposal photos), oldest first."""

    before: list[Photo]
    after: list[Photo]

    @property
    def complete(self) -> bool:
        return bool(self.before and self.after)


def photos(attachments: Iterable[Attachment]) -> list[Photo]:
    """Every photo of a case with the label of its step, in upload order."""
    return [Photo(a.id, a.step or "", step_label(a.step)) for a in sorted(attachments, key=lambda a: a.id)]


def before_after(attachments: Iterable[Attachment]) -> BeforeAfter:
    shown = photos(attachments)
    return BeforeAfter(
        before=[p for p in shown if p.step in BEFORE_STEPS],
        after=[p for p in shown if p.step in AFTER_STEPS],
    )


# --- Adding a photo from code (the demo generator, importers) -----------------------------------------------


def upload(
    session: Session, data: bytes, *, uploaded_by: int | None, filename: str = "photo.jpg"
) -> Attachment:
    """A free upload of ``data`` (checked, EXIF stripped) owned by ``uploaded_by``: pass its id in an action's
    ``attachment_ids`` so that the step's event lists it."""
    from civicgrid.settings import get_settings
    from civicgrid.storage.files import save_image

    limit = get_settings().max_upload_bytes
    return save_image(session, data, filename=filename, uploaded_by=uploaded_by, max_bytes=limit)


def add(
    session: Session,
    case: Case,
    step: str,
    data: bytes,
    *,
    filename: str = "photo.jpg",
    uploaded_by: int | None = None,
) -> Attachment:
    """Attach the image ``data`` to ``case`` as a photo of the workflow ``step`` (an action name: report,
    verify, feedback, check …). The image is checked and stored without its EXIF like any upload; its files
    are written when the session commits. No event is appended."""
    if case.id is None:
        session.flush()
    att = upload(session, data, uploaded_by=uploaded_by, filename=filename)
    attach([att], case.id, step)
    return att
