"""Open311 over HTTP in-process (SQLite and PostgreSQL): posting, the spec's edge cases, errors, the loop."""

from __future__ import annotations

from datetime import timedelta

from o311_helpers import BASE, check_schema, errors_of, parse_xml
from sqlalchemy import func, select

from builders import advance, auth, grid_point, make_case, principal
from civicgrid.cases.repository import CaseFilter, list_cases
from civicgrid.models import ApiClient, Case, CaseEvent, utcnow
from civicgrid.open311.timefmt import w3c


def _post(client, data: dict, fmt: str = "json", files=None):  # type: ignore[no-untyped-def]
    return client.post(f"{BASE}/requests.{fmt}", data=data, files=files)


def _e0505(session, api_key: str, **extra: object) -> dict:  # type: ignore[no-untyped-def]
    p = grid_point(session, 5)
    return {
        "api_key": api_key,
        "service_code": "E0505",
        "lat": str(p.lat),
        "long": str(p.lng),
        "description": "白色轿车停在人行道上",
        "attribute[BLOCKING][]": ["sidewalk", "blind_path"],
        "attribute[PLATE]": "苏E12345",
        "last_name": "王",
        "first_name": "小明",
        "phone": "13800001111",
        **extra,
    }


def test_services_and_definitions(client) -> None:
    r = client.get(f"{BASE}/services.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json; charset=utf-8"
    services = r.json()
    check_schema("services", services)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["C0101"] == {
        "service_code": "C0101",
        "service_name": "上水井盖",
        "description": "井盖破损、缺失、移位或井盖与路面高差超过规定",
        "metadata": True,
        "type": "realtime",
        "keywords": "井盖,上水,自来水井盖,井盖破了,井盖丢了,井盖松动",
        "group": "公用设施",
    }
    assert by_code["C0102"]["metadata"] is False
    d = client.get(f"{BASE}/services/E0505.json").json()
    check_schema("service_definition", d)
    assert [(a["code"], a["datatype"], a["required"]) for a in d["attributes"]] == [
        ("PLATE", "string", False),
        ("BLOCKING", "multivaluelist", True),
        ("VEHICLES", "number", False),
        ("SEEN_AT", "datetime", False),
    ]
    root = parse_xml(client.get(f"{BASE}/services/C0101.xml").content)
    values = root.findall("attributes/attribute/values/value")
    assert (root.tag, values[0].findtext("key"), values[0].findtext("name")) == (
        "service_definition",
        "broken",
        "破损",
    )


def test_unknown_service_code_is_404(client, session, api_key) -> None:
    r = client.get(f"{BASE}/services/Z9999.xml")
    assert r.status_code == 404
    assert errors_of(r.content) == [("404", "未知的服务代码（service_code）：Z9999")]
    r = _post(client, {"api_key": api_key, "service_code": "Z9999", "lat": "31.3", "long": "120.6"})
    assert r.status_code == 404 and r.json() == [
        {"code": 404, "description": "未知的服务代码（service_code）：Z9999"}
    ]


def test_missing_or_bad_api_key_is_403(client, session, api_key) -> None:
    data = _e0505(session, api_key)
    del data["api_key"]
    r = _post(client, data, "xml")
    assert r.status_code == 403 and errors_of(r.content) == [("403", "api_key 缺失，不能提交服务请求")]
    r = _post(client, data | {"api_key": "cg311_wrongwrongwrong"})
    assert r.status_code == 403 and r.json()[0]["description"] == "api_key 无效或已停用，不能提交服务请求"
    assert session.scalar(select(Case).where(Case.source == "open311")) is None


def test_lat_and_long_both_required_and_errors_together(client, session, api_key) -> None:
    p = grid_point(session, 5)
    r = _post(
        client, {"api_key": api_key, "service_code": "C0101", "lat": str(p.lat), "description": "井" * 4001}
    )
    assert r.status_code == 400
    check_schema("errors", r.json())
    assert r.json() == [
        {"code": 400, "description": "缺少必填属性：attribute[DAMAGE]（井盖损坏情况）"},
        {"code": 400, "description": "description 过长：最多 4000 字，收到 4001 字"},
        {"code": 400, "description": "lat 和 long 必须同时提供"},
    ]


def test_post_multivaluelist_queues_with_token_and_records_client(client, session, api_key) -> None:
    r = _post(client, _e0505(session, api_key, account_id="acc-7", media_url="https://example.org/p/1.jpg"))
    assert r.status_code == 200, r.text
    body = r.json()
    check_schema("post_response", body)
    assert set(body[0]) == {"token", "service_notice", "account_id"} and body[0]["account_id"] == "acc-7"
    case = session.scalar(select(Case).where(Case.source == "open311"))
    assert case is not None and case.state == "received"
    api = session.scalar(select(ApiClient).where(ApiClient.id == case.api_client_id))
    assert api is not None and api.name == "测试客户端" and api.last_used_at is not None
    assert case.reporter_name_enc and case.reporter_phone_enc  # encrypted by the intake
    assert "13800001111" not in case.reporter_phone_enc
    from civicgrid.models import CaseEvent

    ev = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "open311_request")
    )
    assert ev is not None
    assert ev.data["attributes"] == {"PLATE": "苏E12345", "BLOCKING": ["sidewalk", "blind_path"]}
    assert (
        ev.data["media_url"] == "https://example.org/p/1.jpg"
        and ev.note == "车牌号：苏E12345；车辆占用了哪里：人行道、盲道"
    )
    # In the operator's queue.
    queue, _ = list_cases(session, principal(session, "operator"), CaseFilter(states=["received"]))
    assert case.id in [c.id for c in queue]


