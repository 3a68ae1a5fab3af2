"""Monthly rankings on a small fixed dataset with hand-computed figures; the xlsx, the API and the CLI."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import auth, grid_point

from civicgrid.errors import InvalidInput
from civicgrid.models import Station
from civicgrid.models.monitoring import StationAggregate
from civicgrid.monitoring import ranking, stations
from civicgrid.monitoring.means import O3_8H, day_start, month_days

pytestmark = pytest.mark.db

MONTH = "2026-11"
AIR = ("a34004", "a34002", "a21026", "a21004", "a21005", O3_8H)  # PM2.5 PM10 SO2 NO2 CO O3_8h
# Per day: PM2.5, PM10, SO2, NO2, CO, O3_8h
A_DAYS = [(30, 60, 10, 20, 0.8, 100), (90, 150, 14, 40, 1.2, 120), (60, 90, 12, 30, 1.0, 140)]
B_DAYS = [(20, 40, 6, 20, 0.4, 80)] * 3


def station(session: Session, mn: str, kind: str, street: str, **kw: object) -> Station:
    p = grid_point(session, 0, street_suffix=street)
    return stations.add(session, stations.StationIn(mn, kind, f"测试{mn}", p.lng, p.lat, **kw))  # type: ignore[arg-type]


def days(session: Session, st: Station, codes: tuple[str, ...], rows: Sequence[tuple[float, ...]]) -> None:
    for i, values in enumerate(rows):
        at = day_start(month_days(MONTH)[i])
        for code, value in zip(codes, values, strict=True):
            session.add(
                StationAggregate(
                    station_id=st.id, window="day", code=code, at=at, mean=value, valid=24, flag="N",
                    flags={"N": 24}, source="hour",
                )
            )  # fmt: skip
    session.flush()


@pytest.fixture
def air(session: Session) -> tuple[Station, Station, Station]:
    a = station(session, "RANK-A", "air", "001")
    b = station(session, "RANK-B", "air", "001")
    c = station(session, "RANK-C", "air", "002")  # no data this month
    days(session, a, AIR, A_DAYS)
    days(session, b, AIR, B_DAYS)
    # A day of the month before and after never counts.
    before = StationAggregate(
        station_id=b.id, window="day", code="a34004", at=day_start(month_days(MONTH)[0]) - timedelta(days=1),
        mean=900.0, valid=24, flag="N", flags={}, source="hour",
    )  # fmt: skip
    session.add(before)
    session.flush()
    return a, b, c


def mine(rows: list[ranking.RankRow], keys: set[str]) -> dict[str, ranking.RankRow]:
    return {r.key: r for r in rows if r.key in keys}


def test_air_stations_ranked_by_the_composite_index(session: Session, air: tuple[Station, ...]) -> None:
    rows = mine(ranking.monthly(session, MONTH, "air", "station"), {"RANK-A", "RANK-B", "RANK-C"})
    a, b, c = rows["RANK-A"], rows["RANK-B"], rows["RANK-C"]
    # A: AQI 58 (PM10), 128 (PM2.5 90), 100 (PM2.5 60 on the boundary) → 2 of 3 good = 66.7 %.
    # CO P95 of 0.8/1.0/1.2 = 1.18, O3 P90 of 100/120/140 = 136;
    # index 12/60 + 30/40 + 100/70 + 60/35 + 1.18/4 + 136/160 = 5.2379 → 5.24
    assert a.values == {
        "pm25": 60.0, "pm10": 100.0, "good_ratio": 66.7, "index": 5.24,
        "so2": 12.0, "no2": 30.0, "co": 1.18, "o3_8h": 136.0,
    }  # fmt: skip
    assert a.days == 3 and a.name == "测试RANK-A"
    # B: 6/60 + 20/40 + 40/70 + 20/35 + 0.4/4 + 80/160 = 2.3429 → 2.34, every day good
    assert (b.values["index"], b.values["good_ratio"], b.values["pm25"]) == (2.34, 100.0, 20.0)
    assert b.rank < a.rank
    assert (c.rank, c.days, c.values["index"], c.values["pm25"]) == (0, 0, None, None)
    ordered = [r.key for r in ranking.monthly(session, MONTH, "air", "station")]
    assert ordered.index("RANK-B") < ordered.index("RANK-A") < ordered.index("RANK-C")


def test_a_streets_day_is_the_mean_of_its_stations(session: Session, air: tuple[Station, ...]) -> None:
    a, _, c = air
    rows = {r.key: r for r in ranking.monthly(session, MONTH, "air", "street")}
    s1 = rows[a.street_code]
    # Daily means of A and B: PM2.5 25/55/40, PM10 50/95/65 → AQI 50, 90, 61: all good.
    # SO2 9, NO2 25, PM10 70, PM2.5 40, CO P95 of 0.6/0.7/0.8 = 0.79, O3 P90 of 90/100/110 = 108
    # index 0.15 + 0.625 + 1 + 1.142857 + 0.1975 + 0.675 = 3.790357 → 3.79
    assert s1.values["index"] == 3.79
    assert (s1.values["pm25"], s1.values["pm10"], s1.values["good_ratio"], s1.days) == (40.0, 70.0, 100.0, 3)
    assert s1.name and s1.name != a.street_code  # the street's name from the areas
    assert (rows[c.street_code].rank, rows[c.street_code].days) == (0, 0)  # street 002: no data


def test_water_sections_ranked_by_the_pass_ratio(session: Session) -> None:
    w1 = station(session, "RANK-W1", "water", "001", target_class="III")
    w2 = station(session, "RANK-W2", "water", "001", target_class="II")
    # NH3-N, DO per day → classes II, III, IV, III against target III: 3 of 4 pass, worst IV
    days(session, w1, ("w21003", "w01009"), [(0.4, 7.0), (0.9, 7.0), (1.2, 7.0), (1.0, 6.0)])
    days(session, w2, ("w21003", "w01009"), [(0.3, 6.5), (0.5, 6.0)])  # II, II against II
    rows = mine(ranking.monthly(session, MONTH, "water", "station"), {"RANK-W1", "RANK-W2"})
    assert rows["RANK-W1"].values == {"pass_ratio": 75.0, "worst_class": 4.0}
    assert rows["RANK-W1"].days == 4
    assert rows["RANK-W2"].values == {"pass_ratio": 100.0, "worst_class": 2.0}
    assert rows["RANK-W2"].rank < rows["RANK-W1"].rank
    assert ranking.water_class_name(4.0) == "IV"
    street = {r.key: r for r in ranking.monthly(session, MONTH, "water", "street")}[w1.street_code]
    assert (street.values["pass_ratio"], street.values["worst_class"], street.days) == (83.3, 4.0, 6)  # 5 / 6


def test_equal_figures_share_a_rank() -> None:
    rows = [
        ranking.RankRow(0, k, k, {"pass_ratio": v}, 1)
        for k, v in (("a", 90.0), ("b", 100.0), ("c", 90.0), ("d", None), ("e", 50.0))
    ]
    got = [(r.key, r.rank) for r in ranking.ranked(rows, "pass_ratio", descending=True)]
    assert got == [("b", 1), ("a", 2), ("c", 2), ("e", 4), ("d", 0)]


def test_bad_input_is_refused(session: Session) -> None:
    for month, kind, by in (("2026-13", "air", "station"), ("202611", "air", "station"),
                            (MONTH, "noise", "station"), (MONTH, "air", "grid")):  # fmt: skip
        with pytest.raises(InvalidInput):
            ranking.monthly(session, month, kind, by)  # type: ignore[arg-type]


def test_xlsx_has_chinese_headers_and_the_rows(session: Session, air: tuple[Station, ...]) -> None:
    rows = ranking.monthly(session, MONTH, "air", "station")
    wb = load_workbook(io.BytesIO(ranking.to_xlsx(rows, "air")))
    ws = wb.active
    assert ws is not None
    table = list(ws.iter_rows(values_only=True))
    assert table[0][:3] == ("排名", "编码", "名称") and "综合指数" in table[0] and table[0][-1] == "有效天数"
    by_key = {r[1]: r for r in table[1:]}
    assert len(table) == len(rows) + 1
    col = table[0].index("综合指数")
    assert by_key["RANK-A"][col] == 5.24 and by_key["RANK-B"][col] == 2.34
    assert by_key["RANK-C"][0] == "不参与排名"
    one = [ranking.RankRow(1, "W", "断面", {"pass_ratio": 75.0, "worst_class": 4.0}, 4)]
    water = load_workbook(io.BytesIO(ranking.to_xlsx(one, "water")))
    assert list(water.active.iter_rows(values_only=True))[1] == (1, "W", "断面", 75.0, "IV", 4)


def test_the_api_answers_json_and_xlsx_and_422_for_a_bad_month(
    client: TestClient, session: Session, air: tuple[Station, ...]
) -> None:
    headers = auth(session, "operator")
    r = client.get(f"/api/v1/stations/rankings?month={MONTH}&kind=air&by=station", headers=headers)
    assert r.status_code == 200, r.text  # not taken for a station whose MN is "rankings"
    body = r.json()
    got = {row["key"]: row for row in body["rows"]}
    assert got["RANK-A"]["values"]["index"] == 5.24 and got["RANK-B"]["rank"] < got["RANK-A"]["rank"]
    assert body["columns"][0] == {"key": "pm25", "label": "PM2.5（μg/m³）"}
    x = client.get(f"/api/v1/stations/rankings.xlsx?month={MONTH}&kind=air&by=street", headers=headers)
    assert x.status_code == 200
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(x.content)).active.max_row >= 2
    bad = client.get("/api/v1/stations/rankings?month=2026-13", headers=headers)
    assert bad.status_code == 422
    assert "YYYY-MM" in bad.json()["detail"]
    assert (
        client.get("/api/v1/stations/rankings?month=2026-11&kind=noise", headers=headers).status_code == 422
    )
    assert client.get("/api/v1/stations/rankings?month=2026-11").status_code == 401
    assert client.get("/api/v1/stations/RANK-A", headers=headers).json()["mn"] == "RANK-A"


def test_the_cli_prints_a_table_json_and_writes_xlsx(db: object, tmp_path: Path) -> None:
    from sqlalchemy import delete
    from typer.testing import CliRunner

    from civicgrid.cli import app
    from civicgrid.db import unit_of_work

    with unit_of_work() as s:
        w = station(s, "RANK-CLI-W", "water", "001", target_class="III")
        days(s, w, ("w21003",), [(0.4,), (1.2,)])  # II, IV → 50 %
    try:
        out = tmp_path / "rank.xlsx"
        r = CliRunner().invoke(
            app, ["station", "rank", "--month", MONTH, "--kind", "water", "--xlsx", str(out)]
        )
        assert r.exit_code == 0, r.output
        assert "2026年11月地表水断面排名" in r.output and "RANK-CLI-W" in r.output and "50.0" in r.output
        assert out.exists()
        ws = load_workbook(out).active
        assert ws is not None and ws["A1"].value == "排名"
        r = CliRunner().invoke(app, ["station", "rank", "--month", MONTH, "--kind", "water", "--json"])
        assert r.exit_code == 0
        got = {row["key"]: row for row in json.loads(r.output)}
        assert got["RANK-CLI-W"]["values"] == {"pass_ratio": 50.0, "worst_class": 4.0}
        bad = CliRunner().invoke(app, ["station", "rank", "--month", "11/2026"])
        assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    finally:
        with unit_of_work() as s:
            sid = s.scalar(select(Station.id).where(Station.mn == "RANK-CLI-W"))
            s.execute(delete(StationAggregate).where(StationAggregate.station_id == sid))
            s.execute(delete(Station).where(Station.id == sid))
