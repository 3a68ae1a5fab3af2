"""A generated demo district: 姑苏区 (320508) with streets, communities, unit grids and named roads.

The geometry is GENERATED, not surveyed: an irregular outline over Suzhou's old-city area is filled with a
lattice of 100 m x 100 m cells (about 10,000 m² each, the CJ/T 213 unit-grid size). Cells are grown into
contiguous, balanced communities, and communities into contiguous streets. Codes follow SPEC §4: a
street's code is the district code + 3 digits, a community's adds 3 more, and a grid's adds `grid_digits`
more (14 or 15 digits). Everything is deterministic for a given seed.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon

from civicgrid.geo.crs import metres_per_degree
from civicgrid.geo.plan import Area, AreaGeometry, DistrictPlan, Road

DISTRICT_CODE = "320508"
DISTRICT_NAME = "姑苏区"
BBOX = (120.58, 31.28, 120.67, 31.35)  # lng_min, lat_min, lng_max, lat_max
CELL_M = 100.0
TARGET_CELLS = 3800
N_COMMUNITIES = 60
MAX_GRIDS_2_DIGITS = 99

# Street names with an anchor (fractions of the bbox) that places each street roughly where its namesake lies.
STREETS: tuple[tuple[str, float, float], ...] = (
    ("平江街道", 0.66, 0.62),
    ("沧浪街道", 0.48, 0.28),
    ("双塔街道", 0.72, 0.34),
    ("金阊街道", 0.36, 0.56),
    ("虎丘街道", 0.22, 0.78),
    ("白洋湾街道", 0.12, 0.52),
    ("吴门桥街道", 0.50, 0.08),
    ("苏锦街道", 0.54, 0.90),
)

COMMUNITY_STEMS: tuple[str, ...] = (
    "桂花", "南环", "彩香", "三元", "留芳", "西园", "虎阜", "白莲", "梅巷", "钱万里", "北寺", "葑门",
    "杨枝", "滚绣", "南园", "烟雨", "百花", "锦绣", "友联", "佳安", "新庄", "朱家庄", "绿宝", "吉庆",
    "大儒", "苏嘉", "马医", "带城", "定慧", "娄江", "桃花坞", "万年", "高师", "文庙", "泰让", "胥江",
    "盘门", "长桥", "东港", "石湖", "虎池", "运河", "鹤园", "怡园", "环秀", "拙政", "狮林", "耦园",
    "网师", "玉兰", "茉莉", "紫藤", "丁香", "清风", "明月", "安居", "和美", "康乐", "福星", "瑞云",
    "嘉禾", "双桥", "春申", "采莲", "藕香", "水巷", "铜钟", "白云",
)  # fmt: skip

EW_ROADS: tuple[str, ...] = (
    "干将路", "十梓街", "景德路", "道前街", "竹辉路", "东北街", "西北街", "十全街", "白塔路", "金门路",
    "三香路", "劳动路", "观前街", "新市路", "枫桥路", "娄门路", "友谊路", "沧浪亭街", "书院巷", "盘胥路",
)  # fmt: skip
NS_ROADS: tuple[str, ...] = (
    "人民路", "凤凰街", "临顿路", "平江路", "齐门路", "广济路", "桐泾路", "东环路", "西环路", "莫邪路",
    "阊胥路", "相门路", "仓街", "学士街", "养育巷", "锦帆路", "苏站路", "虎丘路", "山塘街", "留园路",
)  # fmt: skip


def _outline_mask(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Boolean (rows, cols) mask of lattice cells inside a wobbly star-shaped outline (~TARGET_CELLS)."""
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64) + 0.5
    cx, cy = cols * 0.5, rows * 0.5
    dx, dy = (xx - cx) / (cols * 0.5), (yy - cy) / (rows * 0.5)
    theta = np.arctan2(dy, dx)
    radius = np.hypot(dx, dy)
    wobble = np.ones_like(theta)
    for k in range(2, 9):
        wobble += rng.uniform(0.05, 0.16) / (k - 1) ** 0.7 * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    norm = radius / wobble
    # The scale that yields TARGET_CELLS cells is the matching quantile of the normalised radius.
    scale = np.quantile(norm, TARGET_CELLS / norm.size)
    mask = norm <= scale
    return _tidy_mask(mask)


