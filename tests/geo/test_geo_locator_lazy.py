"""The lazily built raster (``eager_raster=False``): the same answers before and after it exists."""

from __future__ import annotations

import time

import numpy as np

from civicgrid.geo.locator import GridLocator
from civicgrid.geo.plan import DistrictPlan


def test_lazy_locator_answers_as_the_eager_one(plan: DistrictPlan, locator: GridLocator) -> None:
    lazy = GridLocator([g.code for g in plan.grids], [g.geometry for g in plan.grids], eager_raster=False)
    assert not lazy._has_raster
    rng = np.random.default_rng(13)
    x0, y0, x1, y1 = plan.district.geometry.bounds
    x = [*rng.uniform(x0 - 0.002, x1 + 0.002, 2000).tolist(), float("nan"), 116.4]
    y = [*rng.uniform(y0 - 0.002, y1 + 0.002, 2000).tolist(), 31.3, 39.9]
    before = [lazy.locate(a, b) for a, b in zip(x, y, strict=True)]
    assert not lazy._has_raster  # single lookups do not build it
    assert before == [locator.locate(a, b) for a, b in zip(x, y, strict=True)]
    assert lazy.locate(120.62, 31.31) == "32050800200337"
    assert lazy.nearest(120.70, 31.31)[0] == "32050800301007"
    assert list(lazy.locate_many(np.array(x), np.array(y))) == before  # a bulk call builds it
    assert lazy._has_raster
    assert [lazy.locate(a, b) for a, b in zip(x, y, strict=True)] == before
    assert lazy.resolution_m == locator.resolution_m


def test_lazy_locator_is_quick_to_build(plan: DistrictPlan) -> None:
    start = time.process_time()
    lazy = GridLocator([g.code for g in plan.grids], [g.geometry for g in plan.grids], eager_raster=False)
    lazy.locate(120.62, 31.31)
    assert time.process_time() - start < 0.5  # the raster alone takes about a second of CPU
