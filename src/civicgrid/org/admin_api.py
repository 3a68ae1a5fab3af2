"""The administrator's JSON API for accounts and departments (the web's 系统管理 pages call the same
services). Every change is a security event; bad input is a Chinese 422 and nothing is written."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from civicgrid.deps import DbSession, RowId
from civicgrid.fields import Text
from civicgrid.jsonbody import JsonRoute
from civicgrid.org import accounts, departments
from civicgrid.org.api import DepartmentOut, UserOut, user_out
from civicgrid.org.auth import AdminUser
from civicgrid.org.roles import Principal
from civicgrid.security.audit import Actor

router = APIRouter(prefix="/api/v1", tags=["用户与部门 org"], route_class=JsonRoute)

Code = Annotated[Text, Field(max_length=32)]


def _actor(request: Request, admin: Principal) -> Actor:
    return Actor(admin.user_id, request.client.host if request.client else "")


class AccessIn(BaseModel):
    """What to change; a field left out stays as it is."""

    roles: list[Code] | None = Field(
        default=None, min_length=1, max_length=20, description="新的角色（整体替换）"
    )
    grid_codes: list[Code] | None = Field(
        default=None, max_length=1000, description="负责的网格、社区或街道代码"
    )
    department_code: Text | None = Field(
        default=None, max_length=20, description="所属部门代码；空字符串表示无"
    )
    active: bool | None = Field(default=None, description="启用或停用")


class PasswordReset(BaseModel):
    username: str
    temporary_password: str = Field(description="临时密码（只返回这一次）")


class DepartmentIn(BaseModel):
    code: Text = Field(min_length=2, max_length=20)
    name: Text = Field(min_length=1, max_length=100)
    short_name: Text = Field(default="", max_length=40)
    kind: Text = Field(default="department", pattern="^(department|street_office)$")
    street_code: Text | None = Field(default=None, max_length=20)


class DepartmentPatch(BaseModel):
    name: Text | None = Field(default=None, min_length=1, max_length=100)
    short_name: Text | None = Field(default=None, max_length=40)
    active: bool | None = None


@router.patch(
    "/users/{user_id}", response_model=UserOut, summary="修改用户的角色、网格、部门或启用状态（管理员）"
)
def change_user(
    request: Request, user_id: RowId, body: AccessIn, session: DbSession, admin: AdminUser
) -> UserOut:
    actor = _actor(request, admin)
    user = accounts.change_access(
        session,
        actor,
        user_id,
        roles=list(body.roles) if body.roles is not None else None,
        grid_codes=list(body.grid_codes) if body.grid_codes is not None else None,
        department_code=body.department_code,
    )
    if body.active is not None:
        user = accounts.set_active(session, actor, user_id, body.active)
    session.flush()
    return user_out(user)


@router.post(
    "/users/{user_id}/password-reset",
    response_model=PasswordReset,
    summary="重置密码为临时密码（管理员；该用户的全部登录立即失效）",
)
def reset_password(request: Request, user_id: RowId, session: DbSession, admin: AdminUser) -> PasswordReset:
    user, temporary = accounts.reset_password(session, _actor(request, admin), user_id)
    return PasswordReset(username=user.username, temporary_password=temporary)


@router.post("/departments", response_model=DepartmentOut, status_code=201, summary="新建部门（管理员）")
def add_department(
    request: Request, body: DepartmentIn, session: DbSession, admin: AdminUser
) -> DepartmentOut:
    dept = departments.create(
        session,
        _actor(request, admin),
        code=body.code,
        name=body.name,
        short_name=body.short_name,
        kind=body.kind,
        street_code=body.street_code,
    )
    return DepartmentOut.model_validate(dept, from_attributes=True)


@router.patch(
    "/departments/{dept_id}", response_model=DepartmentOut, summary="修改部门名称或启用状态（管理员）"
)
def change_department(
    request: Request, dept_id: RowId, body: DepartmentPatch, session: DbSession, admin: AdminUser
) -> DepartmentOut:
    actor = _actor(request, admin)
    dept = departments.by_id(session, dept_id)
    if body.name is not None or body.short_name is not None:
        dept = departments.rename(
            session,
            actor,
            dept_id,
            name=body.name if body.name is not None else dept.name,
            short_name=body.short_name if body.short_name is not None else dept.short_name,
        )
    if body.active is not None:
        dept = departments.set_active(session, actor, dept_id, body.active)
    return DepartmentOut.model_validate(dept, from_attributes=True)
