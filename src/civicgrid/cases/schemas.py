"""JSON shapes of the case API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from civicgrid.fields import Finite, Text


class ReportBody(BaseModel):
    description: Text = Field(min_length=1, max_length=4000, description="问题描述")
    lng: Finite | None = Field(
        default=None, ge=-180, le=180, description="经度（与 lat 同时提供；不提供时按地址定位）"
    )
    lat: Finite | None = Field(default=None, ge=-90, le=90, description="纬度")
    crs: str = Field(
        default="wgs84",
        pattern="^(wgs84|gcj02|bd09)$",
        description="坐标系：wgs84、gcj02（高德/腾讯）、bd09（百度）",
    )
    category_code: str | None = Field(
        default=None, pattern=r"^[CE]\d{4}$", description="类别代码；不填则自动识别"
    )
    source: Text = Field(default="citizen", max_length=20, description="来源")
    address: Text = Field(default="", max_length=300)
    reporter_name: Text | None = Field(default=None, max_length=50)
    reporter_phone: Text | None = Field(default=None, max_length=20)
    attachment_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        default_factory=list, max_length=9
    )
    upload_tokens: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list,
        max_length=9,
        description="匿名上传的照片：上传时返回的凭证（upload_token），每张一个",
    )


class ReportOut(BaseModel):
    id: int
    number: str
    state: str
    state_label: str
    category_code: str
    category_name: str
    grid_code: str
    query_code: str | None = Field(
        default=None,
        description="查询码（匿名上报时返回一次，请妥善保存）：10 位字母数字，如 K7QHM-3ZPX9；"
        "查询时不区分大小写，可省略连字符",
    )
    outcome: str = Field(description="merged / dispatched / queued")
    master_number: str | None = None
    suggestions: list[dict[str, Any]] = Field(default_factory=list)


class EventOut(BaseModel):
    id: int
    action: str
    action_label: str
    actor: str
    actor_role: str
    from_state: str | None
    to_state: str
    note: str
    data: dict[str, Any]
    attachment_ids: list[int]
    created_at: datetime
    public: bool = Field(default=False, description="备注是否公开（公众查询页可见）；否则为内部备注")


class AttachmentOut(BaseModel):
    id: int
    content_type: str
    size: int
    width: int | None
    height: int | None
    url: str
    thumb_url: str
    step: str | None = Field(default=None, description="添加照片的环节（操作名，如 report、feedback）")
    step_label: str = Field(default="", description="环节名称，如 上报、处置")
    upload_token: str | None = Field(
        default=None,
        description="上传凭证（匿名上传时返回一次）：上报时放入 upload_tokens；查看尚未上报的照片时"
        "作为 upload_token 参数",
    )


class CaseOut(BaseModel):
    id: int
    number: str
    state: str
    state_label: str
    category_code: str
    category_name: str
    urgent: bool
    description: str
    source: str
    lng: float
    lat: float
    address: str
    grid_code: str
    community_code: str
    street_code: str
    department_code: str | None
    department_name: str | None
    received_at: datetime
    verify_sent_at: datetime | None
    verified_at: datetime | None
    verify_confirmed: bool | None
    registered_at: datetime | None
    dispatched_at: datetime | None
    signed_at: datetime | None
    feedback_at: datetime | None
    check_sent_at: datetime | None
    checked_at: datetime | None
    closed_at: datetime | None
    voided_at: datetime | None
    merged_at: datetime | None
    due_at: datetime | None
    stage_due_at: datetime | None
    overdue: bool
    light: str = Field(description="green / yellow / red / none")
    rework_count: int
    return_count: int
    reopen_count: int
    extension_count: int
    extension_requested_limit: str | None
    close_type: str | None
    held: bool
    hold_reason: str | None
    report_count: int
    master_case_id: int | None
    rating: int | None
    rating_text: str | None
    supervised: bool
    classification_confidence: float | None
    reporter_name: str | None = Field(description="脱敏后的姓名")
    reporter_phone: str | None = Field(description="脱敏后的电话")
    allowed_actions: list[str]


class StationRef(BaseModel):
    mn: str = Field(description="监测站点 MN")
    name: str = Field(description="站点名称")


class CaseDetail(CaseOut):
    events: list[EventOut]
    attachments: list[AttachmentOut]
    # Filled by a domain's case-detail hook (present.case_links), never by the case engine itself.
    station: StationRef | None = Field(default=None, description="物联感知案卷的监测站点（来源为 sensor 时）")


class CasePage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[CaseOut]


class TrackOut(BaseModel):
    """The public view of a case, for a reporter who follows it by number and query code."""

    number: str
    state: str
    state_label: str
    category_name: str
    description: str
    received_at: datetime
    closed_at: datetime | None
    due_at: datetime | None
    rating: int | None
    timeline: list[dict[str, Any]]
    photos: list[AttachmentOut]


# --- Batch actions (cases/batch.py) -------------------------------------------------------------------------


class BatchBody(BaseModel):
    action: str = Field(
        pattern="^(sign|dispatch|close)$", description="批量操作：sign 签收、dispatch 派遣、close 结案"
    )
    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        min_length=1, max_length=100, description="案卷编号（id），最多 100 件"
    )
    data: dict[str, Any] = Field(
        default_factory=dict,
        description='操作参数，对每件案卷相同，如 {"department_code": "HW"}；派遣不填部门时按派遣规则',
    )


class BatchItemOut(BaseModel):
    id: int
    number: str | None = Field(description="案卷号（无权查看的案卷不显示）")
    ok: bool
    state: str | None = None
    state_label: str | None = None
    problem: dict[str, Any] | None = Field(
        default=None, description="未成功的原因（RFC 9457 problem details）"
    )


class BatchOut(BaseModel):
    action: str
    action_label: str
    succeeded: int
    refused: int
    results: list[BatchItemOut]
