"""The org domain: users, roles, departments, login and tokens."""

from civicgrid.domains import Domain

DOMAIN = Domain(
    name="org",
    label="组织与账号",
    api=("civicgrid.org.api:router", "civicgrid.org.admin_api:router"),
    commands=("civicgrid.org.cli",),
    labels=("civicgrid.org.domain:labels",),
)


def labels() -> dict[str, list[str]]:
    from civicgrid.org.roles import ROLE_LABELS

    return {"roles": list(ROLE_LABELS.values())}
