"""The roles of SPEC §2 and the principal (who is acting) that every service receives."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from civicgrid import domains


@dataclass(frozen=True)
class RoleDef:
    """A role: its code and label, whether it reaches every case, and whether a user account may hold it.

    A role's reach over cases (which cases it may read and act on) is declared beside the engine that owns the
    cases: ``cases/scope.py`` for the core roles, ``reach``/``clause`` references for a domain's own roles.
    """

    code: str
    label: str
    district_wide: bool = False
    assignable: bool = True
    reach: str | None = None  # "module:function(actor, case) -> bool"
    clause: str | None = None  # "module:function(actor) -> ColumnElement[bool]" (the same, as SQL)


CORE_ROLES: tuple[RoleDef, ...] = (
    RoleDef("citizen", "市民"),
    RoleDef("inspector", "监督员"),
    RoleDef("operator", "受理员", district_wide=True),
    RoleDef("shift_lead", "值班长", district_wide=True),
    RoleDef("dispatcher", "派遣员", district_wide=True),
    RoleDef("handler", "专业部门处置人员"),
    RoleDef("leader", "领导", district_wide=True),
    RoleDef("admin", "管理员", district_wide=True),
    # automation: auto-dispatch, sensors, the SLA sweeper
    RoleDef("system", "系统", district_wide=True, assignable=False),
)


def all_roles() -> dict[str, RoleDef]:
    """The core roles and those the domains declare (``Domain.roles``), by code."""
    roles = {r.code: r for r in CORE_ROLES}
    for r in domains.each("roles"):
        roles.setdefault(r.code, r)
    return roles


class _RoleLabels(Mapping[str, str]):
    """``ROLE_LABELS[code]``: read from the role registry each time, so a domain's roles have labels too."""

    def __getitem__(self, code: str) -> str:
        return all_roles()[code].label

    def __iter__(self) -> Iterator[str]:
        return iter(all_roles())

    def __len__(self) -> int:
        return len(all_roles())


ROLE_LABELS: Mapping[str, str] = _RoleLabels()


def user_roles() -> tuple[str, ...]:
    """Roles a user account may hold."""
    return tuple(code for code, r in all_roles().items() if r.assignable)


def district_wide_roles() -> frozenset[str]:
    """Roles that see every case of the district (the command center, the leaders, the system)."""
    return frozenset(code for code, r in all_roles().items() if r.district_wide)


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


SYSTEM = Principal(user_id=None, username="system", display_name="系统", roles=frozenset({"system"}))
ANONYMOUS_CITIZEN = Principal(
    user_id=None, username="anonymous", display_name="匿名市民", roles=frozenset({"citizen"})
)
