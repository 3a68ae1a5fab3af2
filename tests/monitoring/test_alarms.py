"""Rules → cases (SPEC §10): hourly packets through ``service.store_packet`` open one case per episode, later
exceedances and the recovery are notes on it, closing it ends the episode; silence and fault flags open an
equipment case; the case API names the station; the rule table is admin-editable."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.builders import auth, grid_point, make_case, principal
from typer.testing import CliRunner

from civicgrid.cases.transition import transition
from civicgrid.models import Case, CaseEvent, Station, StationEpisode, StationRule
from civicgrid.monitoring import alarms, service, stations
from civicgrid.monitoring.hj212 import Packet, build, parse_frame

pytestmark = pytest.mark.db

PW = "112233"
PM25_250 = "a34004-Avg=200,a34004-Flag=N;a34002-Avg=150,a34002-Flag=N"  # hourly AQI 250 (PM2.5)
CLEAN = "a34004-Avg=30,a34004-Flag=N;a34002-Avg=40,a34002-Flag=N"  # hourly AQI 43


def packet(mn: str, hour: int, cp: str, *, st: str = "22", day: int = 30) -> Packet:
    frame = build(
        {"QN": f"202611{day:02d}{hour:02d}5900001", "ST": st, "CN": "2061", "PW": PW, "MN": mn, "Flag": 4},
        f"DataTime=202611{day:02d}{hour:02d}0000;{cp}",
    )
    return parse_frame(frame)


@pytest.fixture
def store(session: Session, monkeypatch: pytest.MonkeyPatch) -> Callable[[Packet], int]:
    """``service.store_packet`` with its unit of work inside the test's (rolled-back) transaction."""

    @contextmanager
    def in_test(*_a: Any, **_k: Any) -> Iterator[Session]:
        yield session
        session.flush()

    monkeypatch.setattr(service, "unit_of_work", in_test)
    return service.store_packet


def add_station(session: Session, mn: str, kind: str = "air", index: int = 7, **kw: Any) -> Station:
    p = grid_point(session, index)
    return stations.add(session, stations.StationIn(mn, kind, f"测试{mn}站", p.lng, p.lat, PW, **kw))


def sensor_cases(session: Session, station: Station) -> list[Case]:
    ids = select(StationEpisode.case_id).where(StationEpisode.station_id == station.id)
    return list(session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id)))


def notes(session: Session, case: Case) -> list[str]:
    return list(
        session.scalars(
            select(CaseEvent.note)
            .where(CaseEvent.case_id == case.id, CaseEvent.action == alarms.NOTE_ACTION)
            .order_by(CaseEvent.id)
        )
    )


def episode(session: Session, station: Station, rule: str) -> StationEpisode | None:
    return alarms.current(session, station.id, rule)


