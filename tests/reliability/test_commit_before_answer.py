"""A write is committed before its answer leaves the server: a report whose commit fails is never told 201."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from builders import grid_point
from civicgrid.app import create_app
from civicgrid.deps import get_session
from civicgrid.models import Case


def test_a_report_whose_commit_fails_is_not_acknowledged(session: Session) -> None:
    app = create_app()
    committed: list[bool] = []

    def failing_commit() -> Iterator[Session]:
        session.flush()
        nested = session.begin_nested()

        def refuse() -> None:
            nested.rollback()  # the disk refused the commit: nothing of the request is kept
            committed.append(False)
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

        session.commit = refuse  # type: ignore[method-assign]
        try:
            yield session
            session.commit()
        finally:
            del session.commit
            if nested.is_active:
                nested.rollback()

    app.dependency_overrides[get_session] = failing_commit
    before = session.scalar(select(func.count()).select_from(Case))
    p = grid_point(session, 5)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post(
            "/api/v1/reports",
            json={
                "description": "井盖缺失，行人容易踩空",
                "lng": p.lng,
                "lat": p.lat,
                "category_code": "C0101",
            },
        )
    assert committed == [False]
    assert r.status_code == 500
    assert "number" not in r.text
    assert session.scalar(select(func.count()).select_from(Case)) == before
