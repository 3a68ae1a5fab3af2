"""The administrator's overview: what the district has (grids, departments, categories, rules, accounts,
API keys) and the newest security events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.models import (
    ApiClient,
    Area,
    Category,
    Department,
    GridGeneration,
    RoutingRule,
    SecurityEvent,
    User,
)


@dataclass(frozen=True)
class Overview:
    counts: dict[str, int]
    events: list[SecurityEvent]
    usernames: dict[int, str]


def overview(session: Session, *, events: int = 20) -> Overview:
    def count(model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    counts = {
        "grids": count(
            Area,
            Area.level == "grid",
            Area.generation_id.in_(select(GridGeneration.id).where(GridGeneration.active)),
        ),
        "departments": count(Department, Department.active.is_(True)),
        "categories": count(Category, Category.active.is_(True)),
        "routing": count(RoutingRule),
        "users": count(User, User.active.is_(True)),
        "keys": count(ApiClient, ApiClient.revoked_at.is_(None)),
    }
    newest = list(session.scalars(select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(events)))
    names = dict(session.execute(select(User.id, User.username)).tuples().all())
    return Overview(counts, newest, names)
