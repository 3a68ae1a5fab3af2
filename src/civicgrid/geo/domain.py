"""The geography domain: grid generations, point and address location."""

from civicgrid.domains import Domain

DOMAIN = Domain(
    name="geo",
    label="网格与定位",
    api=("civicgrid.geo.api:router",),
    commands=("civicgrid.geo.cli",),
)
