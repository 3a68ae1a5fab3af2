"""Editing a station (issue 14 §1): ``stations.update``, ``PATCH /api/v1/stations/{mn}`` (admin, Chinese 422s,
nothing changed on bad input) and ``civicgrid station edit`` (through the real entry point)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session
from tests.builders import auth, grid_point

from civicgrid.db import unit_of_work
from civicgrid.errors import InvalidInput, NotFound, OutsideDistrict
from civicgrid.models import Station
from civicgrid.monitoring import stations

pytestmark = pytest.mark.db
BIN = Path(sys.executable).parent / "civicgrid"


def _water(session: Session, mn: str = "EDW001") -> Station:
    p = grid_point(session, 2)
    return stations.add(session, stations.StationIn(mn, "water", "编辑断面", p.lng, p.lat, "111111", "III"))


def test_update_changes_what_is_given_and_relocates_the_grid(session: Session) -> None:
    st = _water(session)
    q = grid_point(session, 9)
    assert q.grid_code != st.grid_code
    stations.update(
        session,
        "EDW001",
        {
            "name": " 胥江断面 ",
            "lng": q.lng,
            "lat": q.lat,
            "password": "222222",
            "target_class": "II",
            "lake": True,
        },
    )
    assert (st.name, st.grid_code, st.password, st.target_class, st.lake) == (
        "胥江断面",
        q.grid_code,
        "222222",
        "II",
        True,
    )
    assert st.interval_s == 60 and st.active is True  # left out: unchanged
    stations.update(session, "EDW001", {"interval_s": 300, "active": False, "permit_limits": {"w01018": 50}})
    assert (st.interval_s, st.active, st.permit_limits) == (300, False, {"w01018": 50.0})
    assert stations.present(st)["permit_limits"] == {"w01018": 50.0}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lng": 120.6}, "同时给出经度和纬度"),
        ({"mn": "X"}, "不能修改的字段：mn"),
        ({"kind": "air"}, "不能修改的字段：kind"),
        ({"name": ""}, "站点名称不能为空"),
        ({"password": "bad pw!"}, "访问密码 PW"),
        ({"target_class": "VI"}, "目标水质类别"),
        ({"interval_s": 5}, "实时数据间隔"),
        ({"permit_limits": {"w01018": -1}}, "许可限值应为正数"),
        ({"permit_limits": {"not a code": 1}}, "污染物编码不正确"),
        ({"interval_s": "abc"}, "应为数字"),
    ],
)
def test_bad_changes_are_refused_in_chinese_and_change_nothing(
    session: Session, changes: dict[str, object], message: str
) -> None:
    st = _water(session)
    with pytest.raises(InvalidInput, match=message):
        stations.update(session, "EDW001", {"name": "改了", **changes} if "name" not in changes else changes)
    assert (st.name, st.interval_s, st.password, st.target_class) == ("编辑断面", 60, "111111", "III")


def test_outside_the_district_and_unknown_stations(session: Session) -> None:
    st = _water(session)
    with pytest.raises(OutsideDistrict):
        stations.update(session, "EDW001", {"name": "远处", "lng": 116.4, "lat": 39.9})
    assert st.name == "编辑断面" and st.lng != 116.4
    with pytest.raises(NotFound):
        stations.update(session, "NOPE", {"name": "x"})


def test_patch_api_is_for_admins_and_answers_422_in_chinese(client: TestClient, session: Session) -> None:
    _water(session)
    q = grid_point(session, 9)
    admin = auth(session, "admin")
    got = client.patch(
        "/api/v1/stations/EDW001",
        json={"name": "新断面", "lng": q.lng, "lat": q.lat, "target_class": "IV"},
        headers=admin,
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["name"], body["grid_code"], body["target_class"]) == ("新断面", q.grid_code, "IV")
    assert "password" not in body
    bad = client.patch("/api/v1/stations/EDW001", json={"name": "又改", "interval_s": 1}, headers=admin)
    assert bad.status_code == 422 and "实时数据间隔" in bad.json()["detail"]
    assert stations.get(session, "EDW001").name == "新断面"  # nothing of the refused change
    unknown_field = client.patch("/api/v1/stations/EDW001", json={"mn": "X"}, headers=admin)
    assert unknown_field.status_code == 422
    assert client.patch("/api/v1/stations/NOPE", json={"name": "x"}, headers=admin).status_code == 404
    operator = auth(session, "operator")
    assert client.patch("/api/v1/stations/EDW001", json={"name": "x"}, headers=operator).status_code == 403


@pytest.fixture
def committed_station(db: object) -> Iterator[str]:
    with unit_of_work() as s:
        _water(s, "EDCLI01")
    try:
        yield "EDCLI01"
    finally:
        with unit_of_work() as s:
            s.execute(delete(Station).where(Station.mn == "EDCLI01"))


def test_cli_station_edit(committed_station: str) -> None:
    r = subprocess.run(
        [
            str(BIN),
            "station",
            "edit",
            committed_station,
            "--name",
            "命令行断面",
            "--lake",
            "--target-class",
            "II",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "已修改站点 EDCLI01（命令行断面）" in r.stdout
    with unit_of_work(write=False) as s:
        st = stations.get(s, committed_station)
        assert (st.name, st.lake, st.target_class) == ("命令行断面", True, "II")
    bad = subprocess.run(
        [str(BIN), "station", "edit", committed_station, "--lng", "120.6"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "同时给出经度和纬度" in bad.stdout + bad.stderr
    nothing = subprocess.run(
        [str(BIN), "station", "edit", committed_station], capture_output=True, text=True, timeout=120
    )
    assert nothing.returncode == 2 and "没有要修改的内容" in nothing.stdout + nothing.stderr
