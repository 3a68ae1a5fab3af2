"""The supervision domain's vocabularies (data, shown to users in Chinese)."""

from __future__ import annotations

# 督办事项的来源 (SPEC §13)
SOURCES: tuple[str, ...] = (
    "讲话",
    "会议决定",
    "领导批示",
    "文件",
    "年度重点工作",
    "人大建议/政协提案",
    "一河一策",
    "重点项目问题",
)

CADENCES: dict[str, str] = {"weekly": "每周", "monthly": "每月", "quarterly": "每季度"}

STATE_LABELS: dict[str, str] = {
    "draft": "待交办",
    "assigned": "已交办",
    "doing": "办理中",
    "applied": "待审核",
    "done": "已销号",
}

OPEN_STATES = frozenset({"assigned", "doing", "applied"})
