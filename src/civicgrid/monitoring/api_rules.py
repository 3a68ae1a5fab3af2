"""The monitoring rule table over the JSON API: staff read it, an admin changes a rule (audited).

Mounted before ``monitoring/api.py`` so that ``/stations/rules`` is never taken for a station's MN.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from civicgrid.deps import DbSession
from civicgrid.fields import Finite
from civicgrid.jsonbody import JsonRoute
from civicgrid.monitoring import rule_admin
from civicgrid.org.auth import AdminUser, StaffUser
from civicgrid.security import audit

router = APIRouter(prefix="/api/v1", tags=["环境监测 monitoring"], route_class=JsonRoute)


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: Finite | None = Field(default=None, description="阈值（按站点自身限值判断的规则为 null）")
    consecutive: int | None = Field(
        default=None, ge=1, le=rule_admin.MAX_CONSECUTIVE, strict=True, description="连续窗口数"
    )
    enabled: bool | None = Field(default=None, strict=True, description="是否启用")


@router.get("/stations/rules", summary="监测超标规则（规则→案卷）")
def list_rules(session: DbSession, user: StaffUser) -> list[dict[str, Any]]:
    return [rule_admin.present(r) for r in rule_admin.listing(session)]


@router.patch("/stations/rules/{code}", summary="修改监测规则的阈值、连续次数或启用（管理员）")
def patch_rule(
    request: Request, code: str, body: RulePatch, session: DbSession, user: AdminUser
) -> dict[str, Any]:
    given = body.model_fields_set
    row, changes = rule_admin.update(
        session,
        code,
        threshold=body.threshold if "threshold" in given else rule_admin.UNSET,
        consecutive=body.consecutive,
        enabled=body.enabled,
    )
    if changes:
        ip = request.client.host if request.client else ""
        audit.record_admin(session, audit.Actor(user.user_id, ip), "station_rule", row.code, changes=changes)
    return rule_admin.present(row)
