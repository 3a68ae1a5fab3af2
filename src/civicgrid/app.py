"""The ASGI application: routers, error rendering, limits."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI

from civicgrid import __version__, domains, problems, warmup
from civicgrid.jsonbody import JsonBody
from civicgrid.limits import BodyLimit
from civicgrid.ops.observe import Observe, configure_logging
from civicgrid.org.csrf import CsrfGuard
from civicgrid.settings import get_settings

# Domains the core cannot run without; ``create_app(only=...)`` mounts these and the ones named.
CORE = frozenset({"org", "catalog", "geo", "sla", "classify", "cases", "security", "jobs", "ops"})


def _warm_up() -> None:
    """Build the spatial index before the first report arrives (a restarted server answers at full speed, and
    no report builds it while it holds SQLite's write turn)."""
    from sqlalchemy.exc import SQLAlchemyError

    from civicgrid.db import session_factory
    from civicgrid.errors import AppError
    from civicgrid.geo.service import active_generation, locator_for

    try:
        with session_factory(write=False)() as session:
            locator_for(session, active_generation(session).id)
    except (AppError, SQLAlchemyError):
        pass  # no grids yet, or not migrated yet: /readyz says so


def _warm_classifier() -> None:
    """Load the classifier (and, with its first prediction, the word segmenter: seconds) in the background,
    so the first report without a category does not load it while it holds the write turn, and start-up is
    not delayed by it."""
    try:
        from civicgrid.classify.model import Classifier

        Classifier.load().predict_one("井盖缺失")
    except (ImportError, OSError):
        pass  # intake classifies without it (cases/intake.py)
    finally:
        warmup.end("classifier")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the periodic jobs beside the server (every process may run them: each job takes a lock or claims
    rows, so work is done once)."""
    s = get_settings()
    configure_logging(s.log_json)
    if s.env != "test":
        _warm_up()
        # Everything loaded at start-up (the models, the spatial index, the classifier) leaves the garbage
        # collector's sight: a full collection then walks only what requests allocate, instead of pausing a
        # worker for ~100 ms, perhaps while it holds SQLite's write lock (docs/benchmarks.md, load test).
        gc.collect()
        gc.freeze()
        warmup.begin("classifier", "正在加载问题分类模型")  # /readyz: 503 until loaded
        threading.Thread(target=_warm_classifier, name="civicgrid-warm-classifier", daemon=True).start()
    # Database work runs on a few threads per process: Python runs one thread at a time, and a writer holding
    # SQLite's write lock should not wait behind many readers of its own process (docs/deployment.md).
    anyio.to_thread.current_default_thread_limiter().total_tokens = s.threads_per_worker
    runner = None
    if s.env != "test":
        from civicgrid.jobs.runner import JobRunner

        runner = JobRunner()  # the SLA sweeper, the outbox and every other declared job
        runner.start()
        app.state.jobs = runner
    yield
    if runner is not None:
        runner.stop()


def _install_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc with their scripts, styles and icon from /static/vendor (the npm lock
    file's copies): the pages work on an intranet without any CDN, and load no web fonts."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import HTMLResponse

    vendor = "/static/vendor"
    if not any(getattr(route, "path", None) == "/static" for route in app.routes):
        # An app without the web pages still serves the docs' own assets.
        from fastapi.staticfiles import StaticFiles

        from civicgrid.web.render import STATIC

        app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    title = f"{app.title} · 接口文档"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            swagger_js_url=f"{vendor}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/img/logo.svg",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            redoc_js_url=f"{vendor}/redoc/redoc.standalone.js",
            redoc_favicon_url="/static/img/logo.svg",
            with_google_fonts=False,
        )
        # Redoc's "API docs by Redocly" badge is an image on cdn.redoc.ly: images come from us only.
        page.headers["Content-Security-Policy"] = "img-src 'self' data:"
        return page


def create_app(only: Collection[str] | None = None) -> FastAPI:
    """The application with every registered domain mounted, or the core and the domains named in ``only``."""
    app = FastAPI(
        title="CivicGrid 城市网格治理平台",
        version=__version__,
        description="问题发现 → 快速反应 → 有效处置：城市网格化管理闭环的接口。",
        openapi_url="/openapi.json",
        docs_url=None,  # served by _install_docs from our own origin (an intranet has no CDN)
        redoc_url=None,
        lifespan=lifespan,
        responses=problems.PROBLEM_RESPONSES,
    )
    problems.install(app)
    mounted = tuple(d for d in domains.all_domains() if only is None or d.name in CORE or d.name in only)
    app.state.domains = mounted
    app.state.nav = tuple(item for d in mounted for item in d.nav)
    for domain in mounted:
        for ref in (*domain.api, *domain.pages):
            target = domains.resolve(ref)
            if isinstance(target, APIRouter):
                app.include_router(target)
            else:
                target.install(app)  # a module that mounts routes, error renderers or middleware
    _install_docs(app)
    # JSON and form bodies get a small limit and a strict parse (off the event loop when large).
    app.add_middleware(
        JsonBody, max_bytes=get_settings().max_json_bytes, inline_bytes=get_settings().json_inline_bytes
    )
    # Multipart reports carry up to nine photos.
    app.add_middleware(BodyLimit, max_bytes=get_settings().max_upload_bytes * 10)
    # Cross-site requests to /api and /open311 are refused before any body is read (org/csrf.py).
    app.add_middleware(CsrfGuard)
    app.add_middleware(Observe)
    return app
