"""The data each case action takes. The same models validate the JSON API body, the web forms and the CLI."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from civicgrid.fields import SaneDate, Text

_LIMIT_RE = re.compile(r"^\d+(\.\d+)?(h|wh|wd|min)$")


class ActionData(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: Text = Field(default="", max_length=4000, description="备注 / 说明")
    attachment_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        default_factory=list, max_length=20, description="已上传照片的编号"
    )
    public: bool = Field(
        default=False,
        description="备注是否公开：true 在公众查询页和 Open311 中显示；默认 false（内部）。"
        "市民本人的意见总是公开",
    )


class NoteRequired(ActionData):
    note: Text = Field(min_length=1, max_length=4000, description="必填说明")


class SendVerify(ActionData):
    pass


class Verify(ActionData):
    confirmed: bool = Field(description="现场核实是否属实")


class Classify(ActionData):
    category_code: str = Field(pattern=r"^[CE]\d{4}$", description="新的类别代码，如 E0102")


class Register(ActionData):
    category_code: str | None = Field(default=None, pattern=r"^[CE]\d{4}$")


class Void(NoteRequired):
    pass


class Merge(ActionData):
    master_case_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="主案卷编号（id）")
    master_number: Text | None = Field(default=None, max_length=40, description="主案卷号")


class Unmerge(ActionData):
    pass


class Dispatch(ActionData):
    department_code: Text | None = Field(
        default=None, max_length=20, description="处置部门代码；不填则按派遣规则"
    )


class Sign(ActionData):
    pass


class Return(NoteRequired):
    pass


class Feedback(NoteRequired):
    pass


class Extend(ActionData):
    limit: Text = Field(max_length=20, description="申请延长的时限，如 2wd、4wh")
    note: Text = Field(min_length=1, max_length=4000, description="延期理由")

    @field_validator("limit")
    @classmethod
    def _limit(cls, v: str) -> str:
        v = v.strip().lower()
        if not _LIMIT_RE.match(v):
            raise ValueError("时限格式应为数字加单位，如 2wd、4wh、8h")
        return v


class ApproveExtension(ActionData):
    approved: bool = Field(description="是否同意延期")


class SendCheck(ActionData):
    pass


class Check(ActionData):
    passed: bool = Field(description="核查是否通过")


class Close(ActionData):
    special: bool = Field(default=False, description="特殊结案（如长期挂账），需填写说明")


class Hold(NoteRequired):
    review_on: SaneDate | None = Field(default=None, description="复查日期")


class Release(ActionData):
    pass


class Reopen(NoteRequired):
    pass


class Rate(ActionData):
    rating: int = Field(ge=1, le=5, description="满意度 1–5 分")
    query_code: Text | None = Field(default=None, max_length=32, description="匿名上报时的查询码")


class Supervise(NoteRequired):
    level: str = Field(default="leader", pattern="^(leader|warning|overdue)$", description="督办级别")


ACTION_DATA: dict[str, type[ActionData]] = {
    "send_verify": SendVerify,
    "verify": Verify,
    "classify": Classify,
    "register": Register,
    "void": Void,
    "merge": Merge,
    "unmerge": Unmerge,
    "dispatch": Dispatch,
    "sign": Sign,
    "return": Return,
    "feedback": Feedback,
    "extend": Extend,
    "approve_extension": ApproveExtension,
    "send_check": SendCheck,
    "check": Check,
    "close": Close,
    "hold": Hold,
    "release": Release,
    "reopen": Reopen,
    "rate": Rate,
    "supervise": Supervise,
}
