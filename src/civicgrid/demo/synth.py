"""One month of synthetic facts rows (see ``demo.generate``): NumPy, int64 ns UTC times, NAT = null."""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from civicgrid.analytics.facts import FACTS_SCHEMA
from civicgrid.cases.states import State
from civicgrid.demo.universe import (
    CITIZEN_BASE,
    CITIZEN_POOL,
    DISPATCHER_IDS,
    OPERATOR_IDS,
    SHIFT_LEAD_IDS,
    Universe,
)
from civicgrid.settings import get_settings
from civicgrid.sla import deadlines as dl
from civicgrid.sla.clock import Limit
from civicgrid.sla.vector import NAT, NS_PER_MIN, VectorClock, to_ns

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
TZ = ZoneInfo(get_settings().timezone)
DAY_NS = 86_400 * 1_000_000_000

SOURCES = np.array(["inspector", "citizen", "hotline", "open311", "sensor", "operator"])
SOURCE_P = np.array([0.50, 0.17, 0.22, 0.03, 0.04, 0.04])
PUBLIC = np.array([False, True, True, True, False, False])
# Reports by hour of day (local): office hours busy, nights quiet.
HOUR_W = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.6, 2, 5, 9, 10, 10, 9, 6, 6, 8, 9, 9, 8, 6, 5, 4, 3, 2, 1.4])
WEEKDAY_W = np.array([1.0, 1.0, 1.0, 1.0, 0.97, 0.72, 0.64])
HEAVY = {
    "E0102": 14,
    "E0505": 12,
    "E0506": 9,
    "E0201": 8,
    "E0504": 7,
    "E0104": 6,
    "E0507": 5,
    "E0501": 4,
    "E0204": 3,
    "C0118": 3,
    "E0306": 3,
    "E0508": 2.5,
    "E0605": 2.5,
    "C0305": 2,
    "E0404": 2,
    "E0702": 2,
    "E0704": 2,
    "E0801": 1.5,
    "E0403": 0.15,
    "E0401": 0.2,
    "C0111": 0.2,
}
STATES = np.array([s.value for s in State])  # the engine's own states
STATE_INDEX = {str(v): i for i, v in enumerate(STATES)}
CLOSE_TYPES = np.array(["normal", "overdue", "special"])
RATING_P = np.array([0.04, 0.04, 0.09, 0.25, 0.58])


def _minutes(limit: Limit) -> int:
    """A stage limit of ``sla.deadlines`` in minutes (stage limits run in natural time, not working time)."""
    assert limit.unit in ("min", "h"), limit
    return int(limit.amount * (60 if limit.unit == "h" else 1))


VERIFY_NS = _minutes(dl.VERIFY_LIMIT) * NS_PER_MIN
CHECK_NS = _minutes(dl.CHECK_LIMIT) * NS_PER_MIN


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    n: int
    first_id: int
    now_ns: int
    index: int
    spike_from_ns: int | None = None  # reports after this instant may join the injected spike


# A burst injected in the last week (a blocked drain, a new night market): street index, category.
SPIKES: tuple[tuple[int, str], ...] = ((2, "E0404"), (5, "E0510"))


def _season(code: str, month: int) -> float:
    summer, winter = month in (6, 7, 8), month in (12, 1, 2)
    if code == "E0111":
        return 4.0 if summer else (1.2 if month in (5, 9) else 0.3)
    if code == "E0112":
        return 6.0 if winter else 0.02
    if code in ("E0510", "E0605", "E0508"):
        return 1.8 if month in (5, 6, 7, 8, 9) else 0.7
    if code in ("C0402", "C0405"):
        return 1.8 if month in (7, 8, 9) else 0.9
    if code == "E0302":
        return 1.5 if month in (3, 4, 5) else 1.0
    return 1.0


def _pick(rng: np.random.Generator, p: npt.NDArray[np.float64], n: int) -> I64:
    """Fast categorical draw (inverse CDF) returning indices into ``p``."""
    cdf = np.cumsum(p / p.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int64)


