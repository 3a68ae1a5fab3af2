from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from civicgrid.geo.locator import GridLocator
from civicgrid.geo.plan import DistrictPlan


def _boundary_points(plan: DistrictPlan, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points exactly on grid vertices and edges, and a hair (1e-12 .. 1e-7 degrees) beside them."""
    coords = shapely.get_coordinates([g.geometry for g in plan.grids])
    picks = coords[rng.integers(0, len(coords), n)]
    x, y = picks[:, 0].copy(), picks[:, 1].copy()
    kind = rng.integers(0, 4, n)
    x[kind == 1] += rng.uniform(-50, 50, (kind == 1).sum()) / 85_000  # along a horizontal edge
    y[kind == 2] += rng.uniform(-50, 50, (kind == 2).sum()) / 111_000  # along a vertical edge
    nudge = rng.choice([0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-7, -1e-7], size=(n, 2))
    nudge[kind == 0] = 0.0  # exact vertices
    return x + nudge[:, 0], y + nudge[:, 1]


def test_raster_gives_exactly_the_exact_answers(plan: DistrictPlan, locator: GridLocator) -> None:
    rng = np.random.default_rng(2026)
    x0, y0, x1, y1 = plan.district.geometry.bounds
    bx, by = _boundary_points(plan, rng, 50_000)
    x = np.concatenate([rng.uniform(x0 - 0.002, x1 + 0.002, 50_000), bx])
    y = np.concatenate([rng.uniform(y0 - 0.002, y1 + 0.002, 50_000), by])
    fast = locator.locate_many(x, y)
    exact = locator.locate_many_exact(x, y)
    assert fast.dtype == object and len(fast) == 100_000
    assert (fast == exact).all()
    assert 0 < sum(v is None for v in fast) < 100_000
    singles = [locator.locate(a, b) for a, b in zip(x[::50].tolist(), y[::50].tolist(), strict=True)]
    assert singles == list(exact[::50])


def test_known_points(plan: DistrictPlan, locator: GridLocator) -> None:
    assert locator.locate(120.62, 31.31) == "32050800200337"
    assert locator.locate(120.60, 31.30) == "32050800700501"
    assert locator.locate(120.65, 31.34) is None  # inside the bbox, outside the irregular outline
    grid = plan.by_code["32050800100101"].geometry
    c = grid.centroid
    assert locator.locate(c.x, c.y) == "32050800100101"
    # A shared edge goes to the earlier grid in input order; the district's outer edge counts as inside.
    x_min, y_min, x_max, y_max = plan.by_code["32050800200337"].geometry.bounds
    for point in (Point(x_max, (y_min + y_max) / 2), Point(x_min, y_min)):
        covering = [g.code for g in plan.grids if g.geometry.covers(point)]
        assert len(covering) >= 2
        assert locator.locate(point.x, point.y) == covering[0]
    outer = shapely.get_coordinates(plan.district.geometry.exterior)[0]
    assert locator.locate(float(outer[0]), float(outer[1])) is not None


def test_outside_and_bad_input(locator: GridLocator) -> None:
    assert locator.locate(116.4, 39.9) is None
    assert locator.locate(float("nan"), 31.3) is None
    out = locator.locate_many(np.array([np.nan, 0.0, 120.62]), np.array([31.3, 0.0, 31.31]))
    assert list(out) == [None, None, "32050800200337"]
    assert list(locator.locate_index_many([], [])) == []
    with pytest.raises(ValueError, match="长度不一致"):
        locator.locate_many(np.zeros(2), np.zeros(3))


def test_nearest_reports_the_distance_to_the_district(locator: GridLocator) -> None:
    code, metres = locator.nearest(120.70, 31.31)
    assert code == "32050800301007"
    assert round(metres) == 3047
    assert locator.nearest(120.62, 31.31) == ("32050800200337", 0.0)
    code, metres = locator.nearest(120.62, 31.36)
    assert (code, round(metres)) == ("32050800500203", 2105)


def test_general_polygons_with_holes_overlaps_and_multiparts() -> None:
    rng = np.random.default_rng(3)
    seeds = shapely.multipoints(rng.uniform(0, 1, (120, 2)) * [0.05, 0.04] + [120.6, 31.3])
    cells = list(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box(120.6, 31.3, 120.65, 31.34)))
    )
    cells = [shapely.intersection(c, box(120.6, 31.3, 120.65, 31.34)) for c in cells]
    ring = box(120.61, 31.31, 120.62, 31.32).difference(box(120.613, 31.313, 120.617, 31.317))
    multi = MultiPolygon([box(120.66, 31.30, 120.661, 31.301), box(120.662, 31.30, 120.663, 31.301)])
    polygons: list[Polygon | MultiPolygon] = [ring, multi, *cells]  # ring overlaps cells: it wins there
    loc = GridLocator([f"P{i}" for i in range(len(polygons))], polygons, resolution_m=7.0)
    x = rng.uniform(120.598, 120.665, 100_000)
    y = rng.uniform(31.298, 31.342, 100_000)
    coords = shapely.get_coordinates(polygons)
    x[:20_000] = coords[rng.integers(0, len(coords), 20_000), 0]
    y[:20_000] = coords[rng.integers(0, len(coords), 20_000), 1]
    assert (loc.locate_many(x, y) == loc.locate_many_exact(x, y)).all()
    assert loc.locate(120.615, 31.315) != "P0"  # in the hole
    assert loc.locate(120.611, 31.311) == "P0"
    assert loc.locate(120.6625, 31.3005) == "P1"
    assert loc.locate(120.6615, 31.3005) is None


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="数量不一致"):
        GridLocator(["a"], [])
    with pytest.raises(ValueError, match="没有可用于定位的网格"):
        GridLocator([], [])
