"""The web pages (server-rendered): mounted by ``civicgrid.app`` through ``install(app)``."""

from __future__ import annotations

import importlib
import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from civicgrid import problems
from civicgrid.web.errors import WEB_PREFIXES, SecurityHeaders, render_error
from civicgrid.web.render import STATIC

log = logging.getLogger(__name__)

# Page modules of this package, then the optional ones built alongside (each has a ``router``).
PAGE_MODULES = (
    "civicgrid.web.views_auth",
    "civicgrid.web.views_citizen",
    "civicgrid.web.views_inspector",
    "civicgrid.web.views_case",
    "civicgrid.web.views_center",
    "civicgrid.web.views_dept",
    "civicgrid.web.views_api",
)
OPTIONAL_MODULES = ("civicgrid.web.views_leader", "civicgrid.web.views_admin")


def install(app: FastAPI) -> None:
    """Mount the pages, /static, the web error renderer and the security headers."""
    STATIC.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in PAGE_MODULES:
        app.include_router(importlib.import_module(module).router)
    mounted: set[str] = set()
    for module in OPTIONAL_MODULES:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        router = getattr(mod, "router", None)
        if router is not None:
            app.include_router(router)
            mounted.add("/" + module.rsplit("_", 1)[-1])
    # Optional sections present (the nav and the home redirect read it): {"/leader", "/admin"}.
    app.state.web_sections = frozenset(mounted)
    for prefix in WEB_PREFIXES:
        if not any(p == prefix for p, _ in problems.renderers):
            problems.renderers.append((prefix, render_error))
    app.add_middleware(SecurityHeaders)
