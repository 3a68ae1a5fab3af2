"""长辈版 (elder-friendly mode, 适老化) of the citizen pages: large type, high contrast, fewer steps.

``?mode=elder`` turns it on and ``?mode=standard`` off; the choice is remembered in a cookie for a year.
It applies to the citizen's pages only (reporting and tracking); staff pages always use the standard layout.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request, Response

from civicgrid.web.session import set_cookie

MODE_COOKIE = "civicgrid_mode"
ELDER = "elder"
STANDARD = "standard"
MODES = (ELDER, STANDARD)
CITIZEN_PAGES = ("/report", "/track")


def citizen_page(path: str) -> bool:
    """A page where the 长辈版 switch is offered: /report, /report/done, /track, /track/<number>."""
    return any(path == p or path.startswith(p + "/") for p in CITIZEN_PAGES)


def asked(request: Request) -> str:
    """The mode this request asks for (``?mode=`` first, then the cookie)."""
    mode = request.query_params.get("mode")
    if mode in MODES:
        return str(mode)
    return ELDER if request.cookies.get(MODE_COOKIE) == ELDER else STANDARD


def active(request: Request) -> bool:
    """Whether this page renders in 长辈版."""
    return citizen_page(request.url.path) and asked(request) == ELDER


def mode_url(request: Request, mode: str) -> str:
    """This page's address switched to ``mode``."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "mode"] + [("mode", mode)]
    return f"{request.url.path}?{urlencode(params)}"


def remember(request: Request, response: Response) -> None:
    """Keep a ``?mode=`` choice in the cookie (elder), or forget it (standard)."""
    mode = request.query_params.get("mode")
    if mode == ELDER and request.cookies.get(MODE_COOKIE) != ELDER:
        set_cookie(response, MODE_COOKIE, ELDER, max_age=365 * 24 * 3600)
    elif mode == STANDARD and MODE_COOKIE in request.cookies:
        response.delete_cookie(MODE_COOKIE)
