"""Rendering pages: one Jinja2 environment, and ``render(request, "x.html", **ctx)``, which adds what
every page needs.

Every template receives: ``request``, ``user`` (the Principal or None), ``_`` (translate, with
``{name}`` values), ``lang``, ``csrf_token``, ``csrf_field`` (the hidden input, ready to print),
``tile_url``, ``tile_host``, ``nav`` (links for the user's roles), ``flashes``, ``static(path)``, ``now``,
``timeleft(due)``, ``lang_url(lang)``, ``path``; filters ``dt``, ``date``, ``state_label``,
``action_label``, ``role_label``.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from civicgrid.cases.states import ACTION_LABELS, STATE_LABELS
from civicgrid.domains import NavItem
from civicgrid.models import utcnow
from civicgrid.org.roles import ROLE_LABELS, Principal
from civicgrid.settings import get_settings
from civicgrid.web import elder, i18n
from civicgrid.web.session import (
    CSRF_FIELD,
    LANG_COOKIE,
    clear_taken_flashes,
    csrf_token,
    ensure_csrf_cookie,
    set_cookie,
    take_flashes,
)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def _domain_templates() -> list[BaseLoader]:
    """Template folders that domains declare ("package:folder"), searched after the web's own."""
    from importlib import resources

    from civicgrid import domains

    out: list[BaseLoader] = []
    for ref in domains.each("templates"):
        package, _, folder = ref.partition(":")
        out.append(FileSystemLoader(str(resources.files(package).joinpath(folder or "templates"))))
    return out


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), *_domain_templates()]),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dt"] = format_dt
    env.filters["date"] = format_date
    env.filters["state_label"] = lambda s: STATE_LABELS.get(str(s), str(s))
    env.filters["action_label"] = lambda a: ACTION_LABELS.get(str(a), str(a))
    env.filters["role_label"] = lambda r: ROLE_LABELS.get(str(r), str(r))
    return env


def local(value: datetime) -> datetime:
    return value.astimezone(ZoneInfo(get_settings().timezone))


def format_dt(value: datetime | None) -> str:
    return local(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def format_date(value: datetime | None) -> str:
    return local(value).strftime("%Y-%m-%d") if value else "—"


def minutes_text(minutes: int, lang: str) -> str:
    """A duration in words: 35 分钟, 2 小时 5 分, 3 天 4 小时."""
    _ = i18n.gettext_for(lang)
    m = abs(minutes)
    if m < 60:
        return _("{m} 分钟", m=m)
    if m < 24 * 60:
        return _("{h} 小时 {m} 分", h=m // 60, m=m % 60)
    return _("{d} 天 {h} 小时", d=m // 1440, h=(m % 1440) // 60)


def time_left(due: datetime | None, now: datetime, lang: str) -> str:
    """Time left before ``due`` ("剩余 …"), or how late ("超时 …")."""
    _ = i18n.gettext_for(lang)
    if due is None:
        return "—"
    minutes = int((due - now).total_seconds() // 60)
    if minutes >= 0:
        return _("剩余 {t}", t=minutes_text(minutes, lang))
    return _("超时 {t}", t=minutes_text(minutes, lang))


def mounted_nav(request: Request) -> tuple[NavItem, ...]:
    """The nav items of the domains mounted on this application (``app.state.nav``, set by ``create_app``)."""
    return tuple(getattr(request.app.state, "nav", ()))


def mounted_sections(request: Request) -> frozenset[str]:
    """The page sections this application serves (the paths of its nav items, e.g. "/leader")."""
    return frozenset(item.path for item in mounted_nav(request))


def nav_for(request: Request, user: Principal | None) -> list[NavItem]:
    roles = set(user.roles) if user else {"anonymous"}
    seen: set[str] = set()
    out = []
    for item in sorted(mounted_nav(request), key=lambda i: i.order):
        if not (item.roles & roles) or item.path in seen:
            continue
        seen.add(item.path)
        out.append(item)
    return out


def lang_url(request: Request, lang: str) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return f"{request.url.path}?{urlencode(params)}"


@cache
def _static_version() -> str:
    newest = max(
        (p.stat().st_mtime for p in STATIC.rglob("*") if p.is_file() and "vendor" not in p.parts), default=0
    )
    return str(int(newest))


def static_url(path: str) -> str:
    return f"/static/{path.lstrip('/')}?v={_static_version()}"


def tile_host() -> str:
    """The tile service's origins for the CSP's img-src (one per {s} subdomain), '' without tiles."""
    s = get_settings()
    url = s.tiles_url
    if not url:
        return ""
    from urllib.parse import urlsplit

    hosts = []
    for sub in s.map_tiles_subdomains or "abc":
        filled = url.replace("{s}", sub).replace("{z}", "0").replace("{x}", "0").replace("{y}", "0")
        parts = urlsplit(filled)
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" not in hosts:
            hosts.append(f"{parts.scheme}://{parts.netloc}")
    return " ".join(hosts)


def map_settings() -> dict[str, Any]:
    """What static/js/map.js reads from the page's <meta> tags (partials/map_head.html)."""
    s = get_settings()
    return {
        "tiles": s.tiles_url,
        "attribution": s.map_tiles_attribution,
        "crs": s.map_tiles_crs,
        "subdomains": s.map_tiles_subdomains,
        "max_zoom": s.map_tiles_max_zoom,
    }


def context(request: Request, **ctx: Any) -> dict[str, Any]:
    lang = i18n.request_lang(request)
    _ = i18n.gettext_for(lang)
    user: Principal | None = getattr(request.state, "principal", None)
    token = csrf_token(request)
    base: dict[str, Any] = {
        "request": request,
        "user": user,
        "lang": lang,
        "_": _,
        "csrf_token": token,
        "csrf_field": Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">'),
        "tile_url": get_settings().tiles_url,
        "tile_host": tile_host(),
        "map_settings": map_settings(),
        "nav": nav_for(request, user),
        "flashes": [
            (level, _(text, **{k: _(v) if isinstance(v, str) else v for k, v in values.items()}))
            for level, text, values in take_flashes(request)
        ],
        "static": static_url,
        "now": utcnow(),
        "lang_url": lambda target: lang_url(request, target),
        "timeleft": lambda due: time_left(due, utcnow(), lang),
        "path": request.url.path,
        # 长辈版 of the citizen pages (web/elder.py): the switch is offered where citizen_page is true.
        "elder": elder.active(request),
        "citizen_page": elder.citizen_page(request.url.path),
        "mode_url": lambda mode: elder.mode_url(request, mode),
    }
    base.update(ctx)
    return base


def render(request: Request, template: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    """Render a page with the common context, set the CSRF and language cookies, and clear shown flashes."""
    html = environment().get_template(template).render(context(request, **ctx))
    response = HTMLResponse(html, status_code=status_code)
    ensure_csrf_cookie(request, response)
    clear_taken_flashes(request, response)
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS and request.cookies.get(LANG_COOKIE) != asked:
        set_cookie(response, LANG_COOKIE, str(asked), max_age=365 * 24 * 3600)
    elder.remember(request, response)
    return response
