"""The command center's wall screen (大屏): a full-screen dark page for the wall, refreshing itself.

Left, the map of every open case (clustered, refreshed); on top, today's flow through the loop; right, the
rotating panels. The panels are a registry: each domain declares ``WallPanel``s in its ``domain.py``
(``wall_panels``: a name, a title, a template and a ``data(session, now)`` function); the web's own are the
overdue list and the rankings. The page polls ``/wall/panel/{name}`` for each, so a new panel needs no
JavaScript.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from civicgrid import domains
from civicgrid.analytics.wall import today_flow
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.domains import WallPanel
from civicgrid.errors import NotFound
from civicgrid.models import utcnow
from civicgrid.org.roles import Principal
from civicgrid.settings import get_settings
from civicgrid.web.render import render
from civicgrid.web.session import require_web_roles

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

WALL_ROLES = ("leader", "shift_lead", "operator", "admin")
WallUser = Annotated[Principal, Depends(require_web_roles(*WALL_ROLES))]


def panels() -> list[WallPanel]:
    """Every declared panel, in order."""
    return sorted(domains.each("wall_panels"), key=lambda p: (p.order, p.name))


@cache
def _data_fn(ref: str) -> Any:
    return domains.resolve(ref)


@router.get("/wall", response_class=HTMLResponse)
def wall(request: Request, user: WallUser) -> HTMLResponse:
    s = get_settings()
    return render(
        request,
        "wall/index.html",
        panels=panels(),
        refresh_s=s.wall_refresh_s,
        rotate_s=s.wall_rotate_s,
    )


@router.get("/wall/panel/{name}", response_class=HTMLResponse)
def panel(name: str, request: Request, session: DbSession, user: WallUser) -> HTMLResponse:
    """One panel's body, rendered with fresh data (the page polls it)."""
    now = utcnow()
    if name == "flow":
        return render(request, "wall/flow.html", flow=today_flow(session, now), at=now)
    found = next((p for p in panels() if p.name == name), None)
    if found is None:
        raise NotFound(f"大屏面板不存在：{name}")
    data = _data_fn(found.data)(session, now)
    return render(request, found.template, panel=found, at=now, **data)
