"""The ASGI application: routers, error rendering, limits."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI

from civicgrid import __version__, domains, problems
from civicgrid.limits import BodyLimit
from civicgrid.ops.observe import Observe, configure_logging
from civicgrid.settings import get_settings

# Domains the core cannot run without; ``create_app(only=...)`` mounts these and the ones named.
CORE = frozenset({"org", "catalog", "geo", "sla", "classify", "cases", "security", "jobs", "ops"})


def _warm_up() -> None:
    """Build the spatial index before the first report arrives (a restarted server answers at full speed)."""
    from civicgrid.db import session_factory
    from civicgrid.errors import AppError
    from civicgrid.geo.service import active_generation, locator_for

    try:
        with session_factory(write=False)() as session:
            locator_for(session, active_generation(session).id)
    except AppError:
        pass  # no grids yet: /readyz says so


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


def create_app(only: Collection[str] | None = None) -> FastAPI:
    """The application with every registered domain mounted, or the core and the domains named in ``only``."""
    app = FastAPI(
        title="CivicGrid 城市网格治理平台",
        version=__version__,
        description="问题发现 → 快速反应 → 有效处置：城市网格化管理闭环的接口。",
        openapi_url="/openapi.json",
        docs_url="/docs",
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
    # Multipart reports carry up to nine photos.
    app.add_middleware(BodyLimit, max_bytes=get_settings().max_upload_bytes * 10)
    app.add_middleware(Observe)
    return app
