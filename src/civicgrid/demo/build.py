"""``civicgrid init --demo``: a believable district — generated geometry for 320508 姑苏区, departments and
street offices, routing rules for every category, an account for every role, and a year of history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.catalog.routing import STREET_OFFICE
from civicgrid.catalog.service import load_reference_data
from civicgrid.demo import people
from civicgrid.demo.district import generate_demo_district
from civicgrid.demo.landmarks import add_landmarks
from civicgrid.geo.plan import DistrictPlan
from civicgrid.geo.store import store_plan
from civicgrid.models import Category, Department, RoutingRule
from civicgrid.open311.seed import seed_attributes
from civicgrid.org.service import create_user
from civicgrid.security.passwords import hash_password


@dataclass
class DemoSummary:
    streets: int
    communities: int
    grids: int
    departments: int
    categories: int
    routing_rules: int
    users: int
    cases: int = 0


def build_district(session: Session, plan: DistrictPlan | None = None) -> tuple[DistrictPlan, DemoSummary]:
    plan = plan or generate_demo_district()
    n_depts, n_cats = load_reference_data(session)
    store_plan(session, plan)
    add_landmarks(session, plan)  # the base map's schools, hospitals, parks (demo/landmarks.py)
    offices = []
    for street in plan.streets:
        office = Department(
            code="JD" + street.code[-3:],
            name=f"{street.name}办事处",
            short_name=street.name,
            kind="street_office",
            street_code=street.code,
        )
        session.add(office)
        offices.append(office)
    session.flush()
    rules = _routing_rules(session, plan)
    seed_attributes(session)  # Open311 service definitions for a few categories
    users = _users(session, plan)
    return plan, DemoSummary(
        len(plan.streets),
        len(plan.communities),
        len(plan.grids),
        n_depts + len(offices),
        n_cats,
        rules,
        users,
    )


def _routing_rules(session: Session, plan: DistrictPlan) -> int:
    depts = {d.code: d for d in session.scalars(select(Department))}
    count = 0
    for cat in session.scalars(select(Category).order_by(Category.code)):
        if cat.department_code == STREET_OFFICE or cat.department_code not in depts:
            for street in plan.streets:
                session.add(
                    RoutingRule(
                        category_code=cat.code,
                        area_code=street.code,
                        department_id=depts["JD" + street.code[-3:]].id,
                    )
                )
                count += 1
        else:
            session.add(
                RoutingRule(
                    category_code=cat.code, area_code=None, department_id=depts[cat.department_code].id
                )
            )
            count += 1
    # A district's own practice: in the old town (平江街道) greenery is looked after by the street office.
    pingjiang = plan.streets[0]
    for code in ("C0405", "E0106"):
        session.add(
            RoutingRule(
                category_code=code,
                area_code=pingjiang.code,
                department_id=depts["JD" + pingjiang.code[-3:]].id,
            )
        )
        count += 1
    session.flush()
    return count


def _users(session: Session, plan: DistrictPlan) -> int:
    accounts = list(people.STAFF)
    for i, dept in enumerate(session.scalars(select(Department).order_by(Department.code))):
        accounts.append(people.handler(dept.code, i))
    for i, street in enumerate(plan.streets):
        accounts.append(people.inspector(street.code, street.name, i))
    shared_hash = hash_password(people.DEMO_PASSWORD)
    for u in accounts:
        create_user(
            session,
            u.username,
            people.DEMO_PASSWORD,
            u.roles,
            display_name=u.display_name,
            department_code=u.department_code,
            grid_codes=u.grid_codes,
            password_hash=shared_hash,
        )
    return len(accounts)


def build_demo(
    session: Session, *, cases: int = 5000, progress: Callable[[int, int], None] | None = None
) -> DemoSummary:
    from civicgrid.demo import stations
    from civicgrid.demo.history import generate_history
    from civicgrid.demo.supervision import import_speech

    plan, summary = build_district(session)
    if progress:
        progress(0, cases)  # the district stands; the history begins
    summary.cases = generate_history(session, plan, cases, progress=progress)
    stations.build(session, plan)  # monitoring stations, their last 30 days and the sensor cases they open
    import_speech(session)  # the work-plan speech as a 督办事项 and the 督查员 account (demo/supervision.py)
    return summary
