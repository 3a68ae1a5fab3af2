"""A live server (uvicorn in a subprocess on a free port) over a temporary SQLite demo database with 50 cases,
read by the independent ``georeport`` client in XML and JSON, and written to over plain HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from georeport import GeoReport
from o311_helpers import check_schema, parse_xml

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base url of /open311/v2, an API key)."""
    folder = tmp_path_factory.mktemp("open311-live")
    env = os.environ | {
        "CIVICGRID_DATABASE_URL": f"sqlite:///{folder / 'live.db'}",
        "CIVICGRID_DATA_DIR": str(folder / "data"),
        "CIVICGRID_ENV": "test",
    }
    env.pop("CIVICGRID_OPEN311_JURISDICTIONS", None)
    run = {"env": env, "check": True, "capture_output": True, "text": True, "timeout": 600}
    subprocess.run([BIN / "civicgrid", "init", "--demo", "--cases", "50"], **run)  # type: ignore[call-overload]
    out = subprocess.run([BIN / "civicgrid", "apikey", "create", "现场测试"], **run)  # type: ignore[call-overload]
    key = out.stdout.strip().splitlines()[-1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            BIN / "python",
            "-m",
            "uvicorn",
            "civicgrid.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(root + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("live server did not start")
        yield root + "/open311/v2", key
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_everything(live: tuple[str, str], fmt: str) -> None:
    base, _ = live
    client = GeoReport(base, output_format=fmt)
    services = client.get_service_list()
    assert len(services) == 78
    c0101 = next(s for s in services if s["service_code"] == "C0101")
    assert (c0101["service_name"], c0101["group"], str(c0101["metadata"]).lower()) == (
        "上水井盖",
        "公用设施",
        "true",
    )
    definition = client.get_service_definition("E0505")
    attrs = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    blocking = next(a for a in attrs if a["code"] == "BLOCKING")
    values = blocking["values"] if fmt == "json" else blocking["values"]["value"]
    assert blocking["datatype"] == "multivaluelist" and [v["key"] for v in values][:2] == [
        "sidewalk",
        "fire_lane",
    ]
    requests = client.get_service_requests(status="closed")
    assert len(requests) >= 5 and all(r["status"] == "closed" for r in requests)
    one = requests[0]
    got = client.get_service_request(one["service_request_id"])
    assert got["service_request_id"] == one["service_request_id"] and got["requested_datetime"].endswith(
        "+08:00"
    )
    code = one["service_code"]
    filtered = client.get_service_requests(service_code=code)
    if isinstance(filtered, dict):  # xmltodict gives a lone <request> as a dict, not a list of one
        filtered = [filtered]
    assert filtered and {r["service_code"] for r in filtered} == {code}


def test_json_validates_against_spec_schemas(live: tuple[str, str]) -> None:
    base, _ = live
    check_schema("discovery", httpx.get(base + "/discovery.json").json())
    check_schema("services", httpx.get(base + "/services.json").json())
    check_schema("service_definition", httpx.get(base + "/services/C0101.json").json())
    reqs = httpx.get(base + "/requests.json", params={"extensions": "true"}).json()
    assert len(reqs) >= 5
    check_schema("requests", reqs)
    check_schema("updates", httpx.get(base + "/servicerequestupdates.json").json())
    check_schema("errors", httpx.get(base + "/services/NOPE.json").json())


def test_xml_parses_back_like_json(live: tuple[str, str]) -> None:
    base, _ = live
    as_json = httpx.get(base + "/requests.json").json()
    root = parse_xml(httpx.get(base + "/requests.xml").content)
    assert root.tag == "service_requests"
    rows = root.findall("request")
    assert [r.findtext("service_request_id") for r in rows] == [x["service_request_id"] for x in as_json]
    assert [r.findtext("status_notes") for r in rows] == [x["status_notes"] for x in as_json]
    assert [float(r.findtext("lat") or 0) for r in rows] == [x["lat"] for x in as_json]


def test_post_over_the_wire(live: tuple[str, str]) -> None:
    base, key = live
    grid = httpx.get(base + "/requests.json").json()[0]["address_id"]
    # The first report of a process builds the grid index (several seconds); allow for it.
    r = httpx.post(
        base + "/requests.json",
        timeout=60,
        data={
            "api_key": key,
            "service_code": "C0101",
            "address_id": grid,
            "attribute[DAMAGE]": "missing",
            "description": "井盖不见了，很危险",
        },
    )
    assert r.status_code == 200, r.text
    check_schema("post_response", r.json())
    token = r.json()[0]["token"]
    assert httpx.get(f"{base}/tokens/{token}.json").json() == [{"service_request_id": None, "token": token}]
    r = httpx.post(base + "/requests.xml", data={"service_code": "C0101", "address_id": grid})
    assert r.status_code == 403 and parse_xml(r.content).findtext("error/code") == "403"