def _components(mask: np.ndarray) -> np.ndarray:
    """4-connected component labels (0 = background), by iterative flood fill."""
    labels = np.zeros(mask.shape, dtype=np.int32)
    current = 0
    rows, cols = mask.shape
    for r0, c0 in zip(*np.nonzero(mask), strict=True):
        if labels[r0, c0]:
            continue
        current += 1
        stack = [(int(r0), int(c0))]
        labels[r0, c0] = current
        while stack:
            r, c = stack.pop()
            for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if 0 <= nr < rows and 0 <= nc < cols and mask[nr, nc] and not labels[nr, nc]:
                    labels[nr, nc] = current
                    stack.append((nr, nc))
    return labels


def _tidy_mask(mask: np.ndarray) -> np.ndarray:
    """Keep the largest component; fill holes and diagonal-only contacts so the union is one clean Polygon."""
    labels = _components(mask)
    counts = np.bincount(labels.ravel())
    counts[0] = 0
    mask = labels == int(np.argmax(counts))
    changed = True
    while changed:
        padded = np.pad(~mask, 1, constant_values=True)
        outside = _components(padded)
        holes = (outside[1:-1, 1:-1] != outside[0, 0]) & ~mask
        a, b, c, d = mask[:-1, :-1], mask[:-1, 1:], mask[1:, :-1], mask[1:, 1:]
        diag1 = a & d & ~b & ~c
        diag2 = b & c & ~a & ~d
        fixed = mask | holes
        fixed[:-1, 1:] |= diag1
        fixed[:-1, :-1] |= diag2
        changed = bool((fixed != mask).any())
        mask = fixed
    return mask


def _grow_regions(
    positions: np.ndarray,
    weights: np.ndarray,
    neighbours: Sequence[Sequence[int]],
    seeds: Sequence[int],
    cap: float,
) -> np.ndarray:
    """Balanced region growing on a graph: the lightest region takes its nearest free neighbour next.

    Every region is contiguous by construction; `cap` is a soft upper bound on a region's weight.
    """
    owner = np.full(len(positions), -1, dtype=np.int64)
    frontiers: list[list[tuple[float, int]]] = [[] for _ in seeds]
    load = np.zeros(len(seeds))
    queue: list[tuple[float, int, bool]] = []
    for region, node in enumerate(seeds):
        owner[node] = region
        load[region] = weights[node]
        for nb in neighbours[node]:
            frontiers[region].append((float(np.sum((positions[nb] - positions[node]) ** 2)), nb))
        heapq.heapify(frontiers[region])
        heapq.heappush(queue, (load[region], region, False))
    while queue:
        _, region, deferred = heapq.heappop(queue)
        frontier = frontiers[region]
        while frontier and owner[frontier[0][1]] != -1:
            heapq.heappop(frontier)
        if not frontier:
            continue
        dist, node = heapq.heappop(frontier)
        if not deferred and load[region] + weights[node] > cap:
            # Over the cap: give lighter regions the chance to absorb this node first.
            heapq.heappush(frontier, (dist, node))
            heapq.heappush(queue, (load[region] + cap, region, True))
            continue
        owner[node] = region
        load[region] += weights[node]
        seed_pos = positions[seeds[region]]
        for nb in neighbours[node]:
            if owner[nb] == -1:
                heapq.heappush(frontier, (float(np.sum((positions[nb] - seed_pos) ** 2)), nb))
        heapq.heappush(queue, (load[region], region, False))
    if (owner == -1).any():
        raise RuntimeError("区域生长未覆盖全部单元")
    return owner


def _kmeans_seeds(rng: np.random.Generator, points: np.ndarray, k: int, rounds: int = 12) -> list[int]:
    """Indices of the points nearest to k-means centres (deterministic for the generator's state)."""
    centres = points[rng.choice(len(points), size=k, replace=False)]
    for _ in range(rounds):
        d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        nearest = d.argmin(axis=1)
        for j in range(k):
            members = points[nearest == j]
            if len(members):
                centres[j] = members.mean(axis=0)
    d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    chosen: list[int] = []
    for j in range(k):
        order = np.argsort(d[:, j])
        chosen.append(next(int(i) for i in order if int(i) not in chosen))
    return chosen


