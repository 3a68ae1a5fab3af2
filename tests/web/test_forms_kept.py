"""Forms that fail keep what the user typed and chose, and say what to fix in Chinese (issue 13): the
extension request picked as number + unit, photos offered back after a refusal, notes 公开/内部 on the
public pages, and the 处置前/处置后 view on the 核查 screen."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import advance, grid_point, make_case
from civicgrid.cases import attachments
from civicgrid.cases.intake import ReportIn, report
from civicgrid.models import Attachment, Case, CaseEvent, User
from civicgrid.org.roles import ANONYMOUS_CITIZEN
from civicgrid.org.tokens import issue_token


def _jpeg(color: tuple[int, int, int] = (120, 130, 140)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, format="JPEG")
    return buf.getvalue()


def _login(client: Any, session: Session, username: str) -> None:
    """Sign in as ``username``. The test's setup is committed first (into the test's own transaction, still
    rolled back at its end): a refused form rolls back the request's session, which must not undo it."""
    session.commit()
    session.expire_all()  # the request shares this session: let it load the case's events afresh
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    client.cookies.set("civicgrid_token", issue_token(user.id)[0])


def _token(client: Any, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get(path).text)
    assert match
    return match.group(1)


# 立案, 派遣 to 环卫 and 签收: the case is with the 环卫 handler (处置中).
SIGNED: list[tuple[str, str, dict[str, Any]]] = [
    ("register", "shiftlead", {}),
    ("dispatch", "dispatcher", {"department_code": "HW"}),
    ("sign", "handler_hw", {}),
]


@dataclass(frozen=True)
class HandlerForm:
    """A case the 环卫 handler holds (签收, 处置中), the handler signed in, and the CSRF token of the case's
    page: ``post`` sends one of the page's action forms."""

    client: Any
    case: Case
    token: str

    def post(self, action: str, data: dict[str, str], **kw: Any) -> Any:
        url = f"/cases/{self.case.id}/actions/{action}"
        return self.client.post(url, data={"csrf_token": self.token, **data}, **kw)


@pytest.fixture
def handler_form(client: Any, session: Session) -> HandlerForm:
    case = advance(session, make_case(session, category="E0102"), SIGNED)
    _login(client, session, "handler_hw")
    return HandlerForm(client, case, _token(client, f"/cases/{case.id}"))


def _events(session: Session, case: Case, action: str) -> list[CaseEvent]:
    return list(
        session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == action))
    )


def test_extension_refused_keeps_the_reason_and_says_what_to_fix(
    session: Session, handler_form: HandlerForm
) -> None:
    case = handler_form.case
    page = handler_form.post(
        "extend", {"limit_amount": "0", "limit_unit": "wd", "note": "需协调环卫车辆，材料待采购"}
    )
    assert page.status_code == 422
    assert "需协调环卫车辆，材料待采购</textarea>" in page.text
    assert "延长时限请填写 1–99 之间的整数" in page.text
    assert "「申请延期」未完成：未提交成功，请按提示修改标出的内容后重新提交" in page.text
    assert "Value error" not in page.text and "limit：" not in page.text
    assert '<option value="wd" selected>' in page.text
    session.refresh(case)
    assert case.extension_requested_limit is None and _events(session, case, "extend") == []


def test_extension_without_a_reason_names_the_field(handler_form: HandlerForm) -> None:
    page = handler_form.post("extend", {"limit_amount": "3", "limit_unit": "d", "note": ""})
    assert page.status_code == 422
    assert "请填写延期理由" in page.text
    assert 'name="limit_amount" min="1" max="99" step="1" required inputmode="numeric" value="3"' in page.text
    assert "String should" not in page.text


def test_extension_limits_are_picked_as_number_and_unit(
    client: Any, session: Session, handler_form: HandlerForm
) -> None:
    case = handler_form.case
    done = handler_form.post(
        "extend", {"limit_amount": "3", "limit_unit": "d", "note": "雨天无法施工"}, follow_redirects=False
    )
    assert done.status_code == 303
    session.refresh(case)
    assert case.extension_requested_limit == "72h"  # 3 天 = 72 calendar hours
    _login(client, session, "shiftlead")
    assert "申请时限：3 天" in client.get(f"/cases/{case.id}").text


