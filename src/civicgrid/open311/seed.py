"""Demo service definitions (Open311 attributes) for a few categories, validated like an admin's edit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from civicgrid.models import Category
from civicgrid.open311.attributes import check_definitions

DEMO_ATTRIBUTES: dict[str, list[dict[str, Any]]] = {
    "C0101": [
        {
            "code": "DAMAGE",
            "datatype": "singlevaluelist",
            "required": True,
            "order": 1,
            "description": "井盖损坏情况",
            "datatype_description": "请选择一项",
            "values": [
                {"key": "broken", "name": "破损"},
                {"key": "missing", "name": "缺失"},
                {"key": "shifted", "name": "移位"},
                {"key": "uneven", "name": "与路面有高差"},
                {"key": "loose", "name": "松动异响"},
            ],
        },
        {
            "code": "WARNING_SET",
            "datatype": "singlevaluelist",
            "required": False,
            "order": 2,
            "description": "现场是否已设置警示标志",
            "values": [{"key": "yes", "name": "已设置"}, {"key": "no", "name": "未设置"}],
        },
        {
            "code": "SAFETY",
            "variable": False,
            "datatype": "string",
            "order": 3,
            "description": "井盖缺失请远离井口，并提醒行人车辆绕行",
        },
    ],
    "E0505": [
        {
            "code": "PLATE",
            "datatype": "string",
            "required": False,
            "order": 1,
            "description": "车牌号",
            "datatype_description": "如 苏E12345，看不清可不填",
        },
        {
            "code": "BLOCKING",
            "datatype": "multivaluelist",
            "required": True,
            "order": 2,
            "description": "车辆占用了哪里",
            "datatype_description": "可多选",
            "values": [
                {"key": "sidewalk", "name": "人行道"},
                {"key": "fire_lane", "name": "消防通道"},
                {"key": "blind_path", "name": "盲道"},
                {"key": "entrance", "name": "出入口"},
                {"key": "bus_stop", "name": "公交站台"},
            ],
        },
        {
            "code": "VEHICLES",
            "datatype": "number",
            "required": False,
            "order": 3,
            "description": "违停车辆数",
        },
        {
            "code": "SEEN_AT",
            "datatype": "datetime",
            "required": False,
            "order": 4,
            "description": "发现时间",
            "datatype_description": "ISO 8601，如 2026-11-26T09:30:00+08:00",
        },
    ],
    "E0102": [
        {
            "code": "AMOUNT",
            "datatype": "singlevaluelist",
            "required": False,
            "order": 1,
            "description": "垃圾量",
            "values": [
                {"key": "small", "name": "少量（一袋以内）"},
                {"key": "medium", "name": "一车以内"},
                {"key": "large", "name": "大量堆积"},
            ],
        },
        {
            "code": "DETAIL",
            "datatype": "text",
            "required": False,
            "order": 2,
            "description": "周边情况补充说明",
        },
    ],
}


def seed_attributes(session: Session, *, overwrite: bool = False) -> int:
    """Give the demo categories their service definitions (keeps an admin's edits unless ``overwrite``)."""
    count = 0
    for code, raw in DEMO_ATTRIBUTES.items():
        cat = session.get(Category, code)
        if cat is None or (cat.attributes and not overwrite):
            continue
        cat.attributes = [d.model_dump() for d in check_definitions(raw)]
        count += 1
    session.flush()
    return count