def _mins(x: npt.ArrayLike) -> I64:
    return np.rint(np.asarray(x, dtype=np.float64) * NS_PER_MIN).astype(np.int64)


def _chain(prev: I64, delay: I64, alive: Mask) -> I64:
    return np.where(alive & (prev != NAT), prev + delay, NAT)


def month_rows(
    uni: Universe,
    spec: Month,
    rng: np.random.Generator,
    clock: VectorClock,
    grid_weight: npt.NDArray[np.float64],
    hot_pairs: I64,
    dept_speed: dict[str, float],
) -> pa.Table:
    n = spec.n
    ndays = calendar.monthrange(spec.year, spec.month)[1]
    midnight = to_ns(datetime.combine(datetime(spec.year, spec.month, 1).date(), time(0), tzinfo=TZ))
    first_wd = datetime(spec.year, spec.month, 1).weekday()
    day_w = WEEKDAY_W[(np.arange(ndays) + first_wd) % 7]
    day = _pick(rng, day_w, n)
    hour = _pick(rng, HOUR_W, n)
    received = (
        midnight + day * DAY_NS + hour * 3600 * 1_000_000_000 + rng.integers(0, 3600, n) * 1_000_000_000
    )
    late = received > spec.now_ns
    received[late] = spec.now_ns - rng.integers(1, 6 * 3600, int(late.sum())) * 1_000_000_000
    received.sort()

    cat_w = np.array([HEAVY.get(str(c), 1.0) * _season(str(c), spec.month) for c in uni.cat_codes])
    cat = _pick(rng, cat_w, n)
    grid = _pick(rng, grid_weight, n)
    hot = rng.random(n) < 0.03
    pair = rng.integers(0, len(hot_pairs), n)
    grid = np.where(hot, hot_pairs[pair, 0], grid)
    cat = np.where(hot, hot_pairs[pair, 1], cat)
    if spec.spike_from_ns is not None:
        for street_idx, code in SPIKES:
            grids_in = np.flatnonzero(uni.grid_street_index == street_idx)
            burst = (received >= spec.spike_from_ns) & (rng.random(n) < 0.004)
            grid = np.where(burst, grids_in[rng.integers(0, len(grids_in), n)], grid)
            cat = np.where(burst, int(np.flatnonzero(uni.cat_codes == code)[0]), cat)
    src = _pick(rng, SOURCE_P, n)
    public = PUBLIC[src]
    urgent = uni.cat_urgent[cat]
    # The department (and its speed) per (category, street) cell; rows only carry the cell index.
    cell = cat * len(uni.street_codes) + uni.grid_street_index[grid]
    cell_dept = uni.cell_departments
    speed = np.array([dept_speed[str(d)] for d in cell_dept])[cell]

    # Duplicates: a public report of the same (grid, category) within 3 days of an earlier one is merged.
    order = np.lexsort((received, cat, grid))
    same = np.zeros(n, dtype=bool)
    same[order[1:]] = (grid[order[1:]] == grid[order[:-1]]) & (cat[order[1:]] == cat[order[:-1]])
    same[order[1:]] &= received[order[1:]] - received[order[:-1]] < 3 * DAY_NS
    prev = np.full(n, -1, dtype=np.int64)
    prev[order[1:]] = order[:-1]
    merged = same & public & (rng.random(n) < 0.35)
    master_idx = np.where(merged, prev, -1)
    master_idx = np.where(
        merged & merged[np.maximum(master_idx, 0)], -1, master_idx
    )  # chains: keep it one level
    merged = master_idx >= 0
    ids = spec.first_id + np.arange(n, dtype=np.int64)

    live = ~merged
    merged_at = np.where(merged, received + _mins(rng.uniform(3, 40, n)), NAT)
    verify_sent = np.where(public & live, received + _mins(rng.uniform(2, 15, n)), NAT)
    verified = _chain(verify_sent, _mins(rng.lognormal(np.log(28), 0.5, n)), np.ones(n, bool))
    confirmed = np.where(verified != NAT, rng.random(n) < 0.92, False)
    refused = (verified != NAT) & ~confirmed
    bad_inspect = ~public & live & (rng.random(n) < 0.02)
    intake_end = np.where(public, verified, received)
    voided = np.where(refused | bad_inspect, intake_end + _mins(rng.uniform(5, 40, n)), NAT)
    to_register = live & ~refused & ~bad_inspect
    reg_med = np.where(urgent, 4.0, 9.0)
    registered = _chain(intake_end, _mins(reg_med * rng.lognormal(0, 0.6, n)), to_register)
    dispatched = _chain(registered, _mins(rng.exponential(3.5, n) + 0.5), np.ones(n, bool))
    auto = (dispatched != NAT) & ~public & (rng.random(n) < 0.4)

    returned = (dispatched != NAT) & (rng.random(n) < 0.04)
    redispatch = np.where(returned, dispatched + _mins(rng.uniform(15, 240, n)), dispatched)
    signed = _chain(redispatch, _mins(rng.exponential(18, n) + 1), np.ones(n, bool))

    working = (uni.cat_limit_unit != "h")[cat]
    limit_min = (uni.cat_limit_amount * np.where(uni.cat_limit_unit == "wd", 480.0, 60.0))[cat]
    has = redispatch != NAT
    due = _due(clock, redispatch, limit_min, working, has)
    extended = has & (rng.random(n) < 0.03)
    due = np.where(extended, _due(clock, due, limit_min, working, extended), due)
    held = (signed != NAT) & (rng.random(n) < 0.01)

    frac = rng.lognormal(np.log(0.36), 0.55, n) * speed * np.where(extended, 1.6, 1.0)
    feedback = _due(clock, redispatch, frac * limit_min, working, has & ~held)
    feedback = np.where(feedback != NAT, np.maximum(feedback, signed + NS_PER_MIN), NAT)
    rework = (feedback != NAT) & (rng.random(n) < 0.03)
    again = feedback + _mins(rng.uniform(60, 300, n))
    feedback = np.where(rework, _due(clock, again, 0.4 * frac * limit_min + 10, working, rework), feedback)
    quick = np.where(urgent, 0.5, 1.0)
    check_sent = _chain(feedback, _mins(quick * rng.exponential(12, n) + 1), np.ones(n, bool))
    checked = _chain(check_sent, _mins(quick * rng.lognormal(np.log(32), 0.45, n)), np.ones(n, bool))
    closed = _chain(checked, _mins(quick * rng.exponential(15, n) + 1), np.ones(n, bool))
    special = held & (rng.random(n) < 0.3)
    closed = np.where(special, signed + _mins(rng.uniform(10, 30, n) * 1440), closed)

    # Nothing happens after now: cut each stage, and everything after it, at the generation time.
    stages = [
        verify_sent,
        verified,
        voided,
        registered,
        dispatched,
        signed,
        feedback,
        check_sent,
        checked,
        closed,
    ]
    after = np.zeros(n, dtype=bool)
    for arr in stages:
        after |= (arr != NAT) & (arr > spec.now_ns)
        arr[after] = NAT
    due[dispatched == NAT] = NAT
    for arr in (merged_at, received):
        arr[arr > spec.now_ns] = NAT
    keep = received != NAT
    state = _state(
        merged,
        voided,
        closed,
        checked,
        check_sent,
        feedback,
        signed,
        dispatched,
        registered,
        verified,
        verify_sent,
        returned,
        redispatch,
        spec.now_ns,
    )
    is_closed = closed != NAT
    # As the engine does: 按期 is the department's last feedback against the due time (extensions included).
    close_type = np.where(special & is_closed, 2, np.where(feedback > due, 1, 0))
    rated = is_closed & public & (rng.random(n) < 0.45)
    stars = _pick(rng, RATING_P, n) + 1
    stars = np.where(close_type == 1, np.maximum(1, stars - 1), stars)
    reporter = np.where(
        src == 0,
        uni.inspector_ids(grid),
        np.where(
            public & (src != 2) & (rng.random(n) < 0.6),
            CITIZEN_BASE + rng.integers(0, CITIZEN_POOL, n),
            -1,
        ),
    )
    report_count = 1 + np.bincount(master_idx[merged], minlength=n) if n else np.zeros(0, np.int64)
    updated = functools.reduce(np.maximum, [merged_at, *stages], received)

    def pick_ids(pool: I64, when: I64, extra: Mask | None = None) -> I64:
        ok = when != NAT if extra is None else (when != NAT) & extra
        return np.where(ok, pool[rng.integers(0, len(pool), n)], -1)

    local_day = (received - midnight) // DAY_NS + 1
    cols: dict[str, object] = {
        "id": ids,
        "number": _numbers(uni.cat_codes, cat, spec, local_day, n),
        "category_code": _dict(cat, uni.cat_codes),
        "kind": _dict(cat, uni.cat_kind),
        "major_code": _dict(cat, uni.cat_major),
        "source": _dict(src, SOURCES),
        "urgent": urgent,
        "street_code": _dict(grid, uni.grid_street_codes),
        "community_code": _dict(grid, uni.grid_community_codes),
        "grid_code": _dict(grid, uni.grid_codes),
        "department_code": _dict(cell, cell_dept, mask=dispatched == NAT),
        "lng": uni.grid_lng[grid] + rng.normal(0, 0.00025, n),
        "lat": uni.grid_lat[grid] + rng.normal(0, 0.00022, n),
        "state": _dict(state, STATES),
        "received_at": received,
        "verify_sent_at": verify_sent,
        "verified_at": verified,
        "verify_confirmed": pa.array(confirmed, mask=verified == NAT),
        "registered_at": registered,
        "dispatched_at": dispatched,
        "signed_at": signed,
        "feedback_at": feedback,
        "check_sent_at": check_sent,
        "checked_at": checked,
        "closed_at": closed,
        "voided_at": voided,
        "merged_at": merged_at,
        "due_at": due,
        "rework_count": np.where(rework & (feedback != NAT), 1, 0),
        "return_count": np.where(returned & (dispatched != NAT), 1, 0),
        "reopen_count": np.where(is_closed & (rng.random(n) < 0.005), 1, 0),
        "extension_count": np.where(extended & (due != NAT), 1, 0),
        "held": held & ~is_closed,
        "close_type": _dict(close_type, CLOSE_TYPES, mask=~is_closed),
        "rating": pa.array(stars.astype(np.int8), mask=~rated),
        "report_count": report_count,
        "master_id": np.where(merged, spec.first_id + master_idx, -1),
        "reporter_user_id": reporter,
        "send_verify_by": pick_ids(OPERATOR_IDS, verify_sent),
        "verify_by": np.where(verified != NAT, uni.inspector_ids(grid), -1),
        "register_by": pick_ids(SHIFT_LEAD_IDS, registered, ~auto),
        "dispatch_by": pick_ids(DISPATCHER_IDS, dispatched, ~auto),
        "send_check_by": pick_ids(OPERATOR_IDS, check_sent),
        "check_by": np.where(checked != NAT, uni.inspector_ids(grid), -1),
        "close_by": pick_ids(SHIFT_LEAD_IDS, closed),
        "register_due_at": received
        + np.where(urgent, _minutes(dl.REGISTER_DISPATCH_URGENT), _minutes(dl.REGISTER_DISPATCH_OTHER))
        * NS_PER_MIN,
        "verify_due_at": np.where(verify_sent != NAT, verify_sent + VERIFY_NS, NAT),
        "check_due_at": np.where(check_sent != NAT, check_sent + CHECK_NS, NAT),
        "disposal_wmin": clock.working_minutes_between(dispatched, feedback),
        "updated_at": updated,
    }
    table = _to_table(cols)
    return table.filter(pa.array(keep)) if not keep.all() else table