def test_a_refused_check_keeps_its_photo_and_the_next_try_attaches_it(client: Any, session: Session) -> None:
    case = make_case(session, point=grid_point(session, 0, "001"))
    advance(
        session,
        case,
        [
            *SIGNED,
            ("feedback", "handler_hw", {"note": "已清运"}),
            ("send_check", "operator", {}),
        ],
    )
    _login(client, session, "inspector001")
    token = _token(client, f"/cases/{case.id}")
    page = client.post(  # no conclusion chosen
        f"/cases/{case.id}/actions/check",
        data={"csrf_token": token, "note": "现场已清理干净"},
        files={"photos": ("after.jpg", _jpeg(), "image/jpeg")},
    )
    assert page.status_code == 422
    assert "请选择核查结论" in page.text and "现场已清理干净</textarea>" in page.text
    kept = re.findall(r'name="kept_photo" value="(\d+)" checked', page.text)
    assert len(kept) == 1
    att = session.get(Attachment, int(kept[0]))
    assert att is not None and att.case_id is None
    done = client.post(
        f"/cases/{case.id}/actions/check",
        data={"csrf_token": token, "note": "现场已清理干净", "passed": "1", "kept_photo": kept[0]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    session.refresh(att)
    assert (att.case_id, att.step) == (case.id, "check")
    assert _events(session, case, "check")[0].attachment_ids == [att.id]


def test_a_citizen_report_refused_keeps_the_photo_for_the_next_try(client: Any, session: Session) -> None:
    p = grid_point(session, 0, "001")
    token = _token(client, "/report")
    typed = {"csrf_token": token, "description": "人行道井盖缺失", "lng": "120.70", "lat": "31.31"}
    page = client.post("/report", data=typed, files={"photos": ("hole.jpg", _jpeg(), "image/jpeg")})
    assert page.status_code == 422  # outside the district
    assert ">人行道井盖缺失</textarea>" in page.text
    kept = re.findall(r'name="kept_photo" value="(\d+)" checked', page.text)
    tokens = re.findall(r'name="kept_token" value="(\d+:[^"]+)"', page.text)
    assert len(kept) == 1 and tokens[0].startswith(kept[0] + ":")
    assert f"/api/v1/attachments/{kept[0]}/thumb?upload_token=" in page.text
    done = client.post(
        "/report",
        data={**typed, "lng": str(p.lng), "lat": str(p.lat), "kept_photo": kept[0], "kept_token": tokens[0]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    att = session.get(Attachment, int(kept[0]))
    assert att is not None and att.case_id is not None and att.step == "report"


def test_a_kept_photo_of_someone_else_is_not_taken(session: Session, handler_form: HandlerForm) -> None:
    other = attachments.upload(session, _jpeg(), uploaded_by=None)  # an anonymous upload, token not known
    session.commit()  # an earlier request's: one of this very transaction counts as the poster's own (fresh)
    done = handler_form.post(
        "feedback", {"note": "已处理", "kept_photo": str(other.id)}, follow_redirects=False
    )
    assert done.status_code == 303
    session.refresh(other)
    assert other.case_id is None


def test_internal_notes_stay_off_the_public_pages(client: Any, session: Session) -> None:
    p = grid_point(session, 0, "001")
    result = report(
        session,
        ReportIn(description="垃圾桶满溢", lng=p.lng, lat=p.lat, category_code="E0102", source="citizen"),
        ANONYMOUS_CITIZEN,
        rapid=False,
    )
    case = result.case
    advance(
        session,
        case,
        [
            ("register", "shiftlead", {"note": "领导交办，内部备注"}),
            ("dispatch", "dispatcher", {"department_code": "HW", "note": "优先处理，内部备注"}),
            ("sign", "handler_hw", {}),
        ],
    )
    _login(client, session, "handler_hw")
    token = _token(client, f"/cases/{case.id}")
    client.post(
        f"/cases/{case.id}/actions/feedback",
        data={"csrf_token": token, "note": "已清运完毕，路面恢复整洁", "public": "1"},
    )
    advance(
        session,
        case,
        [
            ("send_check", "operator", {}),
            ("check", "inspector001", {"passed": True, "note": "核查人员张三，内部备注"}),
            ("close", "shiftlead", {"note": "同意结案，内部备注"}),
        ],
    )
    events = {e.action: e for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))}
    assert [events[a].public for a in ("report", "register", "feedback", "check", "close")] == [
        True,
        False,
        True,
        False,
        False,
    ]
    _login(client, session, "shiftlead")
    staff = client.get(f"/cases/{case.id}").text
    assert "核查人员张三，内部备注" in staff and ">内部</span>" in staff and ">公开</span>" in staff

    client.cookies.clear()
    tracked = client.get(f"/api/v1/track/{case.number}", params={"code": result.query_code}).json()
    notes = [t["note"] for t in tracked["timeline"] if t["note"]]
    assert "已清运完毕，路面恢复整洁" in notes
    assert not [n for n in notes if "内部备注" in n]

    remembered = client.post(
        "/track",
        data={"csrf_token": _token(client, "/track"), "number": case.number, "code": result.query_code},
    )
    assert remembered.status_code == 200 and "已清运完毕，路面恢复整洁" in remembered.text
    assert "内部备注" not in remembered.text


def test_check_screen_shows_before_and_after_side_by_side(client: Any, session: Session) -> None:
    case = make_case(session, point=grid_point(session, 0, "001"))
    before = attachments.add(session, case, "report", _jpeg((200, 40, 40)))
    advance(session, case, SIGNED)
    handler = session.scalar(select(User).where(User.username == "handler_hw"))
    assert handler is not None
    after = attachments.upload(session, _jpeg((40, 200, 40)), uploaded_by=handler.id)
    advance(
        session,
        case,
        [
            ("feedback", "handler_hw", {"note": "已清运", "attachment_ids": [after.id]}),
            ("send_check", "operator", {}),
        ],
    )
    assert (before.step, after.step) == ("report", "feedback")
    _login(client, session, "inspector001")
    page = client.get(f"/cases/{case.id}?back=/inspector").text
    panel = page[page.index('id="before-after"') : page.index("</section>", page.index('id="before-after"'))]
    before_col, after_col = panel.split('data-side="after"')
    assert (
        f"/web/photos/{before.id}/thumb" in before_col and f"/web/photos/{after.id}/thumb" not in before_col
    )
    assert f"/web/photos/{after.id}/thumb" in after_col
    assert "处置前" in before_col and "处置后" in after_col
    assert ">上报</figcaption>" in page and ">处置</figcaption>" in page
