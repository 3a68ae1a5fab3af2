"""Conditions beyond the state table (e.g. approve needs a pending request). Each returns a reason or None."""

from __future__ import annotations

from collections.abc import Callable

from civicgrid.models import Case

Guard = Callable[[Case], str | None]


def _pending_extension(case: Case) -> str | None:
    return None if case.extension_requested_limit else "没有待审批的延期申请"


def _no_pending_extension(case: Case) -> str | None:
    return "已有待审批的延期申请" if case.extension_requested_limit else None


def _not_held(case: Case) -> str | None:
    return "案卷已挂账" if case.held else None


def _held(case: Case) -> str | None:
    return None if case.held else "案卷未挂账"


def _not_rated(case: Case) -> str | None:
    return "该案卷已评价" if case.rating is not None else None


def _verified_true(case: Case) -> str | None:
    if case.state == "verified" and not case.verify_confirmed:
        return "核实结果为不属实，只能作废"
    return None


def _has_department(case: Case) -> str | None:
    return None if case.department_id else "案卷没有处置部门，请派遣"


GUARDS: dict[str, tuple[Guard, ...]] = {
    "register": (_verified_true,),
    "extend": (_no_pending_extension, _not_held),
    "approve_extension": (_pending_extension,),
    "hold": (_not_held,),
    "release": (_held,),
    "rate": (_not_rated,),
    "reopen": (_has_department,),
    "sign": (_not_held,),
    "feedback": (_not_held,),
}
