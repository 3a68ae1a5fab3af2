"""The demo's own work-plan speech imports into five parts of 一要/一是 items, once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.demo.supervision import TITLE, import_speech
from civicgrid.models import Directive, SupervisionTask, User, UserRole
from civicgrid.supervision import service
from civicgrid.supervision.tasks import local_day

from .helpers import NOW


def test_demo_speech(session: Session) -> None:
    assert import_speech(session) == 21
    assert import_speech(session) == 0  # once
    directive = session.scalars(select(Directive).where(Directive.title == TITLE)).one()
    tree = service.tree(session, directive.id, local_day(NOW))
    assert [t["number"] for t in tree["tasks"]] == ["一、", "二、", "三、", "四、", "五、"]
    assert [c["number"] for c in tree["tasks"][3]["children"]] == ["一是", "二是", "三是", "四是"]
    assert tree["tasks"][3]["children"][0]["title"] == "推进城乡一体化供水"
    assert [c["title"] for c in tree["tasks"][4]["children"]] == ["压实责任", "强化督办", "严格考核"]
    states = session.scalars(
        select(SupervisionTask.state).where(SupervisionTask.directive_id == directive.id)
    )
    assert set(states) == {"draft"}
    ducha = session.scalars(select(User).where(User.username == "ducha")).one()
    assert session.scalar(select(UserRole.role).where(UserRole.user_id == ducha.id)) == "supervisor"
