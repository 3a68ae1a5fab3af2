"""The reference data the synthetic history draws on: the demo district's grids and the shipped categories,
as NumPy arrays (pure: no database, no web). Built once per process (a cached loader).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from civicgrid.catalog.seed import STREET_OFFICE, shipped_categories
from civicgrid.demo.district import generate_demo_district

StrArray = npt.NDArray[np.str_]

# Synthetic staff ids written into the actor columns of generated facts (documented in docs/analytics.md).
OPERATOR_IDS = np.array([11, 12, 13, 14], dtype=np.int64)
SHIFT_LEAD_IDS = np.array([21, 22, 23], dtype=np.int64)
DISPATCHER_IDS = np.array([31, 32, 33], dtype=np.int64)
INSPECTORS_PER_STREET = 3
INSPECTOR_BASE = 100
CITIZEN_BASE = 100_000
CITIZEN_POOL = 200_000


@dataclass(frozen=True)
class Universe:
    grid_codes: StrArray
    grid_lng: npt.NDArray[np.float64]
    grid_lat: npt.NDArray[np.float64]
    grid_street_index: npt.NDArray[np.int64]
    street_codes: StrArray
    names: dict[str, str]  # street / community / grid code -> name
    cat_codes: StrArray
    cat_kind: StrArray
    cat_major: StrArray
    cat_urgent: npt.NDArray[np.bool_]
    cat_limit_unit: StrArray  # h / wh / wd
    cat_limit_amount: npt.NDArray[np.float64]
    cat_department: StrArray  # department code, or STREET_OFFICE
    cat_names: dict[str, str]
    grid_street_codes: StrArray = field(init=False)
    grid_community_codes: StrArray = field(init=False)
    cell_departments: StrArray = field(init=False)  # per (category, street): index cat * n_streets + street

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid_street_codes", self.grid_codes.astype("U9"))
        object.__setattr__(self, "grid_community_codes", self.grid_codes.astype("U12"))
        n_street = len(self.street_codes)
        first_grid = np.array([int(np.flatnonzero(self.grid_street_index == k)[0]) for k in range(n_street)])
        cats = np.repeat(np.arange(len(self.cat_codes)), n_street)
        streets = np.tile(np.arange(n_street), len(self.cat_codes))
        object.__setattr__(self, "cell_departments", self.department_codes(cats, first_grid[streets]))

    def department_codes(self, cat_idx: npt.NDArray[np.int64], grid_idx: npt.NDArray[np.int64]) -> StrArray:
        """The responsible department of each case: the category's default or the grid's street office."""
        depts = self.cat_department[cat_idx]
        office_codes = np.array(["JD" + c[-3:] for c in self.street_codes])
        street_office = office_codes[self.grid_street_index[grid_idx]]
        return np.where(depts == STREET_OFFICE, street_office, depts)

    def inspector_ids(self, grid_idx: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The inspector covering each grid (three per street, grids shared round-robin)."""
        street = self.grid_street_index[grid_idx]
        return INSPECTOR_BASE + street * INSPECTORS_PER_STREET + grid_idx % INSPECTORS_PER_STREET


# Raised by the monitoring stations' rules (SPEC §10), not reported by people: the demo's history draws the
# categories people report (the stations' own cases come from demo/stations.py).
STATION_ONLY = frozenset({"E0606", "E0607", "E0608"})


@functools.cache
def demo_universe() -> Universe:
    plan = generate_demo_district()
    grids = plan.grids
    codes = np.array([g.code for g in grids])
    cents = [g.geometry.centroid for g in grids]
    street_codes = np.array([s.code for s in plan.streets])
    street_pos = {c: i for i, c in enumerate(street_codes)}
    names = {a.code: a.name for a in (*plan.streets, *plan.communities, *plan.grids)}
    cats = [c for c in shipped_categories() if c.code not in STATION_ONLY]
    return Universe(
        grid_codes=codes,
        grid_lng=np.array([c.x for c in cents]),
        grid_lat=np.array([c.y for c in cents]),
        grid_street_index=np.array([street_pos[c[:9]] for c in codes], dtype=np.int64),
        street_codes=street_codes,
        names=names,
        cat_codes=np.array([c.code for c in cats]),
        cat_kind=np.array([c.kind for c in cats]),
        cat_major=np.array([c.major_code for c in cats]),
        cat_urgent=np.array([c.urgent for c in cats]),
        cat_limit_unit=np.array([c.limit_unit for c in cats]),
        cat_limit_amount=np.array([float(c.limit_amount) for c in cats]),
        cat_department=np.array([c.department_code for c in cats]),
        cat_names={c.code: c.name for c in cats},
    )
