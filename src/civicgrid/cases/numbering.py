"""Case numbers (案卷号): category code + yyyymmdd (local date) + a 4-digit daily sequence per category."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from civicgrid.errors import Conflict
from civicgrid.models import Counter


def bump(session: Session, name: str) -> int:
    """Atomically add one to a named counter and return the new value."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(Counter).values(name=name, value=1)
    stmt = stmt.on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
    return int(session.execute(stmt.returning(Counter.value)).scalar_one())


def next_number(session: Session, category_code: str, at: datetime, tz: str = "Asia/Shanghai") -> str:
    day = at.astimezone(ZoneInfo(tz)).strftime("%Y%m%d")
    seq = bump(session, f"case:{category_code}:{day}")
    if seq > 9999:
        raise Conflict(f"类别 {category_code} 在 {day} 的案卷号已用完（每日最多 9999 件）")
    return f"{category_code}{day}{seq:04d}"
