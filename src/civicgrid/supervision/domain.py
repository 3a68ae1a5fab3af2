"""督查督办 (SPEC §13): directives imported into task trees, tasks tracked from 交办
to 销号, 红黄绿灯, 通报."""

from civicgrid.domains import Domain, Job
from civicgrid.org.roles import RoleDef

DOMAIN = Domain(
    name="supervision",
    label="督查督办",
    api=("civicgrid.supervision.api:router",),
    commands=("civicgrid.supervision.cli",),
    jobs=(
        Job(
            "task-colour", "督办任务亮灯（红黄绿灯）与自动催办", "civicgrid.supervision.jobs:run_job", 3600.0
        ),
    ),
    roles=(RoleDef("supervisor", "督查员"),),
    subscribers=(("supervision_task", "civicgrid.supervision.notices:on_task_event"),),
    labels=("civicgrid.supervision.domain:labels",),
    audit_chains=("civicgrid.supervision.tasks:chain_rows",),
    settings=("civicgrid.supervision.settings:SupervisionSettings",),
)


def labels() -> dict[str, list[str]]:
    from civicgrid.supervision.colour import COLOUR_LABELS
    from civicgrid.supervision.tasks import ACTION_LABELS
    from civicgrid.supervision.vocab import SOURCES, STATE_LABELS

    return {
        "supervision_states": list(STATE_LABELS.values()),
        "supervision_actions": list(ACTION_LABELS.values()),
        "supervision_sources": list(SOURCES),
        "supervision_colours": list(COLOUR_LABELS.values()),
    }