def generate_demo_district(seed: int = 20261126, grid_digits: int = 2) -> DistrictPlan:
    """Generate the demo 姑苏区 plan (deterministic for `seed`); grid_digits 2 -> 14-digit codes, 3 -> 15."""
    if grid_digits not in (2, 3):
        raise ValueError("网格码位数只能是 2 或 3")
    rng = np.random.default_rng(seed)
    lng_min, lat_min, lng_max, lat_max = BBOX
    m_lng, m_lat = metres_per_degree((lat_min + lat_max) / 2.0)
    d_lng, d_lat = CELL_M / m_lng, CELL_M / m_lat
    cols = math.ceil((lng_max - lng_min) / d_lng)
    rows = math.ceil((lat_max - lat_min) / d_lat)
    mask = _outline_mask(rng, rows, cols)

    cell_rc = np.argwhere(mask)  # row-major: (row, col); row 0 is the southern edge
    index = np.full(mask.shape, -1, dtype=np.int64)
    index[cell_rc[:, 0], cell_rc[:, 1]] = np.arange(len(cell_rc))
    neighbours: list[list[int]] = []
    for r, c in cell_rc:
        nbs = [(r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)]
        neighbours.append(
            [int(index[a, b]) for a, b in nbs if 0 <= a < rows and 0 <= b < cols and index[a, b] >= 0]
        )
    pos = cell_rc[:, ::-1].astype(np.float64) + 0.5  # (x, y) in cell units

    comm_seeds = _kmeans_seeds(rng, pos, N_COMMUNITIES)
    comm_of_cell = _grow_regions(pos, np.ones(len(pos)), neighbours, comm_seeds, cap=MAX_GRIDS_2_DIGITS)

    # Streets: balanced growth over the community adjacency graph, seeded near each street's anchor.
    comm_pos = np.array([pos[comm_of_cell == k].mean(axis=0) for k in range(N_COMMUNITIES)])
    comm_weight = np.bincount(comm_of_cell, minlength=N_COMMUNITIES).astype(np.float64)
    comm_nbs: list[set[int]] = [set() for _ in range(N_COMMUNITIES)]
    for i, cell_nbs in enumerate(neighbours):
        for j in cell_nbs:
            a, b = int(comm_of_cell[i]), int(comm_of_cell[j])
            if a != b:
                comm_nbs[a].add(b)
    street_seeds = _kmeans_seeds(rng, comm_pos, len(STREETS))
    # Name each seed after the street whose anchor is nearest (greedy over the closest pairs first).
    anchors = np.array([(fx * cols, fy * rows) for _, fx, fy in STREETS])
    dist = ((comm_pos[street_seeds][:, None, :] - anchors[None, :, :]) ** 2).sum(axis=2)
    named: dict[int, int] = {}
    for flat in np.argsort(dist, axis=None):
        seed_i, street_i = divmod(int(flat), len(STREETS))
        if seed_i not in named and street_i not in named.values():
            named[seed_i] = street_i
    street_seeds = [street_seeds[seed_i] for seed_i, _ in sorted(named.items(), key=lambda kv: kv[1])]
    street_of_comm = _grow_regions(
        comm_pos,
        comm_weight,
        [sorted(s) for s in comm_nbs],
        street_seeds,
        cap=1.3 * len(pos) / len(STREETS),
    )

    # Geometry: one box per cell, sharing exact corner coordinates with its neighbours.
    xs = lng_min + np.arange(cols + 1) * d_lng
    ys = lat_min + np.arange(rows + 1) * d_lat
    boxes = shapely.box(xs[cell_rc[:, 1]], ys[cell_rc[:, 0]], xs[cell_rc[:, 1] + 1], ys[cell_rc[:, 0] + 1])

    district = Area(DISTRICT_CODE, DISTRICT_NAME, "district", None, _union(boxes))
    streets: list[Area] = []
    comm_rows: list[tuple[str, str, AreaGeometry, list[int]]] = []  # code, street code, geometry, cells
    for s, (street_name, _, _) in enumerate(STREETS):
        street_code = f"{DISTRICT_CODE}{s + 1:03d}"
        members = [k for k in range(N_COMMUNITIES) if street_of_comm[k] == s]
        members.sort(
            key=lambda k: (-round(comm_pos[k][1] / 8), comm_pos[k][0])
        )  # north to south, west to east
        cells_of_street = np.isin(comm_of_cell, members)
        streets.append(
            Area(street_code, street_name, "street", DISTRICT_CODE, _union(boxes[cells_of_street]))
        )
        for n, k in enumerate(members):
            ids = [int(i) for i in np.nonzero(comm_of_cell == k)[0]]
            cell_ids = sorted(ids, key=lambda i: (-cell_rc[i][0], cell_rc[i][1]))
            comm_rows.append((f"{street_code}{n + 1:03d}", street_code, _union(boxes[cell_ids]), cell_ids))
    roads = _make_roads(rng, district.geometry, [(code, geom) for code, _, geom, _ in comm_rows])
    roads = _pin_road(roads, "人民路", f"{DISTRICT_CODE}001")
    names = _community_names(rng, [code for code, *_ in comm_rows], roads)

    communities: list[Area] = []
    grids: list[Area] = []
    for code, street_code, geom, cell_ids in comm_rows:
        communities.append(Area(code, names[code], "community", street_code, geom))
        for g, cell in enumerate(cell_ids):
            number = f"{g + 1:0{grid_digits}d}"
            grids.append(Area(f"{code}{number}", f"{names[code]}{number}网格", "grid", code, boxes[cell]))
    return DistrictPlan(district, tuple(streets), tuple(communities), tuple(grids), roads)


