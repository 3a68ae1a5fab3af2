"""The demo district's people: one account per role, a handler per department, an inspector per street."""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "civicgrid2026"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department_code: str | None = None
    grid_codes: tuple[str, ...] = ()


STAFF: tuple[DemoUser, ...] = (
    DemoUser("admin", "系统管理员", ("admin",)),
    DemoUser("leader", "王区长", ("leader",)),
    DemoUser("operator", "李受理", ("operator",)),
    DemoUser("operator2", "赵受理", ("operator",)),
    DemoUser("shiftlead", "陈值班长", ("shift_lead",)),
    DemoUser("dispatcher", "周派遣", ("dispatcher",)),
    DemoUser("citizen", "张市民", ("citizen",)),
)

_SURNAMES = "刘杨黄吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"


def handler_username(department_code: str) -> str:
    return "handler_" + department_code.lower()


def inspector_username(street_code: str) -> str:
    return "inspector" + street_code[-3:]


def handler(department_code: str, i: int) -> DemoUser:
    return DemoUser(
        handler_username(department_code),
        f"{_SURNAMES[i % len(_SURNAMES)]}师傅",
        ("handler",),
        department_code,
    )


def inspector(street_code: str, street_name: str, i: int) -> DemoUser:
    return DemoUser(
        inspector_username(street_code),
        f"{_SURNAMES[(i + 7) % len(_SURNAMES)]}网格员（{street_name}）",
        ("inspector",),
        grid_codes=(street_code,),
    )