def _due(clock: VectorClock, start: I64, minutes: npt.NDArray[np.float64], working: Mask, mask: Mask) -> I64:
    out = np.full(start.shape, NAT, dtype=np.int64)
    w = mask & working & (start != NAT)
    out[w] = clock.add_working_minutes(start[w], minutes[w])
    nat = mask & ~working & (start != NAT)
    out[nat] = start[nat] + _mins(minutes[nat])
    return out


def _state(
    merged: Mask,
    voided: I64,
    closed: I64,
    checked: I64,
    check_sent: I64,
    feedback: I64,
    signed: I64,
    dispatched: I64,
    registered: I64,
    verified: I64,
    verify_sent: I64,
    returned: Mask,
    redispatch: I64,
    now: int,
) -> npt.NDArray[np.int8]:
    s = np.zeros(merged.shape, dtype=np.int8)
    for code, when in (
        ("verifying", verify_sent != NAT),
        ("verified", verified != NAT),
        ("registered", registered != NAT),
        ("dispatched", dispatched != NAT),
        ("returned", (dispatched != NAT) & returned & (redispatch > now)),
        ("processing", signed != NAT),
        ("feedback", feedback != NAT),
        ("checking", check_sent != NAT),
        ("checked", checked != NAT),
        ("closed", closed != NAT),
        ("voided", voided != NAT),
        ("merged", merged),
    ):
        s[when] = STATE_INDEX[code]
    return s


