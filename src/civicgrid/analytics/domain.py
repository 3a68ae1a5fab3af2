"""Analytics: the facts warehouse, dashboards, hotspots and exports."""

from civicgrid.domains import Domain

DOMAIN = Domain(
    name="analytics",
    label="统计分析",
    api=("civicgrid.analytics.api",),
    commands=("civicgrid.analytics.cli",),
    settings=("civicgrid.analytics.settings:AnalyticsSettings",),
)
