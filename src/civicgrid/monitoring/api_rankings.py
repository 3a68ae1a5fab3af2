"""Monthly rankings of stations and streets over the JSON API, and as an Excel file (staff).

Mounted before ``monitoring.api`` so that ``/stations/rankings`` is not read as the station ``rankings``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.monitoring import ranking
from civicgrid.org.auth import StaffUser

router = APIRouter(prefix="/api/v1", tags=["环境监测 monitoring"], route_class=UnitOfWorkRoute)

Month = Annotated[str, Query(description="月份 YYYY-MM")]
Kind = Annotated[Literal["air", "water"], Query(description="air 空气、water 地表水")]
By = Annotated[Literal["station", "street"], Query(description="station 按站点、street 按街道")]


@router.get("/stations/rankings", summary="月度排名（站点或街道）")
def rankings(
    session: DbSession, user: StaffUser, month: Month, kind: Kind = "air", by: By = "station"
) -> dict[str, Any]:
    rows = ranking.monthly(session, month, kind, by)
    return {
        "month": month,
        "kind": kind,
        "by": by,
        "columns": [{"key": k, "label": label} for k, label in ranking.columns(kind)],
        "rows": [
            {
                "rank": r.rank,
                "key": r.key,
                "name": r.name,
                "values": r.values,
                "days": r.days,
                **(
                    {"worst_class_name": ranking.water_class_name(r.values.get("worst_class"))}
                    if kind == "water"
                    else {}
                ),
            }
            for r in rows
        ],
    }


@router.get("/stations/rankings.xlsx", summary="月度排名导出 Excel")
def rankings_xlsx(
    session: DbSession, user: StaffUser, month: Month, kind: Kind = "air", by: By = "station"
) -> Response:
    rows = ranking.monthly(session, month, kind, by)
    body = ranking.to_xlsx(rows, kind)
    name = f"station-rankings-{kind}-{by}-{month}.xlsx"
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
