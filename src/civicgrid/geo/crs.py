"""Coordinate systems used by Chinese maps, and small geodesy helpers.

* WGS84 — GPS, the storage CRS of CivicGrid and of Open311 (`lat`/`long`).
* GCJ-02 — the obfuscated "Mars" datum required for published maps in China (AMap/Gaode, Tencent, Apple in
  China).
* BD-09 — Baidu's further offset of GCJ-02.

Every transform accepts Python floats or NumPy arrays (any shape, broadcast together) and returns the same
kind. WGS84 -> GCJ-02 is the published forward formula; the inverse has no closed form, so GCJ-02 -> WGS84
is solved by fixed-point iteration until the residual is below ~1e-10 degrees (far below a millimetre).
BD-09 -> GCJ-02 is also inverted iteratively. Points outside China (the usual rectangle test) are left
unchanged by the GCJ-02 step.
"""

from __future__ import annotations

import math
from typing import Literal, TypeAlias, overload

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

Crs: TypeAlias = Literal["wgs84", "gcj02", "bd09"]
FloatArray: TypeAlias = NDArray[np.float64]

EARTH_RADIUS_M = 6371008.8  # IUGG mean Earth radius
_GCJ_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_GCJ_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_MAX_ITER = 30
_TOL_DEG = 1e-10

_SUPPORTED: tuple[str, ...] = ("wgs84", "gcj02", "bd09")


