"""Service attributes (GeoReport v2 service definitions): checking an admin's definitions and a
client's values.

Pure: no database, no web framework. Definitions are stored as JSON in ``Category.attributes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from civicgrid.fields import Text
from civicgrid.open311.timefmt import parse_w3c, w3c

Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
DATATYPES: tuple[str, ...] = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_TYPES = frozenset({"singlevaluelist", "multivaluelist"})
MAX_STRING = 500
MAX_TEXT = 4000


class AttributeValue(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: Text = Field(min_length=1, max_length=100, description="选项代码")
    name: Text = Field(min_length=1, max_length=200, description="选项名称")


class AttributeDef(BaseModel):
    """One attribute of a service definition, exactly the GeoReport v2 fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    variable: bool = Field(default=True, description="true：需要填写；false：仅为提示信息")
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,50}$", description="属性代码")
    datatype: Datatype = Field(description="string|number|datetime|text|singlevaluelist|multivaluelist")
    required: bool = False
    datatype_description: Text = Field(default="", max_length=200)
    order: int = Field(ge=1, description="显示顺序（正整数，不可重复）")
    description: Text = Field(min_length=1, max_length=500, description="问题（向上报人显示的文字）")
    values: list[AttributeValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _values_fit_type(self) -> AttributeDef:
        if self.datatype in LIST_TYPES:
            if not self.values:
                raise ValueError(f"属性 {self.code} 是列表类型，必须提供选项（values）")
            keys = [v.key for v in self.values]
            if len(set(keys)) != len(keys):
                raise ValueError(f"属性 {self.code} 的选项代码（key）有重复")
        elif self.values:
            raise ValueError(f"属性 {self.code} 的类型为 {self.datatype}，不能带选项（values）")
        if self.required and not self.variable:
            raise ValueError(f"属性 {self.code} 不需要填写（variable=false），不能设为必填")
        return self


class DefinitionError(ValueError):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("；".join(messages))
        self.messages = messages


def check_definitions(raw: Any) -> list[AttributeDef]:
    """Validate a list of attribute definitions (as an admin sends them). Raises DefinitionError."""
    if not isinstance(raw, list):
        raise DefinitionError(["属性定义必须是数组（JSON array）"])
    defs: list[AttributeDef] = []
    messages: list[str] = []
    for i, item in enumerate(raw, start=1):
        try:
            defs.append(AttributeDef.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                msg = str(err["msg"]).removeprefix("Value error, ")
                messages.append(f"第 {i} 个属性{('的 ' + loc) if loc else ''}：{msg}")
    codes = [d.code for d in defs]
    orders = [d.order for d in defs]
    if len(set(codes)) != len(codes):
        messages.append("属性代码（code）不能重复")
    if len(set(orders)) != len(orders):
        messages.append("属性顺序（order）不能重复")
    if messages:
        raise DefinitionError(messages)
    return sorted(defs, key=lambda d: d.order)


def load_definitions(stored: Sequence[Any] | None) -> list[AttributeDef]:
    """Definitions as stored (already validated when saved)."""
    return sorted((AttributeDef.model_validate(d) for d in stored or []), key=lambda d: d.order)


def check_values(
    defs: Sequence[AttributeDef], submitted: Mapping[str, Sequence[str]]
) -> tuple[dict[str, Any], list[str]]:
    """Check a client's ``attribute[code]`` values. Returns (clean values by code, error messages)."""
    by_code = {d.code: d for d in defs if d.variable}
    errors: list[str] = []
    clean: dict[str, Any] = {}
    for code in submitted:
        if code not in by_code:
            errors.append(f"未知的属性：attribute[{code}]")
    for d in by_code.values():
        given = [v.strip() for v in submitted.get(d.code, ()) if v.strip()]
        if not given:
            if d.required:
                errors.append(f"缺少必填属性：attribute[{d.code}]（{d.description}）")
            continue
        value, problem = _one(d, given)
        if problem:
            errors.append(problem)
        else:
            clean[d.code] = value
    return clean, errors


def _one(d: AttributeDef, given: list[str]) -> tuple[Any, str | None]:
    label = f"attribute[{d.code}]"
    if d.datatype == "multivaluelist":
        keys = {v.key for v in d.values}
        bad = [g for g in given if g not in keys]
        if bad:
            return None, f"{label} 的取值不在选项中：{'、'.join(bad)}"
        return list(dict.fromkeys(given)), None
    if len(given) > 1:
        return None, f"{label} 只能有一个值"
    text = given[0]
    if d.datatype == "singlevaluelist":
        if text not in {v.key for v in d.values}:
            return None, f"{label} 的取值不在选项中：{text}"
        return text, None
    if d.datatype == "number":
        try:
            number = float(text)
        except ValueError:
            return None, f"{label} 应为数字，收到：{text}"
        if number != number or number in (float("inf"), float("-inf")):
            return None, f"{label} 应为有限的数字"
        return (int(number) if number.is_integer() else number), None
    if d.datatype == "datetime":
        try:
            return w3c(parse_w3c(text)), None
        except ValueError:
            return None, f"{label} 应为 ISO 8601 日期时间，如 2026-11-26T09:30:00+08:00"
    limit = MAX_STRING if d.datatype == "string" else MAX_TEXT
    if len(text) > limit:
        return None, f"{label} 过长：最多 {limit} 字"
    return text, None


def summary(defs: Sequence[AttributeDef], values: Mapping[str, Any]) -> str:
    """Human-readable Chinese summary of the values, e.g. ``损坏情况：破损；车牌号：苏E12345``."""
    parts = []
    for d in defs:
        if d.code not in values:
            continue
        names = {v.key: v.name for v in d.values}
        raw = values[d.code]
        shown = (
            "、".join(names.get(str(x), str(x)) for x in raw)
            if isinstance(raw, list)
            else names.get(str(raw), str(raw))
        )
        parts.append(f"{d.description.rstrip('？?：:')}：{shown}")
    return "；".join(parts)
