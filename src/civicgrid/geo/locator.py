"""Point-in-grid lookup: which unit grid covers a WGS84 point.

Semantics (the "exact test"): a point belongs to the first polygon, in the order given, that covers it —
its interior or its boundary. A point on an edge shared by two grids therefore goes to the earlier one; a
point on the district's outer boundary is inside. A point covered by no polygon, or with a NaN coordinate,
is outside.

The exact test is a shapely 2 `STRtree` query with the `intersects` predicate. On top of it sits an exact
acceleration: a raster of fine cells (about 5 m) built by quadtree refinement. A raster cell whose
slightly enlarged box lies in the interior of exactly one polygon and touches no other stores that
polygon; one that touches no polygon stores "outside"; only cells that straddle a boundary fall back to
the exact test. The enlargement (a thousandth of a cell) absorbs floating-point error in the point-to-cell
arithmetic, so the answers are identical to the exact test.

The raster costs seconds to build and pays off only for many lookups, so it may be built lazily
(``eager_raster=False``): single lookups then use the exact test until the first bulk call builds it. A
one-shot ``civicgrid locate`` or a server's first report does not wait for it; the answers are the same.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.ops import nearest_points

from civicgrid.geo.crs import haversine_m, metres_per_degree

_OUTSIDE = -1
_STRADDLE = -2
_BASE_CELLS = 64  # cells along the longer side of the coarsest quadtree level


class GridLocator:
    """Spatial index over unit-grid polygons, built once per grid generation."""

    def __init__(
        self,
        codes: Sequence[str],
        polygons: Sequence[Polygon | MultiPolygon],
        *,
        resolution_m: float = 5.0,
        max_raster_cells: int = 8_000_000,
        eager_raster: bool = True,
    ) -> None:
        if len(codes) != len(polygons):
            raise ValueError("网格编码与多边形数量不一致")
        if not codes:
            raise ValueError("没有可用于定位的网格")
        for poly in polygons:
            if not isinstance(poly, Polygon | MultiPolygon) or poly.is_empty:
                raise ValueError("网格几何必须是非空的 Polygon 或 MultiPolygon")
        self._codes: tuple[str, ...] = tuple(codes)
        self._polygons = np.array(polygons, dtype=object)
        self._lookup = np.array([*self._codes, None], dtype=object)  # index -1 -> None
        self._tree = shapely.STRtree(self._polygons)
        shapely.prepare(self._polygons)

        x0, y0, x1, y1 = shapely.total_bounds(self._polygons)
        self.bounds: tuple[float, float, float, float] = (float(x0), float(y0), float(x1), float(y1))
        self._lat0 = (y0 + y1) / 2.0
        self._lng0 = (x0 + x1) / 2.0
        self._m_lng, self._m_lat = metres_per_degree(self._lat0)
        self._raster_args = (resolution_m, max_raster_cells)
        self._raster_lock = threading.Lock()
        self._has_raster = False
        if eager_raster:
            self._ensure_raster()
        self._metric_tree: shapely.STRtree | None = None
        self._metric_polygons: NDArray[np.object_] | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return self._codes

    @property
    def resolution_m(self) -> float:
        """The raster's cell size in metres (builds the raster if it is not built yet)."""
        self._ensure_raster()
        return self._resolution_m

    @property
    def straddle_fraction(self) -> float:
        """The share of raster cells that fall back to the exact test (builds the raster if needed)."""
        self._ensure_raster()
        return self._straddle_fraction

    # --- raster -----------------------------------------------------------------------------------

    def _ensure_raster(self) -> None:
        if self._has_raster:
            return
        with self._raster_lock:
            if not self._has_raster:
                self._build_raster(*self._raster_args)
                self._has_raster = True  # set last: lock-free readers see a complete raster

    def _build_raster(self, resolution_m: float, max_raster_cells: int) -> None:
        x0, y0, x1, y1 = self.bounds
        leaf_m = resolution_m
        while True:
            dx, dy = leaf_m / self._m_lng, leaf_m / self._m_lat
            span_x, span_y = (x1 - x0) + 2 * dx, (y1 - y0) + 2 * dy  # one leaf of margin on each side
            levels = max(0, math.ceil(math.log2(max(span_x / dx, span_y / dy) / _BASE_CELLS)))
            nbx = max(1, math.ceil(span_x / (dx * 2**levels)))
            nby = max(1, math.ceil(span_y / (dy * 2**levels)))
            if nbx * nby * 4**levels <= max_raster_cells:
                break
            leaf_m *= 1.5
        self._resolution_m = leaf_m
        self._ox, self._oy = x0 - dx, y0 - dy
        self._dx, self._dy = dx, dy
        size = 2**levels
        iy, ix = np.mgrid[0:nby, 0:nbx]
        raster = self._classify(ix.ravel(), iy.ravel(), dx * size, dy * size).reshape(nby, nbx)
        for _ in range(levels):
            size //= 2
            raster = np.repeat(np.repeat(raster, 2, axis=0), 2, axis=1)
            py, px = np.nonzero(raster == _STRADDLE)
            if not len(px):
                continue
            # After np.repeat a straddling parent shows up as its four children: classify each of them.
            raster[py, px] = self._classify(px, py, dx * size, dy * size)
        self._ny, self._nx = raster.shape
        self._raster = np.ascontiguousarray(raster, dtype=np.int32)
        self._raster_flat = memoryview(self._raster.ravel())  # type: ignore[arg-type]
        self._straddle_fraction = float(np.mean(self._raster == _STRADDLE))

    def _classify(
        self, ix: NDArray[np.int64], iy: NDArray[np.int64], sx: float, sy: float
    ) -> NDArray[np.int32]:
        """Classify raster cells: a polygon index, _OUTSIDE or _STRADDLE."""
        ex, ey = sx * 1e-3, sy * 1e-3
        boxes = shapely.box(
            self._ox + ix * sx - ex,
            self._oy + iy * sy - ey,
            self._ox + (ix + 1) * sx + ex,
            self._oy + (iy + 1) * sy + ey,
        )
        box_i, poly_i = self._tree.query(boxes, predicate="intersects")
        hits = np.bincount(box_i, minlength=len(boxes))
        out = np.full(len(boxes), _STRADDLE, dtype=np.int32)
        out[hits == 0] = _OUTSIDE
        single = hits[box_i] == 1
        b, p = box_i[single], poly_i[single]
        inside = shapely.contains_properly(self._polygons[p], boxes[b])
        out[b[inside]] = p[inside]
        return out

    # --- lookups ----------------------------------------------------------------------------------

    def locate(self, lng: float, lat: float) -> str | None:
        """The code of the grid covering (lng, lat) in WGS84, or None outside every grid."""
        if not self._has_raster:
            if math.isnan(lng) or math.isnan(lat):
                return None
            hits = self._tree.query(Point(lng, lat), predicate="intersects")
            return self._codes[int(hits.min())] if len(hits) else None
        fx = (lng - self._ox) / self._dx
        fy = (lat - self._oy) / self._dy
        if not (0.0 <= fx < self._nx and 0.0 <= fy < self._ny):  # also rejects NaN
            return None
        value = self._raster_flat[int(fy) * self._nx + int(fx)]
        if value == _STRADDLE:
            hits = self._tree.query(Point(lng, lat), predicate="intersects")
            return self._codes[int(hits.min())] if len(hits) else None
        return None if value == _OUTSIDE else self._codes[value]

    def locate_index_many(self, lng: ArrayLike, lat: ArrayLike) -> NDArray[np.int32]:
        """Polygon indices (-1 = outside) for arrays of points: the fast path for bulk work."""
        x = np.asarray(lng, dtype=np.float64).ravel()
        y = np.asarray(lat, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("经度与纬度数组长度不一致")
        self._ensure_raster()
        fx = (x - self._ox) / self._dx
        fy = (y - self._oy) / self._dy
        valid = (fx >= 0.0) & (fx < self._nx) & (fy >= 0.0) & (fy < self._ny)
        flat = np.where(valid, fy, 0.0).astype(np.int64) * self._nx + np.where(valid, fx, 0.0).astype(
            np.int64
        )
        result = np.where(valid, self._raster.ravel()[flat], _OUTSIDE).astype(np.int32)
        todo = np.nonzero(result == _STRADDLE)[0]
        if len(todo):
            result[todo] = self._exact_index(x[todo], y[todo])
        return result

    def locate_many(self, lng: ArrayLike, lat: ArrayLike) -> NDArray[np.object_]:
        """Grid codes for arrays of points: an object array of str, with None where the point is outside."""
        return self._lookup[self.locate_index_many(lng, lat)]

    def locate_many_exact(self, lng: ArrayLike, lat: ArrayLike) -> NDArray[np.object_]:
        """The reference answer from the STRtree alone (no raster); same output as `locate_many`."""
        x = np.asarray(lng, dtype=np.float64).ravel()
        y = np.asarray(lat, dtype=np.float64).ravel()
        return self._lookup[self._exact_index(x, y)]

    def _exact_index(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int32]:
        points = shapely.points(x, y)
        pt_i, poly_i = self._tree.query(points, predicate="intersects")
        best = np.full(len(x), len(self._codes), dtype=np.int64)
        np.minimum.at(best, pt_i, poly_i)
        best[best == len(self._codes)] = _OUTSIDE
        return best.astype(np.int32)

    # --- nearest ----------------------------------------------------------------------------------

    def _to_metres(self, coords: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(
            ((coords[:, 0] - self._lng0) * self._m_lng, (coords[:, 1] - self._lat0) * self._m_lat)
        )

    def nearest(self, lng: float, lat: float) -> tuple[str, float]:
        """The nearest grid and the distance in metres from the point to its boundary (0.0 when covered).

        Used to explain an "outside the district" rejection: "距最近的网格 XXX 约 120 米".
        """
        if math.isnan(lng) or math.isnan(lat):
            raise ValueError("坐标不能为空值")
        code = self.locate(lng, lat)
        if code is not None:
            return code, 0.0
        if self._metric_tree is None:
            self._metric_polygons = shapely.transform(self._polygons, self._to_metres)
            self._metric_tree = shapely.STRtree(self._metric_polygons)
        assert self._metric_polygons is not None
        here = shapely.transform(Point(lng, lat), self._to_metres)
        hits = self._metric_tree.query_nearest(here, all_matches=True)
        index = int(np.min(hits))
        closest = nearest_points(self._metric_polygons[index], here)[0]
        c_lng = closest.x / self._m_lng + self._lng0
        c_lat = closest.y / self._m_lat + self._lat0
        return self._codes[index], float(haversine_m(lng, lat, c_lng, c_lat))
