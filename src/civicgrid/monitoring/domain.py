"""The environmental monitoring domain (SPEC §10): HJ 212 packets, AQI and water class."""

from civicgrid.domains import Domain, Service

DOMAIN = Domain(
    name="monitoring",
    label="环境监测",
    api=("civicgrid.monitoring.api:router",),
    commands=("civicgrid.monitoring.cli",),
    services=(Service("hj212", "HJ 212 数据接收（TCP）", "civicgrid.monitoring.service:run"),),
    settings=("civicgrid.monitoring.settings:MonitoringSettings",),
)