def _as_arrays(lng: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray, bool]:
    x = np.asarray(lng, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    scalar = x.ndim == 0 and y.ndim == 0
    x, y = np.broadcast_arrays(x, y)
    return x, y, scalar


def _result(
    x: FloatArray, y: FloatArray, scalar: bool
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    if scalar:
        return float(x), float(y)
    return x, y


def out_of_china(lng: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """The conventional bounding rectangle test: True where GCJ-02 does not apply."""
    x = np.asarray(lng, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    return (x < 72.004) | (x > 137.8347) | (y < 0.8293) | (y > 55.8271)


def _delta(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 offset (degrees) to add to a WGS84 point; zero outside China."""
    dx = x - 105.0
    dy = y - 35.0
    sq = np.sqrt(np.abs(dx))
    wave = (20.0 * np.sin(6.0 * dx * np.pi) + 20.0 * np.sin(2.0 * dx * np.pi)) * 2.0 / 3.0
    t_lat = -100.0 + 2.0 * dx + 3.0 * dy + 0.2 * dy * dy + 0.1 * dx * dy + 0.2 * sq + wave
    t_lat += (20.0 * np.sin(dy * np.pi) + 40.0 * np.sin(dy / 3.0 * np.pi)) * 2.0 / 3.0
    t_lat += (160.0 * np.sin(dy / 12.0 * np.pi) + 320.0 * np.sin(dy * np.pi / 30.0)) * 2.0 / 3.0
    t_lng = 300.0 + dx + 2.0 * dy + 0.1 * dx * dx + 0.1 * dx * dy + 0.1 * sq + wave
    t_lng += (20.0 * np.sin(dx * np.pi) + 40.0 * np.sin(dx / 3.0 * np.pi)) * 2.0 / 3.0
    t_lng += (150.0 * np.sin(dx / 12.0 * np.pi) + 300.0 * np.sin(dx / 30.0 * np.pi)) * 2.0 / 3.0
    rad = y / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (t_lat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    d_lng = (t_lng * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = out_of_china(x, y)
    return np.where(outside, 0.0, d_lng), np.where(outside, 0.0, d_lat)


def _wgs_to_gcj(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    d_lng, d_lat = _delta(x, y)
    return x + d_lng, y + d_lat


def _gcj_to_wgs(gx: FloatArray, gy: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Invert WGS84 -> GCJ-02 by fixed-point iteration (the offset varies slowly, so this converges fast)."""
    x, y = gx.copy(), gy.copy()
    for _ in range(_MAX_ITER):
        fx, fy = _wgs_to_gcj(x, y)
        ex, ey = fx - gx, fy - gy
        x = x - ex
        y = y - ey
        if not (
            np.nanmax(np.abs(ex), initial=0.0) > _TOL_DEG or np.nanmax(np.abs(ey), initial=0.0) > _TOL_DEG
        ):
            break
    return x, y


def _gcj_to_bd(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj(bx: FloatArray, by: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Baidu's one-step inverse, refined by fixed-point iteration against the forward formula."""
    x0 = bx - 0.0065
    y0 = by - 0.006
    z = np.sqrt(x0 * x0 + y0 * y0) - 0.00002 * np.sin(y0 * _X_PI)
    theta = np.arctan2(y0, x0) - 0.000003 * np.cos(x0 * _X_PI)
    x, y = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_MAX_ITER):
        fx, fy = _gcj_to_bd(x, y)
        ex, ey = fx - bx, fy - by
        x = x - ex
        y = y - ey
        if not (
            np.nanmax(np.abs(ex), initial=0.0) > _TOL_DEG or np.nanmax(np.abs(ey), initial=0.0) > _TOL_DEG
        ):
            break
    return x, y


def _check_crs(crs: str) -> None:
    if crs not in _SUPPORTED:
        raise ValueError(f"不支持的坐标系：{crs!r}，可选值为 wgs84、gcj02、bd09")


@overload
def to_wgs84(lng: float, lat: float, crs: Crs) -> tuple[float, float]: ...
@overload
def to_wgs84(lng: ArrayLike, lat: ArrayLike, crs: Crs) -> tuple[FloatArray, FloatArray]: ...
def to_wgs84(lng: ArrayLike, lat: ArrayLike, crs: Crs) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Convert coordinates given in `crs` to WGS84. Floats in, floats out; arrays in, arrays out."""
    _check_crs(crs)
    x, y, scalar = _as_arrays(lng, lat)
    if crs == "bd09":
        x, y = _bd_to_gcj(x, y)
    if crs in ("gcj02", "bd09"):
        x, y = _gcj_to_wgs(x, y)
    else:
        x, y = x.copy(), y.copy()
    return _result(x, y, scalar)


@overload
def from_wgs84(lng: float, lat: float, crs: Crs) -> tuple[float, float]: ...
@overload
def from_wgs84(lng: ArrayLike, lat: ArrayLike, crs: Crs) -> tuple[FloatArray, FloatArray]: ...
def from_wgs84(
    lng: ArrayLike, lat: ArrayLike, crs: Crs
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Convert WGS84 coordinates to `crs` (for drawing on AMap/Tencent/Baidu tiles)."""
    _check_crs(crs)
    x, y, scalar = _as_arrays(lng, lat)
    if crs in ("gcj02", "bd09"):
        x, y = _wgs_to_gcj(x, y)
    else:
        x, y = x.copy(), y.copy()
    if crs == "bd09":
        x, y = _gcj_to_bd(x, y)
    return _result(x, y, scalar)


@overload
def haversine_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float: ...
@overload
def haversine_m(lng1: ArrayLike, lat1: ArrayLike, lng2: ArrayLike, lat2: ArrayLike) -> FloatArray: ...
def haversine_m(lng1: ArrayLike, lat1: ArrayLike, lng2: ArrayLike, lat2: ArrayLike) -> float | FloatArray:
    """Great-circle distance in metres on a sphere of the mean Earth radius."""
    x1, y1, x2, y2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (lng1, lat1, lng2, lat2))
    h = np.sin((y2 - y1) / 2.0) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((x2 - x1) / 2.0) ** 2
    d = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d


def metres_per_degree(lat: float) -> tuple[float, float]:
    """(metres per degree of longitude, metres per degree of latitude) at `lat`, on the mean sphere."""
    m_lat = EARTH_RADIUS_M * math.pi / 180.0
    return m_lat * math.cos(math.radians(lat)), m_lat


def area_m2(geom: BaseGeometry) -> float:
    """Area of a WGS84 polygon in square metres (sinusoidal projection: equal-area on the sphere)."""
    k = EARTH_RADIUS_M * math.pi / 180.0
    min_x, _, max_x, _ = geom.bounds
    lng0 = (min_x + max_x) / 2.0  # central meridian near the shape keeps the projection's shear negligible

    def project(coords: FloatArray) -> FloatArray:
        lat = coords[:, 1]
        return np.column_stack(((coords[:, 0] - lng0) * k * np.cos(np.radians(lat)), lat * k))

    return float(shapely.area(shapely.transform(geom, project)))
