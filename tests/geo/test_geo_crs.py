from __future__ import annotations

import numpy as np
import pytest

from civicgrid.geo.crs import area_m2, from_wgs84, haversine_m, out_of_china, to_wgs84
from civicgrid.geo.plan import DistrictPlan


def test_haversine_known_distances() -> None:
    # One degree of latitude on the mean sphere is 111,195.08 m.
    assert haversine_m(120.6, 31.0, 120.6, 32.0) == pytest.approx(111195.08, abs=0.01)
    assert haversine_m(120.6, 31.3, 120.6, 31.3) == 0.0
    d = haversine_m(np.array([0.0, 0.0]), np.array([0.0, 0.0]), np.array([0.0, 180.0]), np.array([1.0, 0.0]))
    assert d == pytest.approx([111195.08, 20015114.44], abs=0.01)


def test_gcj02_forward_offset_in_suzhou() -> None:
    lng, lat = from_wgs84(120.62, 31.31, "gcj02")
    assert isinstance(lng, float)
    assert (round(lng, 6), round(lat, 6)) == (120.624178, 31.307827)
    # The GCJ-02 offset in Suzhou is a few hundred metres.
    assert 400 < haversine_m(120.62, 31.31, lng, lat) < 500


def test_bd09_is_offset_from_gcj02() -> None:
    g_lng, g_lat = from_wgs84(120.62, 31.31, "gcj02")
    b_lng, b_lat = from_wgs84(120.62, 31.31, "bd09")
    assert (round(b_lng, 6), round(b_lat, 6)) == (120.630638, 31.313932)
    assert 700 < haversine_m(g_lng, g_lat, b_lng, b_lat) < 1000


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_round_trips_across_the_district_within_a_metre(plan: DistrictPlan, crs: str) -> None:
    x0, y0, x1, y1 = plan.district.geometry.bounds
    rng = np.random.default_rng(7)
    lng = rng.uniform(x0 - 0.02, x1 + 0.02, 20_000)
    lat = rng.uniform(y0 - 0.02, y1 + 0.02, 20_000)
    out_lng, out_lat = from_wgs84(lng, lat, crs)  # type: ignore[arg-type]
    back_lng, back_lat = to_wgs84(out_lng, out_lat, crs)  # type: ignore[arg-type]
    error = haversine_m(lng, lat, back_lng, back_lat)
    assert float(np.max(error)) < 0.001  # the iterative inverse is far inside the 0.5 m requirement
    assert haversine_m(lng[0], lat[0], out_lng[0], out_lat[0]) > 100  # it did move


def test_one_step_inverse_would_not_be_enough() -> None:
    g_lng, g_lat = from_wgs84(120.62, 31.31, "gcj02")
    # The one-step inverse subtracts the offset evaluated at the GCJ point instead of the WGS point.
    approx_lng, approx_lat = from_wgs84(g_lng, g_lat, "gcj02")
    naive = (2 * g_lng - approx_lng, 2 * g_lat - approx_lat)
    exact = to_wgs84(g_lng, g_lat, "gcj02")
    assert haversine_m(120.62, 31.31, *naive) > 0.5
    assert haversine_m(120.62, 31.31, *exact) < 0.001


def test_scalars_and_arrays_and_identity() -> None:
    assert to_wgs84(120.5, 31.2, "wgs84") == (120.5, 31.2)
    lng, lat = from_wgs84(np.array([[120.5, 120.6]]), np.array([[31.2, 31.3]]), "gcj02")
    assert lng.shape == (1, 2) and lat.shape == (1, 2)


def test_outside_china_is_unchanged_for_gcj02() -> None:
    assert out_of_china(2.35, 48.85)
    assert not out_of_china(120.62, 31.31)
    assert from_wgs84(2.35, 48.85, "gcj02") == (2.35, 48.85)
    assert to_wgs84(2.35, 48.85, "gcj02") == (2.35, 48.85)


def test_unknown_crs_is_refused_in_chinese() -> None:
    with pytest.raises(ValueError, match="不支持的坐标系"):
        to_wgs84(120.0, 31.0, "cgcs2000")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="不支持的坐标系"):
        from_wgs84(120.0, 31.0, "epsg3857")  # type: ignore[arg-type]


def test_area_of_a_100_metre_square(plan: DistrictPlan) -> None:
    assert round(area_m2(plan.by_code["32050800100101"].geometry)) == 9998
