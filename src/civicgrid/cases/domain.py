"""The case engine: intake, the closed loop's transition function, and the case API."""

from civicgrid.domains import Domain

DOMAIN = Domain(
    name="cases",
    label="案卷闭环",
    api=("civicgrid.cases.api:router",),
    labels=("civicgrid.cases.domain:labels",),
    audit_chains=("civicgrid.cases.events:chain_rows",),
)


def labels() -> dict[str, list[str]]:
    from civicgrid.cases.sources import all_sources
    from civicgrid.cases.states import ACTION_LABELS, CLOSE_TYPE_LABELS, STATE_LABELS

    return {
        "states": list(STATE_LABELS.values()),
        "actions": list(ACTION_LABELS.values()),
        "sources": [s.label for s in all_sources().values()],
        "close_types": list(CLOSE_TYPE_LABELS.values()),
    }
