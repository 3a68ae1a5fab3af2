"""The catalog domain: problem categories, their limits, and routing rules."""

from civicgrid.domains import Domain

DOMAIN = Domain(
    name="catalog",
    label="问题类别与派遣规则",
    api=("civicgrid.catalog.api:router", "civicgrid.catalog.admin_api:router"),
    labels=("civicgrid.catalog.domain:labels",),
)


def labels() -> dict[str, list[str]]:
    import csv
    from importlib import resources

    with resources.files("civicgrid.data").joinpath("categories.csv").open(encoding="utf-8") as fh:
        return {"categories": [row["name"] for row in csv.DictReader(fh) if row.get("name")]}
