"""Validate a GeoJSON FeatureCollection of unit grids before it is imported as a new grid generation.

Nothing is written here: the result is the parsed grids plus every problem found, feature by feature, so
the import command can print a dry run and refuse to commit while errors remain. A broken feature is
reported, never raised.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon, shape

from civicgrid.geo.crs import area_m2

_GEOS_REASONS = {
    "Self-intersection": "自相交",
    "Ring Self-intersection": "环自相交",
    "Too few points": "顶点数量不足",
    "Hole lies outside shell": "内环位于外环之外",
    "Nested holes": "内环相互嵌套",
    "Interior is disconnected": "内部不连通",
    "Nested shells": "外环相互嵌套",
    "Duplicate Rings": "存在重复的环",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "环未闭合",
}


@dataclass(frozen=True)
class GridRecord:
    """One valid grid ready to be stored; codes are full hierarchical ones (street 9, community 12 digits)."""

    index: int
    code: str
    district_code: str
    street_code: str
    community_code: str
    name: str | None
    street_name: str | None
    community_name: str | None
    geometry: Polygon | MultiPolygon
    area_m2: float


@dataclass(frozen=True)
class ImportError_:
    """A problem with one feature (`index` is its position; None for a problem with the whole file)."""

    index: int | None
    code: str | None
    message: str


@dataclass(frozen=True)
class GroupSummary:
    code: str
    name: str | None
    grids: int
    area_m2: float


@dataclass(frozen=True)
class ImportSummary:
    features: int
    grids: int
    errors: int
    total_area_m2: float
    streets: tuple[GroupSummary, ...]
    communities: tuple[GroupSummary, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "grids": self.grids,
            "errors": self.errors,
            "total_area_m2": self.total_area_m2,
            "streets": [vars(s) for s in self.streets],
            "communities": [vars(c) for c in self.communities],
        }


@dataclass
class ImportResult:
    grids: list[GridRecord] = field(default_factory=list)
    errors: list[ImportError_] = field(default_factory=list)
    features: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.grids)

    def summary(self) -> ImportSummary:
        """Counts and areas per street and community (for the dry run)."""

        def group(key: str, name_attr: str) -> tuple[GroupSummary, ...]:
            counts: Counter[str] = Counter()
            areas: dict[str, float] = {}
            names: dict[str, str | None] = {}
            for g in self.grids:
                code = getattr(g, key)
                counts[code] += 1
                areas[code] = areas.get(code, 0.0) + g.area_m2
                names[code] = names.get(code) or getattr(g, name_attr)
            return tuple(GroupSummary(c, names[c], counts[c], round(areas[c], 1)) for c in sorted(counts))

        return ImportSummary(
            features=self.features,
            grids=len(self.grids),
            errors=len(self.errors),
            total_area_m2=round(sum(g.area_m2 for g in self.grids), 1),
            streets=group("street_code", "street_name"),
            communities=group("community_code", "community_name"),
        )


def _geos_reason(reason: str) -> str:
    for english, chinese in _GEOS_REASONS.items():
        if reason.startswith(english):
            return f"{chinese}（{reason}）"
    return reason


def _load(data: bytes | str | dict[str, Any], result: ImportResult) -> list[Any] | None:
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            result.errors.append(ImportError_(None, None, f"文件不是有效的 JSON：{exc}"))
            return None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        result.errors.append(ImportError_(None, None, "顶层必须是 GeoJSON FeatureCollection"))
        return None
    features = data.get("features")
    if not isinstance(features, list):
        result.errors.append(ImportError_(None, None, "FeatureCollection 缺少 features 数组"))
        return None
    return features


def _check_code(raw: Any, grid_digits: int, district_code: str | None) -> tuple[str | None, str | None]:
    """(code, error message)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        return None, "缺少网格编码 properties.code"
    code = raw.strip()
    length = 12 + grid_digits
    if not code.isascii() or not code.isdigit():
        return code, f"网格编码必须全部为数字：{code}"
    if len(code) != length:
        return (
            code,
            f"网格编码应为 {length} 位（区县 6 + 街道 3 + 社区 3 + 网格 {grid_digits}），实际 {len(code)} 位",
        )
    if district_code is not None and not code.startswith(district_code):
        return code, f"网格编码不属于区县 {district_code}"
    if code[6:9] == "000" or code[9:12] == "000" or set(code[12:]) == {"0"}:
        return code, "网格编码中的街道、社区或网格序号不能全为 0"
    return code, None


