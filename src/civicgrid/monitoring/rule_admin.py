"""The monitoring rule table for its administrator: list the rules, change a rule's threshold, consecutive
count or whether it is on (``GET``/``PATCH /api/v1/stations/rules``, ``civicgrid station rules``).

What a rule measures, on which station kind, and which case it opens are fixed by SPEC §10; only the numbers
are the district's to set. Refused values raise ``InvalidInput`` (422) before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.errors import InvalidInput, NotFound
from civicgrid.models import StationRule, utcnow
from civicgrid.monitoring import pollutants

MAX_CONSECUTIVE = 72
#: Allowed thresholds per measure (exclusive low, inclusive high); measures absent here compare with the
#: station's own limit (its target class, its permit) and take no threshold.
THRESHOLD_RANGE: dict[str, tuple[float, float, str]] = {
    "AQI": (0.0, 500.0, "AQI 阈值应大于 0、不超过 500"),
    "silence": (0.0, 100.0, "断线阈值为上报周期的倍数，应大于 0、不超过 100"),
}
OWN_LIMIT = frozenset({"class", "permit", "fault"})
UNSET: Any = object()


def listing(session: Session) -> Sequence[StationRule]:
    return session.scalars(select(StationRule).order_by(StationRule.code)).all()


def get(session: Session, code: str) -> StationRule:
    row = session.get(StationRule, code)
    if row is None:
        raise NotFound(f"没有代码为 {code} 的监测规则")
    return row


def _check_threshold(row: StationRule, threshold: float | None) -> None:
    if row.measure in OWN_LIMIT:
        if threshold is not None:
            raise InvalidInput(f"规则「{row.label}」按站点自身的限值判断，不能设置阈值", field="threshold")
        return
    if threshold is None:
        raise InvalidInput("该规则需要阈值", field="threshold")
    low, high, message = THRESHOLD_RANGE.get(row.measure, (0.0, 1_000_000.0, "阈值应大于 0、不超过 1000000"))
    if not low < threshold <= high:
        raise InvalidInput(message, field="threshold")


def update(
    session: Session,
    code: str,
    *,
    threshold: float | None = UNSET,
    consecutive: int | None = None,
    enabled: bool | None = None,
) -> tuple[StationRule, dict[str, Any]]:
    """Change one rule; returns it and what changed ({field: [before, after]}) for the audit log."""
    row = get(session, code)
    if threshold is not UNSET:
        _check_threshold(row, threshold)
    if consecutive is not None and not 1 <= consecutive <= MAX_CONSECUTIVE:
        raise InvalidInput(f"连续次数应为 1 到 {MAX_CONSECUTIVE} 之间的整数", field="consecutive")
    changes: dict[str, Any] = {}
    for name, value in (("threshold", threshold), ("consecutive", consecutive), ("enabled", enabled)):
        if value is UNSET or (value is None and name != "threshold"):
            continue
        before = getattr(row, name)
        if before != value:
            changes[name] = [before, value]
            setattr(row, name, value)
    if changes:
        row.updated_at = utcnow()
        session.flush()
    return row, changes


def present(row: StationRule) -> dict[str, Any]:
    p = pollutants.table().get(row.measure)
    return {
        "code": row.code,
        "station_kind": row.station_kind,
        "measure": row.measure,
        "measure_name": p.name if p else row.measure,
        "window": row.window,
        "threshold": row.threshold,
        "consecutive": row.consecutive,
        "category_code": row.category_code,
        "urgent": row.urgent,
        "label": row.label,
        "enabled": row.enabled,
        "updated_at": row.updated_at.isoformat(),
    }