def test_an_exceedance_episode_opens_one_case_then_notes_recovers_and_ends(
    session: Session, store: Callable[[Packet], int]
) -> None:
    st = add_station(session, "ALARMAIR01")
    assert store(packet(st.mn, 10, PM25_250)) != 0
    assert sensor_cases(session, st) == []  # one hour over is not yet an episode (2 consecutive)
    store(packet(st.mn, 11, PM25_250))
    [case] = sensor_cases(session, st)
    assert (case.source, case.category_code, case.grid_code) == ("sensor", "E0601", st.grid_code)
    assert (case.lng, case.lat) == (st.lng, st.lat)
    assert case.urgent is True  # the AQI rule is urgent although E0601 is not
    assert case.state == "dispatched"  # trusted source: registered and dispatched like any trusted report
    assert "ALARMAIR01" in case.description and "AQI 250" in case.description
    assert "测试ALARMAIR01站" in case.description and "air-aqi" in case.description
    [chart] = case_attachments(session, case)
    assert chart.content_type == "image/png" and chart.step == "report" and chart.width == 720
    # The packet sent again changes nothing (whatever the driver's row count says: the episode has judged
    # that hour already).
    store(packet(st.mn, 11, PM25_250))
    assert [c.id for c in sensor_cases(session, st)] == [case.id] and notes(session, case) == []
    # A third exceedance is a note on the same case, not a new case.
    store(packet(st.mn, 12, PM25_250))
    assert [c.id for c in sensor_cases(session, st)] == [case.id]
    [more] = notes(session, case)
    assert "持续超标" in more and "AQI 250" in more
    # Two normal hours: recovery noted once.
    store(packet(st.mn, 13, CLEAN))
    assert len(notes(session, case)) == 1
    store(packet(st.mn, 14, CLEAN))
    store(packet(st.mn, 15, CLEAN))
    recovered = notes(session, case)[1:]
    assert len(recovered) == 1 and "已恢复" in recovered[0]
    ep = episode(session, st, "air-aqi")
    assert ep is not None and ep.open and ep.recovered and ep.case_id == case.id
    # Closing the case ends the episode; the next exceedance must run 2 hours again and opens a new case.
    transition(session, case, "close", principal(session, "shiftlead"), {"special": True, "note": "已整改"})
    assert episode(session, st, "air-aqi") is None
    store(packet(st.mn, 16, PM25_250))
    assert len(sensor_cases(session, st)) == 1
    store(packet(st.mn, 17, PM25_250))
    first, second = sensor_cases(session, st)
    assert first.id == case.id and second.id != case.id and second.state == "dispatched"


def case_attachments(session: Session, case: Case) -> list[Any]:
    from civicgrid.models import Attachment

    return list(session.scalars(select(Attachment).where(Attachment.case_id == case.id)))


def test_the_chart_is_a_png_of_the_last_day(session: Session) -> None:
    st = add_station(session, "ALARMAIR02")
    rule = alarms.rule_of(session.get(StationRule, "air-aqi"))  # type: ignore[arg-type]
    at = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    png = alarms.chart_of(session, st, rule, at)
    assert png is not None
    img = Image.open(io.BytesIO(png))
    assert (img.format, img.size) == ("PNG", (720, 360))


def test_a_gap_breaks_the_run_and_late_packets_are_ignored(
    session: Session, store: Callable[[Packet], int]
) -> None:
    st = add_station(session, "ALARMAIR03")
    store(packet(st.mn, 10, PM25_250))
    store(packet(st.mn, 12, PM25_250))  # 11:00 missing: not two consecutive hours
    assert sensor_cases(session, st) == []
    store(packet(st.mn, 11, PM25_250))  # late: the episode has judged 12:00 already
    assert sensor_cases(session, st) == []
    store(packet(st.mn, 13, PM25_250))
    assert len(sensor_cases(session, st)) == 1


def test_only_normal_values_count_and_fault_flags_open_an_equipment_case(
    session: Session, store: Callable[[Packet], int]
) -> None:
    st = add_station(session, "ALARMAIR04")
    faulty = "a34004-Avg=200,a34004-Flag=D;a34002-Avg=40,a34002-Flag=N"
    store(packet(st.mn, 10, faulty))
    [case] = sensor_cases(session, st)  # the fault rule: one hour
    assert case.category_code == "E0607" and "D" in case.description and "PM2.5=D" in case.description
    assert case_attachments(session, case) == []  # flags have no values to chart
    store(packet(st.mn, 11, faulty))
    assert [c.category_code for c in sensor_cases(session, st)] == ["E0607"]  # no AQI case from a D value
    assert "持续异常" in notes(session, case)[0]
    store(packet(st.mn, 12, CLEAN))
    assert "已恢复" in notes(session, case)[-1]


def test_water_class_worse_than_the_target_twice(session: Session, store: Callable[[Packet], int]) -> None:
    st = add_station(session, "ALARMWAT01", "water", target_class="III")
    bad = "w21003-Avg=1.8,w21003-Flag=N;w01009-Avg=6.5,w01009-Flag=N"  # NH3-N: class V
    good = "w21003-Avg=0.4,w21003-Flag=N;w01009-Avg=6.5,w01009-Flag=N"  # class II
    store(packet(st.mn, 8, bad, st="21"))
    store(packet(st.mn, 9, good, st="21"))
    store(packet(st.mn, 10, bad, st="21"))
    assert sensor_cases(session, st) == []
    store(packet(st.mn, 11, bad, st="21"))
    [case] = sensor_cases(session, st)
    assert case.category_code == "E0606" and case.urgent is False
    assert "水质 V 类（目标 III 类，定类指标 NH3-N）" in case.description