def _pin_road(roads: tuple[Road, ...], name: str, street_code: str) -> tuple[Road, ...]:
    """Swap road names so that `name` crosses the given street (keeps the documented examples coherent)."""
    by_name = {r.name: r for r in roads}
    target = by_name.get(name)
    if target is None or any(c.startswith(street_code) for c in target.community_codes):
        return roads
    family = NS_ROADS if name in NS_ROADS else EW_ROADS
    other = next(
        (r for r in roads if r.name in family and any(c.startswith(street_code) for c in r.community_codes)),
        None,
    )
    if other is None:
        return roads
    swap = {name: other.name, other.name: name}
    return tuple(replace(r, name=swap.get(r.name, r.name)) for r in roads)


def _community_names(rng: np.random.Generator, codes: Sequence[str], roads: Sequence[Road]) -> dict[str, str]:
    """Unique names; the two names used in the docs land where the examples expect them.

    桂花社区 is a 平江街道 (001) community crossed by 人民路, 南环社区 a 沧浪街道 (002) community.
    """
    rest = [stem for stem in COMMUNITY_STEMS if stem not in ("桂花", "南环")]
    pool = [rest[int(i)] for i in rng.permutation(len(rest))]
    crossed = next((r.community_codes for r in roads if r.name == "人民路"), ())
    pinned: dict[str, str] = {}
    pingjiang = [c for c in codes if c[6:9] == "001"]
    if pingjiang:
        pinned[next((c for c in pingjiang if c in crossed), pingjiang[0])] = "桂花"
    canglang = [c for c in codes if c[6:9] == "002"]
    if canglang:
        pinned[canglang[0]] = "南环"
    return {code: f"{pinned.get(code) or pool.pop(0)}社区" for code in codes}


def _union(boxes: np.ndarray) -> AreaGeometry:
    geom = shapely.union_all(boxes)
    geom = shapely.make_valid(shapely.normalize(geom)) if not geom.is_valid else shapely.normalize(geom)
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    raise RuntimeError("单元合并结果不是面")


def _make_roads(
    rng: np.random.Generator, outline: AreaGeometry, communities: Sequence[tuple[str, AreaGeometry]]
) -> tuple[Road, ...]:
    """Twenty east-west and twenty north-south gently bent roads, clipped to the district."""
    x0, y0, x1, y1 = outline.bounds
    tree = shapely.STRtree([geom for _, geom in communities])
    roads: list[Road] = []
    for horizontal, names in ((True, EW_ROADS), (False, NS_ROADS)):
        n = len(names)
        for k, name in enumerate(names):
            t = 0.06 + 0.88 * (k + 0.5) / n
            along = np.linspace(0.0, 1.0, 6)
            wiggle = rng.uniform(-0.25, 0.25, size=6) / n
            if horizontal:
                lng = x0 - 0.002 + along * (x1 - x0 + 0.004)
                lat = y0 + (t + wiggle) * (y1 - y0)
            else:
                lat = y0 - 0.002 + along * (y1 - y0 + 0.004)
                lng = x0 + (t + wiggle) * (x1 - x0)
            clipped = shapely.intersection(LineString(np.column_stack((lng, lat))), outline)
            parts = [g for g in shapely.get_parts(shapely.line_merge(clipped)) if isinstance(g, LineString)]
            if not parts:
                continue
            line = max(parts, key=lambda g: g.length)
            hits = tree.query(line, predicate="intersects")
            crossed: list[tuple[float, str]] = []
            for i in hits:
                code, geom = communities[int(i)]
                piece = shapely.intersection(line, geom)
                if piece.length > 0:
                    crossed.append((line.project(piece.centroid), code))
            roads.append(Road(name, line, tuple(code for _, code in sorted(crossed))))
    return tuple(roads)