def _check_geometry(raw: Any) -> tuple[Polygon | MultiPolygon | None, str | None]:
    if not isinstance(raw, dict):
        return None, "缺少几何 geometry"
    if raw.get("type") not in ("Polygon", "MultiPolygon"):
        return None, f"几何类型必须是 Polygon 或 MultiPolygon，实际为 {raw.get('type')}"
    try:
        geom = shape(raw)
    except (GEOSException, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        return None, f"几何坐标无法解析：{exc}"
    if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty:
        return None, "几何为空"
    coords = shapely.get_coordinates(geom)
    if not all(math.isfinite(v) for v in coords.ravel()):
        return None, "坐标包含非数值"
    lng, lat = coords[:, 0], coords[:, 1]
    if lng.min() < -180 or lng.max() > 180 or lat.min() < -90 or lat.max() > 90:
        return None, "坐标超出 WGS84 经纬度范围（是否为投影坐标？）"
    if not geom.is_valid:
        return None, f"几何无效：{_geos_reason(shapely.is_valid_reason(geom))}"
    return geom, None


def _optional_name(props: dict[str, Any], key: str) -> tuple[str | None, str | None]:
    value = props.get(key)
    if value is None or value == "":
        return None, None
    if not isinstance(value, str):
        return None, f"属性 {key} 必须是文本"
    return value.strip(), None


def _check_overlaps(result: ImportResult, tolerance_m2: float = 1.0) -> None:
    """Report grids whose interiors overlap by more than `tolerance_m2` (a shared edge is fine)."""
    if len(result.grids) < 2:
        return
    geoms = [g.geometry for g in result.grids]
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.intersection([geoms[i] for i in left], [geoms[j] for j in right], grid_size=None)
    for i, j, piece in zip(left, right, shared, strict=True):
        if piece.area == 0.0:
            continue
        overlap = area_m2(piece)
        if overlap > tolerance_m2:
            a, b = result.grids[int(i)], result.grids[int(j)]
            result.errors.append(
                ImportError_(
                    b.index, b.code, f"与第 {a.index + 1} 个要素（{a.code}）重叠约 {overlap:.0f} 平方米"
                )
            )


def parse_grid_geojson(
    data: bytes | str | dict[str, Any], grid_digits: int = 2, district_code: str | None = None
) -> ImportResult:
    """Parse and validate grid features; codes of streets and communities come from the grid code's digits."""
    if grid_digits not in (2, 3):
        raise ValueError("网格码位数只能是 2 或 3")
    result = ImportResult()
    features = _load(data, result)
    if features is None:
        return result
    result.features = len(features)
    first_seen: dict[str, int] = {}
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            result.errors.append(ImportError_(index, None, "要素必须是 GeoJSON Feature"))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            result.errors.append(ImportError_(index, None, "properties 必须是对象"))
            continue
        code, problem = _check_code(props.get("code"), grid_digits, district_code)
        problems = [problem] if problem else []
        geom, problem = _check_geometry(feature.get("geometry"))
        if problem:
            problems.append(problem)
        names: dict[str, str | None] = {}
        for key in ("name", "street_name", "community_name"):
            names[key], problem = _optional_name(props, key)
            if problem:
                problems.append(problem)
        if code is not None and not problems:
            if code in first_seen:
                problems.append(f"网格编码重复，与第 {first_seen[code] + 1} 个要素相同")
            else:
                first_seen[code] = index
        if problems or code is None or geom is None:
            result.errors.extend(ImportError_(index, code, p) for p in problems)
            continue
        result.grids.append(
            GridRecord(
                index=index,
                code=code,
                district_code=code[:6],
                street_code=code[:9],
                community_code=code[:12],
                name=names["name"],
                street_name=names["street_name"],
                community_name=names["community_name"],
                geometry=geom,
                area_m2=round(area_m2(geom), 1),
            )
        )
    _check_overlaps(result)
    if not result.grids and not result.errors:
        result.errors.append(ImportError_(None, None, "文件中没有任何网格要素"))
    return result
