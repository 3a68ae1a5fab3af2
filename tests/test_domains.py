"""The domain registry: a throwaway domain installed at run time shows its route, page, nav item, command
and job without any shared file knowing it."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicgrid import domains

FILES = {
    "__init__.py": "",
    "domain.py": """
        from civicgrid.cases.sources import Source
        from civicgrid.domains import Domain, Job, NavItem
        from civicgrid.org.roles import RoleDef

        DOMAIN = Domain(
            name="throwaway",
            label="试验领域",
            api=("throwaway_pkg.api:router",),
            pages=("throwaway_pkg.pages:router",),
            templates=("throwaway_pkg:templates",),
            nav=(NavItem("/throwaway", "试验页面", frozenset({"anonymous", "citizen"}), order=70),),
            web_prefixes=("/throwaway",),
            commands=("throwaway_pkg.cli",),
            jobs=(Job("throwaway-job", "试验任务", "throwaway_pkg.jobs:run", every_s=0.05),),
            roles=(
                RoleDef(
                    "tester", "试验员", reach="throwaway_pkg.scope:reach", clause="throwaway_pkg.scope:clause"
                ),
            ),
            sources=(Source("probe", "试验探头", frozenset({"tester"}), trusted=True, dedupe="none"),),
        )
    """,
    "scope.py": """
        from civicgrid.models import Case

        def reach(actor, case):  # a tester reaches the 暴露垃圾 cases
            return case.category_code == "E0102"

        def clause(actor):
            return Case.category_code == "E0102"
    """,
    "api.py": """
        from fastapi import APIRouter

        router = APIRouter(prefix="/api/v1/throwaway")

        @router.get("/ping")
        def ping() -> dict[str, str]:
            return {"pong": "试验"}
    """,
    "pages.py": """
        from fastapi import APIRouter, Request
        from fastapi.responses import HTMLResponse

        from civicgrid.web.render import render
        from civicgrid.web.session import OptionalWebUser

        router = APIRouter(include_in_schema=False)

        @router.get("/throwaway")
        def page(request: Request, user: OptionalWebUser) -> HTMLResponse:
            return render(request, "throwaway.html", word="试验页面正文")
    """,
    "templates/throwaway.html": """
        {% extends "base.html" %}
        {% block content %}<p id="word">{{ word }}</p>{% endblock %}
    """,
    "cli.py": """
        import typer

        def hello() -> None:
            \"\"\"试验命令。\"\"\"
            typer.echo("试验命令已运行")

        def register(app: typer.Typer) -> None:
            app.command("throwaway-hello")(hello)
    """,
    "jobs.py": """
        RUNS: list[int] = []

        def run() -> str:
            RUNS.append(1)
            return f"第 {len(RUNS)} 次"
    """,
}


@pytest.fixture
def throwaway(tmp_path: Path) -> Iterator[domains.Domain]:
    pkg = tmp_path / "throwaway_pkg"
    for name, text in FILES.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    from civicgrid.web import render

    module = importlib.import_module("throwaway_pkg.domain")
    domains.add(module.DOMAIN)
    render.environment.cache_clear()
    try:
        yield module.DOMAIN
    finally:
        domains.remove("throwaway")
        render.environment.cache_clear()
        import civicgrid.cli

        importlib.reload(civicgrid.cli)  # its commands again without the throwaway's
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("throwaway_pkg")]:
            del sys.modules[name]


def test_every_installed_package_declares_a_domain() -> None:
    names = [d.name for d in domains.all_domains()]
    assert len(names) == len(set(names)) == len(domains.INSTALLED)
    assert {"cases", "web", "notify", "jobs", "ops"} <= set(names)


def test_a_throwaway_domain_shows_its_route_page_nav_command_and_job(throwaway, session) -> None:
    from fastapi.testclient import TestClient

    from civicgrid.app import create_app

    with TestClient(create_app()) as client:
        assert client.get("/api/v1/throwaway/ping").json() == {"pong": "试验"}
        page = client.get("/throwaway")
        assert page.status_code == 200 and '<p id="word">试验页面正文</p>' in page.text
        report = client.get("/report").text  # the nav of every page for citizens shows the new item
        assert '<a href="/throwaway">试验页面</a>' in report
        missing = client.get("/throwaway/nothing-here")
        assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]

    import civicgrid.cli

    cli = importlib.reload(civicgrid.cli)
    result = CliRunner().invoke(cli.app, ["throwaway-hello"])
    assert result.exit_code == 0 and "试验命令已运行" in result.output
    listed = CliRunner().invoke(cli.app, ["jobs", "list"])
    assert "throwaway-job" in listed.output and "试验任务" in listed.output
    ran = CliRunner().invoke(cli.app, ["jobs", "run", "throwaway-job"])
    assert ran.exit_code == 0 and "throwaway-job：第 1 次" in ran.output


def test_the_job_runner_runs_the_declared_job_on_its_beat(throwaway) -> None:
    import time

    from civicgrid.jobs.runner import JobRunner, registered

    runner = JobRunner(registered(["throwaway-job"]), tick_s=0.01)
    runner.start()
    try:
        deadline = time.monotonic() + 5
        while runner.status["throwaway-job"].runs < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        runner.stop()
    st = runner.status["throwaway-job"]
    assert st.runs >= 3 and st.failures == 0 and st.last_summary.startswith("第 ")


def test_unknown_names_are_clear_errors() -> None:
    from civicgrid.cli import app

    result = CliRunner().invoke(app, ["jobs", "run", "no-such-job"])
    assert result.exit_code == 2 and "没有这个定时任务：no-such-job" in result.output
    result = CliRunner().invoke(app, ["services", "run", "no-such-service"])
    assert result.exit_code == 2 and "没有这个服务：no-such-service" in result.output


def test_a_domain_adds_a_role_with_its_reach_and_a_source(throwaway, session) -> None:
    from sqlalchemy import func, select

    from builders import make_case
    from civicgrid.cases import sources
    from civicgrid.cases.scope import readable_cases, role_in_scope
    from civicgrid.errors import Forbidden
    from civicgrid.models import Case
    from civicgrid.org.roles import ROLE_LABELS, Principal, user_roles

    tester = Principal(user_id=None, username="t", display_name="试验员甲", roles=frozenset({"tester"}))
    assert ROLE_LABELS["tester"] == "试验员" and "tester" in user_roles()
    mine, other = make_case(session, category="E0102"), make_case(session, category="C0111")
    assert role_in_scope(tester, "tester", mine) and not role_in_scope(tester, "tester", other)
    seen = session.scalar(select(func.count()).select_from(Case).where(readable_cases(tester)))
    everything_e0102 = session.scalar(select(func.count()).where(Case.category_code == "E0102"))
    assert seen == everything_e0102 >= 1

    assert sources.check_claim(tester, "probe").label == "试验探头" and sources.trusted("probe")
    citizen = Principal(user_id=None, username="c", display_name="市民", roles=frozenset({"citizen"}))
    with pytest.raises(Forbidden, match="您不能以「试验探头」来源上报"):
        sources.check_claim(citizen, "probe")
