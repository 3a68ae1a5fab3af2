"""The web's shared parts, mounted by ``civicgrid.app`` through ``install(app)``: /static, the error pages for
the web path prefixes that the domains declare, and the security headers. Page routers come from the domain
registry (``Domain.pages``)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from civicgrid import domains, problems
from civicgrid.web.errors import SecurityHeaders, render_error
from civicgrid.web.render import STATIC


def install(app: FastAPI) -> None:
    """Mount /static, the web error renderer and the security headers."""
    STATIC.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    mounted = getattr(app.state, "domains", domains.all_domains())
    for prefix in (p for d in mounted for p in d.web_prefixes):
        if not any(p == prefix for p, _ in problems.renderers):
            problems.renderers.append((prefix, render_error))
    app.add_middleware(SecurityHeaders)
