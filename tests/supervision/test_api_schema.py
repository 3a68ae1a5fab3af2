"""Schemathesis on the supervision operations alone (as tests/api/test_schemathesis.py does for all):
generated requests never produce a 5xx and every response matches the documented schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import Session

from civicgrid import domains
from civicgrid.app import create_app
from civicgrid.deps import get_session

_current: dict[str, Session] = {}


def _request_session() -> Iterator[Session]:
    session = _current["session"]
    session.flush()
    nested = session.begin_nested()
    try:
        yield session
        if nested.is_active:
            nested.commit()
    except BaseException:
        if nested.is_active:
            nested.rollback()
        raise


app = create_app([d.name for d in domains.all_domains() if d.name != "web"])
app.dependency_overrides[get_session] = _request_session
schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/api/v1/supervision/")


@pytest.fixture(autouse=True)
def _bind(session: Session) -> Iterator[None]:
    _current["session"] = session
    yield
    _current.clear()


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_supervision_api_never_5xx_and_matches_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