def test_address_id_address_string_and_photo(client, session, api_key) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(buf, format="JPEG")
    grid = grid_point(session, 40).grid_code
    r = client.post(
        f"{BASE}/requests.json",
        data={"api_key": api_key, "service_code": "E0102", "address_id": grid, "description": "垃圾堆在路边"},
        files=[("media", ("a.jpg", buf.getvalue(), "image/jpeg"))],
    )
    assert r.status_code == 200, r.text
    case = session.scalar(select(Case).where(Case.source == "open311"))
    assert case is not None and case.grid_code == grid
    # One confidence threshold for every entry point: a street alone is too coarse to place a case (as on
    # /api/v1/reports); a community with a road is placed.
    r = _post(client, {"api_key": api_key, "service_code": "E0102", "address_string": "平江街道"})
    assert r.status_code == 400 and "平江街道" in r.json()[0]["description"]
    r = _post(
        client, {"api_key": api_key, "service_code": "E0102", "address_string": "姑苏区平江街道桂花社区"}
    )
    assert r.status_code == 200, r.text
    r = _post(client, {"api_key": api_key, "service_code": "E0102", "address_string": "火星基地"})
    assert r.status_code == 400 and r.json()[0]["description"].startswith("无法根据地址定位：火星基地")
    r = _post(client, {"api_key": api_key, "service_code": "E0102", "address_id": "99999999999999"})
    assert r.json() == [
        {"code": 400, "description": "未知的地址编号（address_id，应为单元网格代码）：99999999999999"}
    ]


def test_request_filters(client, session) -> None:
    now = utcnow()
    a = make_case(session, category="E0102", now=now - timedelta(days=3))
    b = make_case(session, category="C0101", point=grid_point(session, 60), now=now - timedelta(days=100))
    c = make_case(session, category="E0102", point=grid_point(session, 90), now=now - timedelta(days=1))
    for case in (a, b, c):
        advance(session, case, [("register", "shiftlead", {})])
    got = client.get(f"{BASE}/requests.json").json()
    check_schema("requests", got)
    assert [x["service_request_id"] for x in got] == [c.number, a.number]  # last 90 days, newest first
    got = client.get(
        f"{BASE}/requests.json",
        params={
            "service_code": "C0101",
            "start_date": w3c(now - timedelta(days=120)),
            "end_date": w3c(now - timedelta(days=31)),
        },
    ).json()
    assert [x["service_request_id"] for x in got] == [b.number]
    # service_request_id overrides every other filter (b is older than 90 days, and of another code).
    got = client.get(
        f"{BASE}/requests.json",
        params={"service_request_id": f"{b.number},{a.number}", "service_code": "E0505", "status": "closed"},
    ).json()
    assert sorted(x["service_request_id"] for x in got) == sorted([a.number, b.number])
    assert client.get(f"{BASE}/requests.json", params={"status": "closed"}).json() == []
    got = client.get(f"{BASE}/requests.json", params={"page_size": "1", "page": "2", "status": ""}).json()
    assert [x["service_request_id"] for x in got] == [a.number]  # empty status = absent
    got = client.get(f"{BASE}/requests.json", params={"updated_after": w3c(now - timedelta(days=2))}).json()
    assert {x["service_request_id"] for x in got} == {a.number, b.number, c.number}  # all registered just now


