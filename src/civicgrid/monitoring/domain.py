"""The environmental monitoring domain (SPEC §10): HJ 212 packets, AQI and water class."""

from civicgrid.domains import Domain

DOMAIN = Domain(
    name="monitoring",
    label="环境监测",
    commands=("civicgrid.monitoring.cli",),
)
