"""A form that failed, shown again: what the user typed, kept, and what to fix, in plain Chinese.

Validation errors come from the same pydantic models as the JSON API (their ``errors``: field, message,
type). Pages never show pydantic's wording ("Value error, …", "String should have at least 1 character");
each error becomes a ``Problem`` on its form field, said in Chinese ("请填写延期理由"), translated where
shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from civicgrid.errors import AppError, InvalidInput
from civicgrid.web.i18n import N_

# What each posted field is called on the page.
FIELD_LABELS = {
    "note": N_("说明"),
    "limit": N_("延长时限"),
    "limit_amount": N_("延长时限"),
    "limit_unit": N_("时限单位"),
    "category_code": N_("问题类别"),
    "department_code": N_("处置部门"),
    "master_number": N_("主案卷号"),
    "master_case_id": N_("主案卷号"),
    "confirmed": N_("核实结论"),
    "passed": N_("核查结论"),
    "approved": N_("审批结论"),
    "review_on": N_("复查日期"),
    "rating": N_("满意度"),
    "photos": N_("现场照片"),
    "attachment_ids": N_("现场照片"),
    "description": N_("问题描述"),
    "lng": N_("经度"),
    "lat": N_("纬度"),
    "address": N_("地址"),
    "reporter_name": N_("称呼"),
    "reporter_phone": N_("电话"),
}
# Fields answered by choosing, not typing: "请选择…".
CHOSEN = frozenset({"confirmed", "passed", "approved", "rating", "limit_unit", "department_code"})
# The form field that shows an error of a data field.
SHOWN_ON = {"limit": "limit_amount", "attachment_ids": "photos", "master_case_id": "master_number"}

FILL = N_("请填写{field}")
CHOOSE = N_("请选择{field}")
TOO_LONG = N_("{field}太长，请精简后再提交")
BAD_FORMAT = N_("{field}的格式不正确")
OUT_OF_RANGE = N_("{field}超出允许的范围")
BAD_DATE = N_("{field}不是有效的日期")
SUMMARY = N_("未提交成功，请按提示修改标出的内容后重新提交（已填写的内容已保留）")


@dataclass(frozen=True)
class Problem:
    """What to fix in one field: a Chinese msgid with ``{field}``, or a finished Chinese ``detail``."""

    text: str
    label: str = ""
    detail: str = ""


@dataclass
class FailedForm:
    """One form posted and refused: which, the message above it, what was typed, the problems per field and
    the photos kept for the next try."""

    action: str
    message: str
    values: dict[str, str] = field(default_factory=dict)
    problems: dict[str, Problem] = field(default_factory=dict)
    photos: list[Any] = field(default_factory=list)  # forms.KeptPhoto
    label: str = ""  # the action's name as shown (「派核实」)


class FormInvalid(InvalidInput):
    """A form's own check failed (before any model saw it): problems per form field."""

    def __init__(self, problems: dict[str, Problem]) -> None:
        super().__init__(SUMMARY)
        self.problems = problems


def _problem(name: str, kind: str, message: str, labels: dict[str, str]) -> Problem:
    label = labels.get(name) or FIELD_LABELS.get(name, "")
    if kind in {"missing", "string_too_short", "too_short"} or (kind == "string_type" and not message):
        return Problem(CHOOSE if name in CHOSEN else FILL, label)
    if kind in {"bool_parsing", "bool_type", "enum", "literal_error"}:
        return Problem(CHOOSE, label)
    if kind in {"string_too_long", "too_long"}:
        return Problem(TOO_LONG, label)
    if kind == "string_pattern_mismatch":
        return Problem(BAD_FORMAT, label)
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than", "int_parsing"}:
        return Problem(OUT_OF_RANGE, label)
    if kind.startswith(("date_", "datetime_")):
        return Problem(BAD_DATE, label)
    detail = message.removeprefix("Value error, ").strip()
    if kind == "value_error" and detail and re.search(r"[\u4e00-\u9fff]", detail):
        return Problem("", label, detail)  # our own validators speak Chinese already
    return Problem(BAD_FORMAT, label)


def problems_of(exc: AppError, labels: dict[str, str] | None = None) -> dict[str, Problem]:
    """The problems per form field of a refused form (empty when the refusal is not about a field, e.g. a
    409 for the case's state: its message says it all)."""
    if isinstance(exc, FormInvalid):
        return dict(exc.problems)
    out: dict[str, Problem] = {}
    for err in exc.extra.get("errors") or []:
        name = str(err.get("field") or "").split(".")[0]
        if name not in FIELD_LABELS:
            continue
        shown = SHOWN_ON.get(name, name)
        out.setdefault(
            shown, _problem(name, str(err.get("type") or ""), str(err.get("message") or ""), labels or {})
        )
    return out


def message_of(exc: AppError, problems: dict[str, Problem]) -> str:
    """The line above the form: a summary when fields are marked, else the refusal's own Chinese message."""
    return SUMMARY if problems else exc.message


# --- Time limits picked on the form (number + unit), for 申请延期 ------------------------------------------

LIMIT_UNITS = {"wd": N_("工作日"), "d": N_("天"), "h": N_("小时")}
MAX_LIMIT_AMOUNT = 99
_LIMIT = re.compile(r"^(\d+(?:\.\d+)?)(wd|wh|h|min)$")


def picked_limit(amount: str, unit: str) -> str:
    """The engine's limit text (``2wd``, ``72h``) for a number and a unit picked on the form; 天 are
    calendar days (24 hours each). Raises FormInvalid saying which of the two to fix."""
    problems: dict[str, Problem] = {}
    number = int(amount) if amount.isdigit() else 0
    if not amount:
        problems["limit_amount"] = Problem(FILL, FIELD_LABELS["limit"])
    elif not 1 <= number <= MAX_LIMIT_AMOUNT:
        problems["limit_amount"] = Problem(N_("延长时限请填写 1–99 之间的整数"))
    if unit not in LIMIT_UNITS:
        problems["limit_unit"] = Problem(CHOOSE, FIELD_LABELS["limit_unit"])
    if problems:
        raise FormInvalid(problems)
    return f"{number * 24}h" if unit == "d" else f"{number}{unit}"


def limit_label(limit: str | None) -> str:
    """``2wd`` → ``2 个工作日``, ``72h`` → ``3 天``, ``4wh`` → ``4 个工作小时`` (Chinese, for display)."""
    m = _LIMIT.match((limit or "").strip().lower())
    if not m:
        return limit or ""
    number, unit = m.groups()
    n = float(number)
    shown = str(int(n)) if n.is_integer() else number
    if unit == "h" and n.is_integer() and n % 24 == 0:
        return f"{int(n) // 24} 天"
    return {"wd": f"{shown} 个工作日", "wh": f"{shown} 个工作小时", "h": f"{shown} 小时"}.get(
        unit, f"{shown} 分钟"
    )