def test_a_pollution_source_over_its_permit(session: Session, store: Callable[[Packet], int]) -> None:
    st = add_station(session, "ALARMSRC01", "source")
    st.permit_limits = {"w01018": 100}
    store(packet(st.mn, 9, "w01018-Avg=80,w01018-Flag=N", st="32"))
    assert sensor_cases(session, st) == []
    store(packet(st.mn, 10, "w01018-Avg=150,w01018-Flag=N", st="32"))
    [case] = sensor_cases(session, st)
    assert case.category_code == "E0608" and case.urgent is True
    assert "COD 150（许可限值 100）" in case.description


def test_silence_opens_one_equipment_case_and_notes_the_recovery(session: Session) -> None:
    st = add_station(session, "ALARMSIL01")
    never = add_station(session, "ALARMSIL02", index=8)  # never spoke: not commissioned, left alone
    now = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    st.last_seen_at = now - timedelta(seconds=150)  # 2.5 intervals of 60 s
    session.flush()
    alarms.check_silence(session, now=now)
    assert sensor_cases(session, st) == []
    st.last_seen_at = now - timedelta(seconds=200)
    session.flush()
    sweep = alarms.check_silence(session, now=now)
    [case] = sensor_cases(session, st)
    assert sweep.actions["open"] >= 1 and case.category_code == "E0607"
    assert "无数据" in case.description and st.mn in case.description
    for minute in (1, 2, 3):  # still silent: no new case, no note every minute
        alarms.check_silence(session, now=now + timedelta(minutes=minute))
    assert len(sensor_cases(session, st)) == 1 and notes(session, case) == []
    st.last_seen_at = now + timedelta(minutes=4)  # it speaks again
    session.flush()
    alarms.check_silence(session, now=now + timedelta(minutes=4, seconds=5))
    [back] = notes(session, case)
    assert "已恢复" in back
    assert sensor_cases(session, never) == []


def test_the_case_api_shows_the_station(
    client: TestClient, session: Session, store: Callable[[Packet], int]
) -> None:
    st = add_station(session, "ALARMAIR05")
    store(packet(st.mn, 10, PM25_250))
    store(packet(st.mn, 11, PM25_250))
    [case] = sensor_cases(session, st)
    other = make_case(session, category="E0601", point=grid_point(session, 30))
    session.flush()
    body = client.get(f"/api/v1/cases/{case.id}", headers=auth(session, "shiftlead")).json()
    assert body["station"] == {"mn": "ALARMAIR05", "name": "测试ALARMAIR05站"}
    assert body["source"] == "sensor" and body["category_code"] == "E0601"
    assert (
        client.get(f"/api/v1/cases/{other.id}", headers=auth(session, "shiftlead")).json()["station"] is None
    )


