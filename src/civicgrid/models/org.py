"""Departments, users, their roles, their grids, and API clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civicgrid.models.base import Base, utcnow


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(40), default="")
    kind: Mapped[str] = mapped_column(String(20), default="department")  # department | street_office
    street_code: Mapped[str | None] = mapped_column(String(20))  # for a street office
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    phone_enc: Mapped[str | None] = mapped_column(String(512))
    totp_secret_enc: Mapped[str | None] = mapped_column(String(512))  # optional second factor (staff)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Carried in every token; bumping it (password reset, deactivation, role change, "log out everywhere")
    # refuses every token issued before (org/tokens.py, org/auth.py).
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    roles: Mapped[list[UserRole]] = relationship(lazy="selectin", cascade="all, delete-orphan")
    grids: Mapped[list[UserGrid]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)

    @property
    def grid_codes(self) -> frozenset[str]:
        return frozenset(g.grid_code for g in self.grids)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class UserGrid(Base):
    """A unit grid (or a whole community/street, by its code prefix) that an inspector patrols."""

    __tablename__ = "user_grids"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(20), primary_key=True)


class RevokedToken(Base):
    """A token given up before its expiry (a logout), by its ``jti``; the row may go once ``expires_at`` has
    passed, as the token is refused from then on anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ApiClient(Base):
    """An Open311 / integration client. Only a hash of the key is kept; the key is shown once."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_prefix: Mapped[str] = mapped_column(String(12), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    # A department's own work-order system: its status updates act on that department's cases as its handler.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