def test_date_range_over_90_days_and_bad_params(client) -> None:
    r = client.get(
        f"{BASE}/requests.xml",
        params={"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-04-02T00:00:00+08:00"},
    )
    assert r.status_code == 400
    assert errors_of(r.content) == [("400", "start_date 与 end_date 相隔不能超过 90 天")]
    r = client.get(
        f"{BASE}/requests.json", params={"start_date": "昨天", "status": "pending", "page_size": "5000"}
    )
    assert r.status_code == 400 and len(r.json()) == 3
    r = client.get(f"{BASE}/requests.json", params={"start_date": "2026-01-01", "end_date": "2026-03-31"})
    assert r.status_code == 200


def test_jurisdiction_required_when_several(client, jurisdictions) -> None:
    r = client.get(f"{BASE}/services.json")
    assert r.status_code == 400 and "jurisdiction_id" in r.json()[0]["description"]
    assert client.get(f"{BASE}/services.json", params={"jurisdiction_id": "320508"}).status_code == 200
    r = client.get(f"{BASE}/services.json", params={"jurisdiction_id": "110101"})
    assert r.status_code == 404 and r.json() == [
        {"code": 404, "description": "未知的辖区（jurisdiction_id）：110101"}
    ]


def test_open311_renders_core_errors(client) -> None:
    r = client.get(f"{BASE}/nothing-here.xml")
    assert r.status_code == 404 and errors_of(r.content)[0][0] == "404"
    r = client.get(f"{BASE}/requests.yaml")
    assert r.status_code == 404 and errors_of(r.content) == [
        ("404", "不支持的格式：.yaml（可用 .xml 或 .json）")
    ]


def test_admin_edits_attributes(client, session) -> None:
    body = [
        {
            "code": "LEVEL",
            "datatype": "singlevaluelist",
            "order": 1,
            "description": "严重程度",
            "values": [{"key": "1", "name": "一般"}, {"key": "2", "name": "严重"}],
        }
    ]
    r = client.put("/api/v1/categories/C0102/attributes", json=body, headers=auth(session, "operator"))
    assert r.status_code == 403
    r = client.put(
        "/api/v1/categories/C0102/attributes",
        json=[{"code": "X", "datatype": "multivaluelist", "order": 1, "description": "空"}],
        headers=auth(session, "admin"),
    )
    assert r.status_code == 422 and "必须提供选项" in r.json()["detail"]
    r = client.put("/api/v1/categories/C0102/attributes", json=body, headers=auth(session, "admin"))
    assert r.status_code == 200 and r.json()[0]["values"] == body[0]["values"]
    svc = {s["service_code"]: s for s in client.get(f"{BASE}/services.json").json()}
    assert svc["C0102"]["metadata"] is True


def test_request_travels_the_loop(client, session, api_key) -> None:
    r = _post(client, _e0505(session, api_key), "xml")
    token = parse_xml(r.content).findtext("request/token")
    assert token
    tok = client.get(f"{BASE}/tokens/{token}.json").json()
    check_schema("tokens", tok)
    assert tok == [{"service_request_id": None, "token": token}]
    case = session.scalar(select(Case).where(Case.source == "open311"))
    assert case is not None
    assert client.get(f"{BASE}/requests/{case.number}.json").status_code == 404  # not accepted yet

    advance(session, case, [("send_verify", "operator", {})])
    assert client.get(f"{BASE}/tokens/{token}.json").json() == [
        {"service_request_id": case.number, "token": token}
    ]
    req = client.get(f"{BASE}/requests/{case.number}.json").json()[0]
    assert (req["status"], req["status_notes"], req["expected_datetime"]) == (
        "open",
        "派核实（核实中）",
        None,
    )

    advance(
        session,
        case,
        [
            ("verify", "inspector001", {"confirmed": True}),
            ("register", "shiftlead", {}),
            ("dispatch", "dispatcher", {}),
        ],
    )
    req = client.get(f"{BASE}/requests/{case.number}.json", params={"extensions": "true"}).json()[0]
    check_schema("requests", [req])
    assert (req["status"], req["agency_responsible"], req["expected_datetime"]) == (
        "open",
        "公安交警大队",
        w3c(case.due_at),
    )
    assert req["status_notes"] == "派遣（已派遣）"
    assert req["extended_attributes"]["channel"] == "Open311接口"
    assert req["extended_attributes"]["attributes"] == [
        {"code": "PLATE", "value": "苏E12345"},
        {"code": "BLOCKING", "values": ["sidewalk", "blind_path"]},
    ]

    advance(
        session,
        case,
        [
            ("sign", "handler_jj", {}),
            ("feedback", "handler_jj", {"note": "车辆已驶离，人行道恢复通行", "public": True}),
            ("send_check", "operator", {}),
            ("check", "inspector001", {"passed": True}),
            ("close", "shiftlead", {}),
        ],
    )
    req = client.get(f"{BASE}/requests/{case.number}.xml", params={"extensions": "true"})
    root = parse_xml(req.content)
    assert root.findtext("request/status") == "closed"
    assert root.findtext("request/status_notes") == "结案（已结案）"
    notes = [n.findtext("description") for n in root.findall("request/notes/note")]
    assert notes == [
        "上报（待受理）：Open311接口",
        "派核实（核实中）",
        "核实（已核实）",
        "立案（已立案）",
        "派遣（已派遣）",
        "签收（处置中）",
        "反馈（已反馈）：车辆已驶离，人行道恢复通行",
        "派核查（核查中）",
        "核查（核查通过）",
        "结案（已结案）",
    ]
    assert root.findtext("request/updated_datetime") == w3c(case.updated_at)


