"""Open311 GeoReport v2: the interoperability contract for outside clients."""

from civicgrid.domains import Domain

DOMAIN = Domain(
    name="open311",
    label="Open311 接口",
    api=("civicgrid.open311.api",),
    commands=("civicgrid.open311.cli",),
    settings=("civicgrid.open311.config:Open311Settings",),
    extra={"event_labels": {"open311_update": "外部系统更新"}},  # an update POSTed by an Open311 client
)