def test_rules_api_lists_and_admin_patches_with_validation(client: TestClient, session: Session) -> None:
    admin = auth(session, "admin")
    got = client.get("/api/v1/stations/rules", headers=auth(session, "operator"))
    assert got.status_code == 200  # not taken for a station whose MN is "rules"
    rows = {r["code"]: r for r in got.json()}
    assert set(rows) == {"air-aqi", "dust-pm10", "water-class", "source-permit", "silence", "fault"}
    assert (rows["air-aqi"]["threshold"], rows["air-aqi"]["consecutive"]) == (200.0, 2)
    assert rows["water-class"]["category_code"] == "E0606" and rows["water-class"]["threshold"] is None

    def patch(code: str, body: object, headers: dict[str, str] = admin) -> Any:
        return client.patch(f"/api/v1/stations/rules/{code}", json=body, headers=headers)

    assert patch("air-aqi", {"consecutive": 3}, auth(session, "operator")).status_code == 403
    assert patch("nope", {"consecutive": 3}).status_code == 404
    for code, bad in [
        ("air-aqi", {"consecutive": 0}),
        ("air-aqi", {"consecutive": 2.5}),
        ("air-aqi", {"threshold": 600}),
        ("air-aqi", {"threshold": -1}),
        ("air-aqi", {"threshold": None}),
        ("water-class", {"threshold": 3}),
        ("air-aqi", {"enabled": "yes"}),
        ("air-aqi", {"color": "red"}),
    ]:
        r = patch(code, bad)
        assert r.status_code == 422, (code, bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert session.get(StationRule, "air-aqi").consecutive == 2  # type: ignore[union-attr]
    ok = patch("air-aqi", {"threshold": 150, "consecutive": 1})
    assert ok.status_code == 200 and (ok.json()["threshold"], ok.json()["consecutive"]) == (150.0, 1)
    assert patch("fault", {"enabled": False}).json()["enabled"] is False


def test_edited_rules_take_effect(session: Session, store: Callable[[Packet], int]) -> None:
    from civicgrid.monitoring import rule_admin

    rule_admin.update(session, "air-aqi", threshold=150.0, consecutive=1)
    rule_admin.update(session, "fault", enabled=False)
    st = add_station(session, "ALARMAIR06")
    store(packet(st.mn, 10, "a34004-Avg=130,a34004-Flag=N;a21026-Avg=5,a21026-Flag=D"))  # AQI 170
    [case] = sensor_cases(session, st)
    assert case.category_code == "E0601"  # one hour is enough now, and the fault rule is off


def test_cli_lists_the_rules(db: object) -> None:
    from civicgrid.cli import app

    result = CliRunner().invoke(app, ["station", "rules", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["code"]: r for r in json.loads(result.output)}
    assert rows["dust-pm10"]["measure_name"] == "PM10" and rows["dust-pm10"]["threshold"] == 150.0
    text = CliRunner().invoke(app, ["station", "rules"])
    assert text.exit_code == 0 and "silence" in text.output and "E0607" in text.output


def test_a_failing_rule_never_loses_the_readings(
    session: Session, store: Callable[[Packet], int], monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    from civicgrid.models import Reading

    st = add_station(session, "ALARMAIR07")

    def broken(*_a: Any, **_k: Any) -> None:
        session.add(StationEpisode(station_id=st.id, rule_code="air-aqi", over_run=1, normal_run=0))
        session.flush()
        raise RuntimeError("boom")

    monkeypatch.setattr(alarms, "evaluate", broken)
    store(packet(st.mn, 10, PM25_250))
    assert "monitoring rules failed for station ALARMAIR07" in caplog.text
    assert session.scalar(select(func.count()).where(Reading.station_id == st.id)) == 2
    assert episode(session, st, "air-aqi") is None  # the rule's half-done work was rolled back alone


def test_two_stations_at_one_site_share_the_case_and_its_end(
    session: Session, store: Callable[[Packet], int]
) -> None:
    a = add_station(session, "ALARMSITEA", index=12)
    b = add_station(session, "ALARMSITEB", index=12)  # same grid centre: rapid response merges the second
    for hour in (10, 11):
        store(packet(a.mn, hour, PM25_250))
        store(packet(b.mn, hour, PM25_250))
    ea, eb = episode(session, a, "air-aqi"), episode(session, b, "air-aqi")
    assert ea is not None and eb is not None and ea.case_id == eb.case_id  # b follows a's case (the master)
    master = session.get(Case, ea.case_id)
    assert master is not None and master.report_count == 2
    store(packet(b.mn, 12, PM25_250))
    assert "ALARMSITEB" in notes(session, master)[-1]  # b's later exceedance is noted on the master
    transition(session, master, "close", principal(session, "shiftlead"), {"special": True, "note": "已整改"})
    assert episode(session, a, "air-aqi") is None and episode(session, b, "air-aqi") is None
