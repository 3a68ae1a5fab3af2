"""The vectorised working clock equals the scalar clock, pair by pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from civicgrid.sla.clock import Limit
from civicgrid.sla.deadlines import get_clock
from civicgrid.sla.vector import NAT, NS_PER_MIN, VectorClock, to_ns

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _dt(ns: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(ns) // 1000)


@pytest.fixture(scope="module")
def vclock() -> VectorClock:
    return VectorClock(get_clock(), 2025, 2026)


def _pairs(seed: int, n: int, seconds: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lo, hi = to_ns(datetime(2025, 1, 1, tzinfo=UTC)), to_ns(datetime(2026, 10, 1, tzinfo=UTC))
    step = 1_000_000_000 if seconds else NS_PER_MIN
    a = rng.integers(lo, hi, n) // step * step
    b = a + rng.integers(-60, 40 * 24 * 60, n) * NS_PER_MIN
    return a, b


def test_working_minutes_between_equals_scalar_on_10k_pairs(vclock: VectorClock) -> None:
    clock = get_clock()
    a, b = _pairs(1, 10_000, seconds=False)
    got = vclock.working_minutes_between(a, b)
    want = np.array([clock.working_minutes_between(_dt(x), _dt(y)) for x, y in zip(a, b, strict=True)])
    assert np.array_equal(got, want)


def test_add_working_minutes_equals_scalar_on_10k_starts(vclock: VectorClock) -> None:
    clock = get_clock()
    a, _ = _pairs(2, 10_000, seconds=False)
    minutes = np.random.default_rng(3).integers(1, 15 * 480, 10_000)
    got = vclock.add_working_minutes(a, minutes)
    want = [to_ns(clock.add(_dt(x), Limit(m / 60, "wh"))) for x, m in zip(a, minutes, strict=True)]
    assert got.tolist() == want


def test_seconds_inside_a_window_are_kept(vclock: VectorClock) -> None:
    clock = get_clock()
    a, b = _pairs(4, 2000, seconds=True)
    got = vclock.working_minutes_between(a, b)
    want = [clock.working_minutes_between(_dt(x), _dt(y)) for x, y in zip(a, b, strict=True)]
    assert np.allclose(got, want, rtol=0, atol=1e-9)
    due = vclock.add_working_minutes(a, 240)
    assert due.tolist() == [to_ns(clock.add(_dt(x), Limit(4, "wh"))) for x in a]


def test_known_values_and_nulls(vclock: VectorClock) -> None:
    # Monday 2026-03-02 09:10 (+08) plus 4 working hours: 09:10-12:00 is 170, then 14:00-15:10.
    start = to_ns(datetime(2026, 3, 2, 1, 10, tzinfo=UTC))
    due = vclock.add_working_minutes(np.array([start, NAT]), 240)
    assert _dt(due[0]) == datetime(2026, 3, 2, 7, 10, tzinfo=UTC)
    assert due[1] == NAT
    # 4wh from 08:00 is due at 12:00, not 14:00 (the earliest instant).
    eight = to_ns(datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    assert _dt(vclock.add_working_minutes(np.array([eight]), 240)[0]) == datetime(
        2026, 3, 2, 4, 0, tzinfo=UTC
    )
    w = vclock.working_minutes_between(
        np.array([start, NAT, start]), np.array([due[0], start, start - NS_PER_MIN])
    )
    assert w[0] == 240.0 and np.isnan(w[1]) and w[2] == 0.0


def test_out_of_span_is_refused(vclock: VectorClock) -> None:
    with pytest.raises(ValueError, match="超出"):
        vclock.working_minutes_between(np.array([to_ns(datetime(2030, 1, 1, tzinfo=UTC))]), np.array([0]))