def _dict(
    indices: npt.NDArray[np.integer], values: npt.NDArray[np.str_], mask: Mask | None = None
) -> pa.Array:
    """Strings by index into a small vocabulary, built as an Arrow dictionary array and decoded in C++."""
    idx = pa.array(indices.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(idx, pa.array(values.tolist(), pa.string())).cast(pa.string())


def _numbers(codes: npt.NDArray[np.str_], cat_idx: I64, spec: Month, local_day: I64, n: int) -> pa.Array:
    """Case numbers: category + local yyyymmdd + a daily sequence per category (rows are in time order)."""
    if n == 0:
        return pa.array([], pa.string())
    key = local_day * 1000 + cat_idx
    order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = np.r_[0, np.flatnonzero(sk[1:] != sk[:-1]) + 1]
    run = np.zeros(n, dtype=np.int64)
    run[starts] = starts
    seq = np.arange(n) - np.maximum.accumulate(run) + 1
    seq_in_order = np.empty(n, dtype=np.int64)
    seq_in_order[order] = seq
    ymd = spec.year * 10000 + spec.month * 100 + np.clip(local_day, 1, 31)
    tail = pa.array(ymd * 10000 + np.minimum(seq_in_order, 9999)).cast(pa.string())
    return pc.binary_join_element_wise(_dict(cat_idx, codes), tail, "")


def _to_table(cols: dict[str, object]) -> pa.Table:
    arrays = []
    for field in FACTS_SCHEMA:
        value = cols[field.name]
        if isinstance(value, pa.Array | pa.ChunkedArray):
            arrays.append(value.cast(field.type))
            continue
        arr = np.asarray(value)
        if pa.types.is_timestamp(field.type):
            arrays.append(pa.array(arr // 1000, type=pa.int64(), mask=arr == NAT).cast(field.type))
        elif field.name.endswith("_by") or field.name in ("master_id", "reporter_user_id"):
            arrays.append(pa.array(arr, type=field.type, mask=arr < 0))
        elif field.name == "disposal_wmin":
            arrays.append(pa.array(arr, type=field.type, from_pandas=True))
        else:
            arrays.append(pa.array(arr, type=field.type))
    return pa.Table.from_arrays(arrays, schema=FACTS_SCHEMA)
