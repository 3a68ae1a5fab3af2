"""The demo district's stations (``demo/stations.py``): located to their grids, 30 days of hourly and daily
packets stored through the real codec and the real rules, which open exactly the four demo episodes' cases."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.demo import stations as demo
from civicgrid.geo.plan import DistrictPlan
from civicgrid.geo.service import locate
from civicgrid.models import Case, Reading, Station
from civicgrid.monitoring import hj212, rules
from civicgrid.monitoring.simulate import SimStation

NOW = datetime(2026, 11, 30, 3, 20, tzinfo=UTC)  # 11:20 in Beijing
NOW_LOCAL = NOW.astimezone(demo.LOCAL).replace(tzinfo=None)


def _sim(s: demo.DemoStation) -> SimStation:
    return SimStation(s.mn, s.kind, demo.PW, s.target_class, False, s.permit_limits)


def test_the_demo_stations_are_located_to_grids_of_the_district(session: Session, plan: DistrictPlan) -> None:
    added = demo.add_stations(session, plan)
    assert len(added) == len(demo.STATIONS) == 15
    assert Counter(s.kind for s in added) == {"air": 4, "dust": 4, "water": 4, "source": 2, "noise": 1}
    grids = {g.code for g in plan.grids}
    for s in added:
        assert s.grid_code in grids and s.street_code and s.grid_code.startswith(s.street_code)
        assert locate(session, s.lng, s.lat).grid_code == s.grid_code
        assert s.password == demo.PW and s.active
    assert len({s.grid_code for s in added}) == len(added)  # no two stations on one grid
    water = {s.mn: s.target_class for s in added if s.kind == "water"}
    assert set(water.values()) <= {"III", "IV"} and None not in water.values()
    assert all(s.permit_limits == {"a21026": 35.0, "a21002": 50.0} for s in added if s.kind == "source")


def test_the_history_is_30_days_of_valid_hourly_and_daily_packets() -> None:
    frames = list(demo.history(_sim(demo.STATIONS[0]), NOW_LOCAL))
    packets = [hj212.parse_frame(f) for f in frames]  # every CRC checks
    hourly = [p for p in packets if p.cn == "2061"]
    daily = [p for p in packets if p.cn == "2031"]
    assert len(hourly) == 30 * 24 + 11 and len(daily) == 30  # since midnight 30 days ago, up to 11:00
    first, last = hourly[0].data_time, hourly[-1].data_time
    assert first == datetime(2026, 10, 31, 0, 0) and last == datetime(2026, 11, 30, 10, 0)
    assert daily[-1].data_time == datetime(2026, 11, 29) and daily[0].data_time == datetime(2026, 10, 31)
    assert all(p.pw == demo.PW and p.mn == "32050822000001" and not p.deviations for p in packets)
    # a day's packet is the mean of its hours
    day_hours = [p for p in hourly if p.data_time and p.data_time.date() == datetime(2026, 11, 20).date()]
    day = next(p for p in daily if p.data_time == datetime(2026, 11, 20))
    mean = sum(float(p.values["a34004"]["Avg"]) for p in day_hours) / 24
    assert abs(float(day.values["a34004"]["Avg"]) - mean) < 0.51


def test_only_the_episode_hours_break_the_rules() -> None:
    """Why judging the episode hours only gives the same cases as judging every hour: every other hour is
    normal for every default rule of the station's kind."""
    for spec in demo.STATIONS:
        judged = demo.judged_hours(spec.mn, NOW_LOCAL)
        facts = rules.StationFacts(spec.kind, spec.target_class, False, spec.permit_limits)
        broke = set()
        for frame in demo.history(_sim(spec), NOW_LOCAL):
            p = hj212.parse_frame(frame)
            if p.cn != "2061" or p.data_time is None:
                continue
            values = [rules.WindowValue(c, float(f["Avg"]), f["Flag"]) for c, f in p.values.items()]
            for rule in rules.DEFAULT_RULES:
                hourly = rule.window == "hour" and rules.applies(rule, spec.kind)
                if hourly and rules.verdict(rule, facts, values, p.data_time.date()).exceeded:
                    broke.add(p.data_time)
        assert broke <= judged, spec.mn
        assert bool(broke) == bool(judged), spec.mn  # an episode station does break a rule


@pytest.mark.slow  # ~5 s on a quiet machine, but half a minute while the suite runs beside it
def test_the_backfill_stores_30_days_and_opens_the_demo_cases(session: Session, plan: DistrictPlan) -> None:
    before = session.scalar(select(func.count(Case.id)).where(Case.source == "sensor")) or 0
    summary = demo.build(session, plan, now=NOW)
    assert summary.stations == 15
    rows = session.execute(
        select(Station.mn, Reading.window, func.count(func.distinct(Reading.at)), func.count(Reading.id))
        .join(Reading, Reading.station_id == Station.id)
        .where(Station.mn.in_([s.mn for s in demo.STATIONS]))
        .group_by(Station.mn, Reading.window)
    ).all()
    windows = {(mn, w): n for mn, w, n, _rows in rows}
    for s in demo.STATIONS:
        assert windows[(s.mn, "hour")] == 731 and windows[(s.mn, "day")] == 30, s.mn
    assert summary.readings == sum(r[3] for r in rows)
    latest = session.scalar(select(func.max(Reading.at)).where(Reading.window == "hour"))
    assert latest is not None and latest.astimezone(UTC) == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    cases = session.execute(
        select(Case.category_code, Case.state, Case.urgent, Case.description)
        .where(Case.source == "sensor")
        .order_by(Case.id)
    ).all()
    assert len(cases) - before == 4
    new = cases[before:]
    assert {c.category_code for c in new} == {"E0601", "E0302", "E0606", "E0608"}
    assert all(c.state == "dispatched" for c in new)  # trusted like any sensor report: routed at once
    haze = next(c for c in new if c.category_code == "E0601")
    assert "南门空气自动监测站" in haze.description and haze.urgent
    # The daily values the monthly rankings read are there for every air station: 30 days each.
    from civicgrid.monitoring.ranking import monthly

    ranked = {r.key: r.days for r in monthly(session, "2026-11", "air", "station")}
    air = [s.mn for s in demo.STATIONS if s.kind == "air"]
    assert air and all(ranked[mn] == 29 for mn in air), ranked
