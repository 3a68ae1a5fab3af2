"""Shared fixtures for the geography tests: the demo district is generated once per session."""

from __future__ import annotations

import pytest

from civicgrid.geo.district import DistrictPlan, generate_demo_district
from civicgrid.geo.locator import GridLocator


@pytest.fixture(scope="session")
def plan() -> DistrictPlan:
    return generate_demo_district()


@pytest.fixture(scope="session")
def locator(plan: DistrictPlan) -> GridLocator:
    return GridLocator([g.code for g in plan.grids], [g.geometry for g in plan.grids])
