"""Login, the current user, users (admin) and departments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy import select

from civicgrid.deps import DbSession
from civicgrid.fields import Text
from civicgrid.jsonbody import JsonRoute
from civicgrid.models import Department, User
from civicgrid.org import accounts
from civicgrid.org.auth import AdminUser, CurrentLogin, CurrentUser
from civicgrid.org.login import log_in
from civicgrid.org.roles import ROLE_LABELS
from civicgrid.org.service import log_out_everywhere, revoke_token
from civicgrid.org.tokens import issue_token
from civicgrid.security import audit
from civicgrid.security.audit import Actor

router = APIRouter(prefix="/api/v1", tags=["用户与部门 org"], route_class=JsonRoute)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class MeOut(BaseModel):
    id: int | None
    username: str
    display_name: str
    roles: list[str]
    role_labels: list[str]
    department_id: int | None
    grid_codes: list[str]


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[str]
    department_id: int | None
    grid_codes: list[str]
    active: bool


class UserIn(BaseModel):
    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=8, max_length=128)
    display_name: Text = Field(default="", max_length=64)
    roles: list[Annotated[Text, Field(max_length=32)]] = Field(min_length=1, max_length=20)
    department_code: Text | None = Field(default=None, max_length=20)
    grid_codes: list[Annotated[Text, Field(max_length=32)]] = Field(default_factory=list, max_length=1000)


class DepartmentOut(BaseModel):
    id: int
    code: str
    name: str
    short_name: str
    kind: str
    street_code: str | None


@router.post("/auth/token", response_model=TokenOut, summary="登录（OAuth2 密码模式）")
async def login(
    request: Request,
    session: DbSession,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    otp: Annotated[str | None, Form(description="动态口令（已启用 TOTP 的账号必填）", max_length=10)] = None,
) -> TokenOut:
    ip = request.client.host if request.client else ""
    # The password is verified before, not inside, the short write that records the login (org/login.py).
    user = await log_in(session, form.username, form.password, ip, otp)
    token, ttl = issue_token(user.id, version=user.token_version)
    return TokenOut(access_token=token, expires_in=ttl)


@router.post("/auth/logout", status_code=204, summary="退出登录（本令牌立即失效）")
def logout(request: Request, session: DbSession, login: CurrentLogin) -> Response:
    revoke_token(session, login.claims)
    ip = request.client.host if request.client else ""
    audit.record(session, "logout", user_id=login.principal.user_id, subject=login.principal.username, ip=ip)
    return Response(status_code=204)


@router.post("/auth/logout-all", status_code=204, summary="在所有设备上退出登录（本人的全部令牌立即失效）")
def logout_all(request: Request, session: DbSession, login: CurrentLogin) -> Response:
    ip = request.client.host if request.client else ""
    log_out_everywhere(session, login.claims.user_id, ip)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut, summary="当前用户")
def me(p: CurrentUser) -> MeOut:
    return MeOut(
        id=p.user_id,
        username=p.username,
        display_name=p.display_name,
        roles=sorted(p.roles),
        role_labels=[ROLE_LABELS[r] for r in sorted(p.roles)],
        department_id=p.department_id,
        grid_codes=sorted(p.grid_codes),
    )


def user_out(u: User) -> UserOut:
    return UserOut(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        roles=sorted(u.role_names),
        department_id=u.department_id,
        grid_codes=sorted(u.grid_codes),
        active=u.active,
    )


@router.get("/users", response_model=list[UserOut], summary="用户列表（管理员）")
def users(session: DbSession, _: AdminUser) -> list[UserOut]:
    return [user_out(u) for u in session.scalars(select(User).order_by(User.id))]


@router.post("/users", response_model=UserOut, status_code=201, summary="新建用户（管理员）")
def add_user(request: Request, body: UserIn, session: DbSession, admin: AdminUser) -> UserOut:
    user = accounts.create(
        session,
        Actor(admin.user_id, request.client.host if request.client else ""),
        username=body.username,
        password=body.password,
        roles=list(body.roles),
        display_name=body.display_name,
        department_code=body.department_code,
        grid_codes=body.grid_codes,
    )
    return user_out(user)


@router.get("/departments", response_model=list[DepartmentOut], summary="部门列表")
def departments(session: DbSession) -> list[DepartmentOut]:
    rows = session.scalars(select(Department).where(Department.active.is_(True)).order_by(Department.code))
    return [DepartmentOut.model_validate(d, from_attributes=True) for d in rows]
