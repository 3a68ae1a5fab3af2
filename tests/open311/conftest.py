"""Open311 fixtures: an API key inside the test transaction, and a two-jurisdiction configuration."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).parent))  # o311_helpers


@pytest.fixture
def api_key(session: Session) -> str:
    from civicgrid.open311.keys import create_key

    return create_key(session, "测试客户端").key


@pytest.fixture
def jurisdictions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Configure two jurisdictions for one test."""
    from civicgrid.open311.config import get_open311_settings

    monkeypatch.setenv("CIVICGRID_OPEN311_JURISDICTIONS", "320508,320505")
    get_open311_settings.cache_clear()
    yield
    monkeypatch.delenv("CIVICGRID_OPEN311_JURISDICTIONS")
    get_open311_settings.cache_clear()
