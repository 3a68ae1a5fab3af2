"""Pure parts of Open311: attributes, tokens, XML rendering, W3C datetimes, status maps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from o311_helpers import parse_xml

from civicgrid.open311.attributes import DefinitionError, check_definitions, check_values, summary
from civicgrid.open311.render import xml_bytes
from civicgrid.open311.seed import DEMO_ATTRIBUTES
from civicgrid.open311.status import request_status, update_status
from civicgrid.open311.timefmt import parse_w3c, w3c
from civicgrid.open311.tokens import make_token, read_token

ALL_SIX = [
    {"code": "S", "datatype": "string", "order": 1, "description": "车牌号"},
    {"code": "N", "datatype": "number", "order": 2, "description": "数量"},
    {"code": "D", "datatype": "datetime", "order": 3, "description": "发现时间"},
    {"code": "T", "datatype": "text", "order": 4, "description": "补充说明"},
    {
        "code": "one",
        "datatype": "singlevaluelist",
        "order": 5,
        "description": "程度",
        "required": True,
        "values": [{"key": "a", "name": "轻微"}, {"key": "b", "name": "严重"}],
    },
    {
        "code": "many",
        "datatype": "multivaluelist",
        "order": 6,
        "description": "占用",
        "values": [{"key": "x", "name": "人行道"}, {"key": "y", "name": "盲道"}],
    },
]


def test_all_six_datatypes_validate_and_sort_by_order() -> None:
    defs = check_definitions(list(reversed(ALL_SIX)))
    assert [d.datatype for d in defs] == [
        "string",
        "number",
        "datetime",
        "text",
        "singlevaluelist",
        "multivaluelist",
    ]


def test_bad_definitions_report_every_problem() -> None:
    bad = [
        {"code": "A", "datatype": "singlevaluelist", "order": 1, "description": "无选项"},
        {
            "code": "A",
            "datatype": "string",
            "order": 1,
            "description": "有选项",
            "values": [{"key": "k", "name": "n"}],
        },
        {"code": "B", "datatype": "color", "order": 0, "description": ""},
    ]
    with pytest.raises(DefinitionError) as exc:
        check_definitions(bad)
    text = str(exc.value)
    assert "属性 A 是列表类型，必须提供选项（values）" in text
    assert "属性 A 的类型为 string，不能带选项（values）" in text
    assert "第 3 个属性的 datatype" in text and "第 3 个属性的 order" in text
    assert len(exc.value.messages) == 5  # (the duplicates are checked among the valid ones only)


def test_values_checked_against_definitions() -> None:
    defs = check_definitions(ALL_SIX)
    clean, errors = check_values(
        defs,
        {
            "S": ["苏E12345"],
            "N": ["3"],
            "D": ["2026-11-26T09:30:00Z"],
            "T": ["路口"],
            "one": ["b"],
            "many": ["x", "y", "x"],
        },
    )
    assert errors == []
    assert clean == {
        "S": "苏E12345",
        "N": 3,
        "D": "2026-11-26T17:30:00+08:00",
        "T": "路口",
        "one": "b",
        "many": ["x", "y"],
    }
    assert (
        summary(defs, clean) == "车牌号：苏E12345；数量：3；发现时间：2026-11-26T17:30:00+08:00；"
        "补充说明：路口；程度：严重；占用：人行道、盲道"
    )


def test_bad_values_each_reported() -> None:
    defs = check_definitions(ALL_SIX)
    _, errors = check_values(
        defs, {"N": ["很多"], "D": ["昨天"], "many": ["x", "z"], "S": ["a", "b"], "zz": ["1"]}
    )
    assert errors == [
        "未知的属性：attribute[zz]",
        "attribute[S] 只能有一个值",
        "attribute[N] 应为数字，收到：很多",
        "attribute[D] 应为 ISO 8601 日期时间，如 2026-11-26T09:30:00+08:00",
        "缺少必填属性：attribute[one]（程度）",
        "attribute[many] 的取值不在选项中：z",
    ]


def test_demo_definitions_are_valid() -> None:
    for raw in DEMO_ATTRIBUTES.values():
        check_definitions(raw)
    kinds = {d["datatype"] for raw in DEMO_ATTRIBUTES.values() for d in raw}
    assert kinds == {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}


def test_tokens_are_signed() -> None:
    token = make_token(12345)
    assert read_token(token) == 12345
    assert read_token(token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    assert read_token("T9iy-" + token.split("-")[1]) is None  # another id, same signature
    assert read_token("garbage") is None


def test_xml_is_well_formed_for_any_text() -> None:
    body = xml_bytes(
        "service_requests", [{"description": '井盖<破>了 & "危险"\x01\x0b', "lat": 31.5, "ok": True}]
    )
    root = parse_xml(body)
    req = root.find("request")
    assert req is not None
    assert (req.findtext("description"), req.findtext("lat"), req.findtext("ok")) == (
        '井盖<破>了 & "危险"',
        "31.5",
        "true",
    )


def test_w3c_datetimes() -> None:
    assert w3c(datetime(2026, 11, 26, 1, 30, tzinfo=UTC)) == "2026-11-26T09:30:00+08:00"
    assert parse_w3c("2026-11-26T09:30:00 08:00") == datetime(2026, 11, 26, 1, 30, tzinfo=UTC)
    assert parse_w3c("2026-11-26") == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    assert parse_w3c("2026-11-26T01:30:00Z") == datetime(2026, 11, 26, 1, 30, tzinfo=UTC)


def test_status_maps() -> None:
    assert [
        request_status(s) for s in ("received", "dispatched", "checked", "closed", "voided", "merged")
    ] == ["open", "open", "open", "closed", "closed", "closed"]
    assert update_status("dispatch", "dispatched", {}) == "ACTION_SCHEDULED"
    assert update_status("close", "closed", {"close_type": "special"}) == "CLOSED"
    assert update_status("close", "closed", {"close_type": "normal"}) == "FIXED"
    assert update_status("reopen", "dispatched", {}) == "REOPEN"
    assert update_status("merge", "merged", {}) == "DUPLICATE"
    assert update_status("open311_update", "processing", {"status": "FIXED"}) == "FIXED"
