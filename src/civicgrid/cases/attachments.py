"""Who may use a photo: the one check for attaching uploads to a case (intake and every transition) and for
viewing an upload that is not attached yet.

An upload not yet attached belongs to its uploader: the signed-in user who sent it, the holder of the token an
anonymous upload was given, or the request that uploaded it (a form or multipart report with its photos).
Attachment ids are sequential, so holding an id proves nothing.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from sqlalchemy.orm import Session

from civicgrid.errors import Forbidden, InvalidInput
from civicgrid.models import Attachment
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


def attach(attachments: Iterable[Attachment], case_id: int) -> None:
    for att in attachments:
        att.case_id = case_id
