"""The service list and service definitions (one service per active category), and the admin's edit of a
category's attribute definitions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.errors import InvalidInput, NotFound
from civicgrid.models import Category
from civicgrid.open311.attributes import DefinitionError, check_definitions, load_definitions
from civicgrid.open311.errors import fail
from civicgrid.refcache import ProcessCache

UNIT_LABELS = {"h": "小时", "wh": "工作小时", "wd": "工作日", "min": "分钟"}


def limit_notice(cat: Category) -> str:
    amount = int(cat.limit_amount) if float(cat.limit_amount).is_integer() else cat.limit_amount
    urgent = "（紧急类）" if cat.urgent else ""
    return f"本类问题自派遣起 {amount} {UNIT_LABELS.get(cat.limit_unit, cat.limit_unit)}内处置{urgent}"


def service_of(cat: Category) -> dict[str, Any]:
    keywords = [k for k in (cat.keywords or "").split("|") if k]
    return {
        "service_code": cat.code,
        "service_name": cat.name,
        "description": cat.register_condition or cat.name,
        "metadata": bool(cat.attributes),
        "type": "realtime",
        "keywords": ",".join(keywords),
        "group": cat.major_name,
    }


_services: ProcessCache[None, tuple[dict[str, Any], ...]] = ProcessCache()


def services(session: Session) -> list[dict[str, Any]]:
    """One service per active category, from the process cache (see refcache.py); callers get fresh copies."""

    def load() -> tuple[dict[str, Any], ...]:
        rows = session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.code))
        return tuple(service_of(c) for c in rows)

    return [dict(s) for s in _services.get(None, load)]


def active_category(session: Session, code: str) -> Category | None:
    cat = session.get(Category, code)
    return cat if cat is not None and cat.active else None


def service_definition(session: Session, code: str) -> dict[str, Any]:
    cat = active_category(session, code)
    if cat is None:
        raise fail(404, f"未知的服务代码（service_code）：{code}")
    attrs = []
    for d in load_definitions(cat.attributes):
        item = d.model_dump(exclude={"values"})
        if d.values:
            item["values"] = [v.model_dump() for v in d.values]
        attrs.append(item)
    return {"service_code": cat.code, "attributes": attrs}


def get_attributes(session: Session, code: str) -> list[dict[str, Any]]:
    cat = session.get(Category, code)
    if cat is None:
        raise NotFound(f"类别不存在：{code}")
    return [d.model_dump() for d in load_definitions(cat.attributes)]


def set_attributes(session: Session, code: str, raw: Any) -> list[dict[str, Any]]:
    """Replace a category's attribute definitions after validating them (admin only; checked by the route)."""
    cat = session.get(Category, code)
    if cat is None:
        raise NotFound(f"类别不存在：{code}")
    try:
        defs = check_definitions(raw)
    except DefinitionError as exc:
        raise InvalidInput(str(exc), errors=exc.messages) from None
    cat.attributes = [d.model_dump() for d in defs]
    session.flush()
    return list(cat.attributes)
