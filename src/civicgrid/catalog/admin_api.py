"""The administrator's JSON API for a category's limits and the routing rules (the web's 系统管理 pages call
the same services in ``catalog/admin.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from civicgrid.catalog import admin
from civicgrid.catalog.seed import LimitUnit
from civicgrid.deps import DbSession, RowId
from civicgrid.fields import Finite, Text
from civicgrid.jsonbody import JsonRoute
from civicgrid.org.auth import AdminUser
from civicgrid.org.roles import Principal
from civicgrid.security.audit import Actor

router = APIRouter(prefix="/api/v1", tags=["类别 catalog"], route_class=JsonRoute)


def _actor(request: Request, p: Principal) -> Actor:
    return Actor(p.user_id, request.client.host if request.client else "")


class CategoryLimits(BaseModel):
    limit_amount: Finite = Field(gt=0, le=10_000, description="处置时限数值")
    limit_unit: LimitUnit = Field(description="h 小时 / wh 工作小时 / wd 工作日")
    urgent: bool = False
    department_code: Text | None = Field(
        default=None, max_length=20, description="默认处置部门；@street 为所在街道"
    )
    merge_radius_m: Finite = Field(default=100.0, ge=0, le=10_000, description="并案半径（米）")
    merge_window_h: Finite = Field(default=72.0, ge=0, le=24 * 365, description="并案时间窗（小时）")


class CategoryLimitsOut(CategoryLimits):
    code: str
    name: str
    limit: str


class RuleIn(BaseModel):
    category_code: Text | None = Field(default=None, pattern=r"^[CE]\d{4}$")
    area_code: Text | None = Field(
        default=None, max_length=20, description="街道、社区或网格代码；不填为全区"
    )
    department_code: Text = Field(min_length=1, max_length=20)
    priority: int = Field(default=0, ge=-1000, le=1000)


class RuleOut(BaseModel):
    id: int
    category_code: str | None
    category_name: str | None
    area_code: str | None
    department_id: int
    department_name: str
    priority: int


@router.put(
    "/categories/{code}/limits", response_model=CategoryLimitsOut, summary="修改类别的处置时限（管理员）"
)
def set_limits(
    request: Request, code: str, body: CategoryLimits, session: DbSession, user: AdminUser
) -> CategoryLimitsOut:
    cat = admin.update_category(
        session,
        _actor(request, user),
        code,
        limit_amount=body.limit_amount,
        limit_unit=body.limit_unit,
        urgent=body.urgent,
        department_code=body.department_code,
        merge_radius_m=body.merge_radius_m,
        merge_window_h=body.merge_window_h,
    )
    return CategoryLimitsOut(
        code=cat.code,
        name=cat.name,
        limit=cat.limit_text,
        limit_amount=cat.limit_amount,
        limit_unit=cat.limit_unit,  # type: ignore[arg-type]
        urgent=cat.urgent,
        department_code=cat.department_code,
        merge_radius_m=cat.merge_radius_m,
        merge_window_h=cat.merge_window_h,
    )


@router.get("/routing-rules", response_model=list[RuleOut], summary="派遣规则（管理员）")
def rules(session: DbSession, user: AdminUser) -> list[RuleOut]:
    return [
        RuleOut(
            id=r.id,
            category_code=r.category_code,
            category_name=cat,
            area_code=r.area_code,
            department_id=r.department_id,
            department_name=dept,
            priority=r.priority,
        )
        for r, cat, dept in admin.routing_rules(session)
    ]


@router.post("/routing-rules", response_model=RuleOut, status_code=201, summary="新建派遣规则（管理员）")
def add_rule(request: Request, body: RuleIn, session: DbSession, user: AdminUser) -> RuleOut:
    rule, dept = admin.add_rule(
        session,
        _actor(request, user),
        category_code=body.category_code,
        area_code=body.area_code,
        department_code=body.department_code,
        priority=body.priority,
    )
    return RuleOut(
        id=rule.id,
        category_code=rule.category_code,
        category_name=None,
        area_code=rule.area_code,
        department_id=dept.id,
        department_name=dept.name,
        priority=rule.priority,
    )


@router.delete("/routing-rules/{rule_id}", status_code=204, summary="删除派遣规则（管理员）")
def delete_rule(request: Request, rule_id: RowId, session: DbSession, user: AdminUser) -> Response:
    admin.delete_rule(session, _actor(request, user), rule_id)
    return Response(status_code=204)
