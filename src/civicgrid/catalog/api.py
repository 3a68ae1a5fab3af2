"""Categories (public: the citizen's form needs them)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.models import Category

router = APIRouter(prefix="/api/v1", tags=["类别 catalog"], route_class=UnitOfWorkRoute)


class CategoryOut(BaseModel):
    code: str
    kind: str
    major_code: str
    major_name: str
    name: str
    limit: str
    urgent: bool
    department_code: str | None
    register_condition: str
    close_condition: str
    keywords: list[str]


@router.get("/categories", response_model=list[CategoryOut], summary="问题类别及处置时限")
def categories(session: DbSession) -> list[CategoryOut]:
    rows = session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.code))
    return [
        CategoryOut(
            code=c.code,
            kind=c.kind,
            major_code=c.major_code,
            major_name=c.major_name,
            name=c.name,
            limit=c.limit_text,
            urgent=c.urgent,
            department_code=c.department_code,
            register_condition=c.register_condition,
            close_condition=c.close_condition,
            keywords=[k for k in c.keywords.split("|") if k],
        )
        for c in rows
    ]
