"""Shared fixtures for the geography tests (the demo district's ``plan`` comes from tests/conftest.py)."""

from __future__ import annotations

import pytest

from civicgrid.geo.locator import GridLocator
from civicgrid.geo.plan import DistrictPlan


@pytest.fixture(scope="session")
def locator(plan: DistrictPlan) -> GridLocator:
    return GridLocator([g.code for g in plan.grids], [g.geometry for g in plan.grids])
