"""The roles of SPEC §2 and the principal (who is acting) that every service receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    citizen = "citizen"
    inspector = "inspector"
    operator = "operator"
    shift_lead = "shift_lead"
    dispatcher = "dispatcher"
    handler = "handler"
    leader = "leader"
    admin = "admin"
    system = "system"  # automation: auto-dispatch, sensors, the SLA sweeper


ROLE_LABELS: dict[str, str] = {
    "citizen": "市民",
    "inspector": "监督员",
    "operator": "受理员",
    "shift_lead": "值班长",
    "dispatcher": "派遣员",
    "handler": "专业部门处置人员",
    "leader": "领导",
    "admin": "管理员",
    "system": "系统",
}

# Roles that see every case of the district (the command center and the leaders).
DISTRICT_WIDE_ROLES = frozenset(
    {Role.operator, Role.shift_lead, Role.dispatcher, Role.leader, Role.admin, Role.system}
)
USER_ROLES = tuple(r.value for r in Role if r is not Role.system)


@dataclass(frozen=True)
class Principal:
    """Who is acting. Built from a user row (or the system, or an anonymous citizen) once per request."""

    user_id: int | None
    username: str
    display_name: str
    roles: frozenset[str]
    department_id: int | None = None
    grid_codes: frozenset[str] = field(default_factory=frozenset)

    def has(self, role: str) -> bool:
        return role in self.roles

    def has_any(self, roles: frozenset[str] | set[str]) -> bool:
        return bool(self.roles & roles)

    def covers_grid(self, grid_code: str) -> bool:
        """An inspector covers a grid by its code or by the code of its community or street (a prefix)."""
        return any(grid_code.startswith(code) for code in self.grid_codes)

    @property
    def label(self) -> str:
        return self.display_name or self.username


SYSTEM = Principal(user_id=None, username="system", display_name="系统", roles=frozenset({Role.system.value}))
ANONYMOUS_CITIZEN = Principal(
    user_id=None, username="anonymous", display_name="匿名市民", roles=frozenset({"citizen"})
)
