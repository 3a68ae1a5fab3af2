"""Business vocabularies as data: categories with their limits, and routing rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.models.base import Base


class Category(Base):
    """A 部件 (C) or 事件 (E) class of SPEC §5, editable by an admin."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(1))
    major_code: Mapped[str] = mapped_column(String(2))
    major_name: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    limit_amount: Mapped[float] = mapped_column(Float)
    limit_unit: Mapped[str] = mapped_column(String(4))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    department_code: Mapped[str | None] = mapped_column(String(20))  # a department code or "@street"
    register_condition: Mapped[str] = mapped_column(Text, default="")
    close_condition: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(Text, default="")  # separated by |
    source: Mapped[str] = mapped_column(String(40), default="")
    merge_radius_m: Mapped[float] = mapped_column(Float, default=100.0)
    merge_window_h: Mapped[float] = mapped_column(Float, default=72.0)
    attributes: Mapped[list[Any]] = mapped_column(default=list)  # Open311 attribute definitions
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def limit_text(self) -> str:
        amount = int(self.limit_amount) if float(self.limit_amount).is_integer() else self.limit_amount
        return f"{amount}{self.limit_unit}"


class RoutingRule(Base):
    """category × area → department. The most specific match wins (grid > community > street > district)."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"))  # None = any category
    area_code: Mapped[str | None] = mapped_column(
        String(20)
    )  # None = whole district; else street/community/grid
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
