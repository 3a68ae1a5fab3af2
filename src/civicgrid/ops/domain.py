"""Operations: health, readiness, metrics, backup and restore."""

from civicgrid.domains import Domain

DOMAIN = Domain(
    name="ops",
    label="运维",
    api=("civicgrid.ops.health:router",),
    commands=("civicgrid.ops.cli",),
)
