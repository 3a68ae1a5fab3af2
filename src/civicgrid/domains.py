"""The domain registry: what each domain package adds to the house, declared in its own ``domain.py``.

A domain is one package with a ``domain.py`` that defines ``DOMAIN = Domain(...)``, plus one line in
``INSTALLED`` below. The application, the command line, the web (pages, templates, nav, error pages), the
translation catalog, the job and service runners and ``audit verify`` loop over the registry; none of them
names a domain. Declarations refer to code by ``"module:attribute"`` strings that are imported only when used,
so this module imports nothing of the project and any layer may read it without an upward import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

# Mount order: core domains first; within a domain, its routers in the order declared.
INSTALLED: tuple[str, ...] = (
    "civicgrid.org",
    "civicgrid.catalog",
    "civicgrid.geo",
    "civicgrid.sla",
    "civicgrid.classify",
    "civicgrid.notify",
    "civicgrid.cases",
    "civicgrid.security",
    "civicgrid.storage",
    "civicgrid.jobs",
    "civicgrid.open311",
    "civicgrid.evaluation",
    "civicgrid.web",
    "civicgrid.analytics",
    "civicgrid.demo",
    "civicgrid.ops",
    "civicgrid.monitoring",
    "civicgrid.supervision",
)


@dataclass(frozen=True)
class NavItem:
    """A link in the web's top bar, shown to users holding any of ``roles`` (``anonymous`` for no login)."""

    path: str
    label: str  # Chinese msgid, translated by the web's catalog
    roles: frozenset[str]
    order: int = 50  # smaller first


@dataclass(frozen=True)
class Job:
    """A periodic job. ``run`` is ``"module:function"`` taking no arguments and returning a one-line summary.

    ``every_s`` is a number of seconds or the name of a ``Settings`` attribute that holds it (0 = off).
    """

    name: str
    label: str
    run: str
    every_s: float | str


@dataclass(frozen=True)
class Service:
    """A long-running listener run in its own process by ``civicgrid services run``.

    ``run`` is ``"module:function"`` taking a ``threading.Event`` that asks it to stop; it returns when asked.
    """

    name: str
    label: str
    run: str


@dataclass(frozen=True)
class WallPanel:
    """A panel of the command center's wall screen (/wall, web/views_wall.py), shown in its rotation.

    ``template`` is a Jinja template (in the domain's ``templates`` folder) rendered with ``data`` (the
    result of ``data``, a ``"module:function(session, now)"`` returning a dict) and refreshed by polling.
    """

    name: str  # URL-safe, unique across domains
    label: str  # Chinese msgid, the panel's title
    template: str
    data: str
    order: int = 50  # smaller first


@dataclass(frozen=True)
class Domain:
    """What one package adds. Every field is optional; strings are ``"module:attribute"`` references."""

    name: str
    label: str
    api: tuple[str, ...] = ()  # APIRouters ("module:router") or modules with ``install(app)`` ("module")
    pages: tuple[str, ...] = ()  # web page routers ("module:router")
    templates: tuple[str, ...] = ()  # Jinja template folders as "package:folder"
    nav: tuple[NavItem, ...] = ()
    web_prefixes: tuple[str, ...] = ()  # paths whose errors render as web pages, not JSON problems
    commands: tuple[str, ...] = ()  # modules with ``register(app: typer.Typer)``
    jobs: tuple[Job, ...] = ()
    services: tuple[Service, ...] = ()
    sources: tuple[Any, ...] = ()  # report sources (``cases.sources.Source``)
    roles: tuple[Any, ...] = ()  # roles and their reach (``org.roles.RoleDef``)
    # event subscribers: (workflow, "module:function(session, subject, event)"), e.g. ("case", …)
    subscribers: tuple[tuple[str, str], ...] = ()
    deliveries: tuple[tuple[str, str], ...] = ()  # outbox kinds: ("kind", "module:function(target, payload)")
    labels: tuple[str, ...] = ()  # functions returning {group: [msgid, ...]} for the translation catalog
    # hash chains for ``audit verify``: "module:function(session) -> (chain name, links in order)"
    audit_chains: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()  # the domain's settings classes ("module:Class"), for the docs
    wall_panels: tuple[WallPanel, ...] = ()  # panels of the wall screen (/wall)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


_added: list[Domain] = []


@cache
def _installed() -> tuple[Domain, ...]:
    out = []
    for package in INSTALLED:
        module = importlib.import_module(f"{package}.domain")
        domain = module.DOMAIN
        if not isinstance(domain, Domain):
            raise TypeError(f"{package}.domain.DOMAIN is not a Domain")
        out.append(domain)
    return tuple(out)


def all_domains() -> tuple[Domain, ...]:
    """The installed domains in mount order, then any added at run time (plugins, tests)."""
    return (*_installed(), *_added)


def add(domain: Domain) -> None:
    """Install one more domain at run time (a plugin or a test's throwaway domain)."""
    if any(d.name == domain.name for d in all_domains()):
        raise ValueError(f"domain {domain.name!r} is already installed")
    _added.append(domain)


def remove(name: str) -> None:
    """Take back a domain added with ``add`` (tests)."""
    _added[:] = [d for d in _added if d.name != name]


def resolve(ref: str) -> Any:
    """``"package.module:attr"`` → the attribute; ``"package.module"`` → the module."""
    module, _, attr = ref.partition(":")
    mod = importlib.import_module(module)
    return getattr(mod, attr) if attr else mod


def each(kind: str) -> Iterator[Any]:
    """Every declared item of one kind across the domains, e.g. ``each("jobs")``."""
    for domain in all_domains():
        yield from getattr(domain, kind)


def callables(kind: str) -> list[Callable[..., Any]]:
    """The resolved functions of a kind whose items are references (``subscribers``, ``labels``, …)."""
    return [resolve(ref) for ref in each(kind)]