def test_service_request_updates(client, session, api_key) -> None:
    case = make_case(session, category="E0102")
    advance(session, case, [("register", "shiftlead", {}), ("dispatch", "dispatcher", {})])
    r = client.post(
        f"{BASE}/servicerequestupdates.xml",
        data={
            "api_key": api_key,
            "service_request_id": case.number,
            "status": "fixed",
            "description": "已清理",
            "update_id": "ext-1",
        },
    )
    assert r.status_code == 200, r.text
    update_id = parse_xml(r.content).findtext("request_update/update_id")
    assert case.state == "dispatched"  # a note, not a state change
    r = client.get(f"{BASE}/servicerequestupdates.json", params={"service_request_id": case.number})
    ups = r.json()
    check_schema("updates", ups)
    assert [(u["status"], u["description"]) for u in ups] == [
        ("OPEN", "上报（待受理）：监督员上报"),
        ("ACTION_SCHEDULED", "立案（已立案）"),
        ("ACTION_SCHEDULED", "派遣（已派遣）"),
        ("FIXED", "外部系统进展更新（已派遣）：【已修复】已清理"),
    ]
    assert ups[-1]["update_id"] == update_id
    r = client.post(
        f"{BASE}/servicerequestupdates.xml", data={"service_request_id": case.number, "status": "FIXED"}
    )
    assert r.status_code == 403
    r = client.post(
        f"{BASE}/servicerequestupdates.json",
        data={"api_key": api_key, "service_request_id": "X1", "status": "MAYBE"},
    )
    assert r.status_code == 400 and len(r.json()) == 3


def test_retried_post_with_idempotency_key_makes_one_case(client, session, api_key) -> None:
    data = _e0505(session, api_key)
    before = session.scalar(select(func.count()).select_from(Case))
    first = client.post(f"{BASE}/requests.xml", data=data, headers={"Idempotency-Key": "o311-1"})
    again = client.post(f"{BASE}/requests.xml", data=data, headers={"Idempotency-Key": "o311-1"})
    assert first.status_code == again.status_code == 200
    assert again.text == first.text and again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"].startswith("text/xml")
    assert session.scalar(select(func.count()).select_from(Case)) == before + 1


def test_department_bound_client_updates_act_on_its_cases(client, session) -> None:
    from civicgrid.open311.keys import create_key

    hw_key = create_key(session, "环卫作业系统", "HW").key
    sz_key = create_key(session, "市政工单系统", "SZ").key
    case = make_case(session, category="E0102")
    advance(session, case, [("register", "shiftlead", {}), ("dispatch", "dispatcher", {})])  # → HW

    def post(key: str, status: str, text: str):  # type: ignore[no-untyped-def]
        r = client.post(
            f"{BASE}/servicerequestupdates.json",
            data={"api_key": key, "service_request_id": case.number, "status": status, "description": text},
        )
        assert r.status_code == 200, r.text
        session.refresh(case)
        return r

    post(sz_key, "FIXED", "不是我们的案卷")  # another department: only a note
    assert case.state == "dispatched"
    post(hw_key, "IN_PROGRESS", "作业车已出发")
    assert case.state == "processing"
    post(hw_key, "FIXED", "已清运完毕")
    assert case.state == "feedback" and case.feedback_at is not None
    actions = [
        e.action
        for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
    ]
    assert actions[-3:] == ["open311_update", "sign", "feedback"]
    post(hw_key, "NOT_COUNCILS_RESPONSIBILITY", "重复提交")  # no longer applies in 已反馈: kept as a note
    assert case.state == "feedback"
