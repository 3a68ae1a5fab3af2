"""The demo district and its simulated history (fixtures for demos and benchmarks, not production data)."""

from civicgrid.domains import Domain

DOMAIN = Domain(
    name="demo",
    label="示范数据",
    commands=("civicgrid.demo.cli",),
    labels=("civicgrid.demo.domain:labels",),
)


def labels() -> dict[str, list[str]]:
    from civicgrid.demo.district import STREETS

    return {"streets": [name for name, _x, _y in STREETS]}
