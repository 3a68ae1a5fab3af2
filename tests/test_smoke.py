"""The app starts, serves its OpenAPI, and the seeded district is there."""

from __future__ import annotations


def test_health_and_openapi(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert "/api/v1/reports" in spec["paths"]


def test_seeded_reference_data(client) -> None:
    cats = client.get("/api/v1/categories").json()
    assert len(cats) == 78  # SPEC §5 and the three monitoring categories (E0606–E0608)
    assert {"code": "E0102", "name": "暴露垃圾", "limit": "4wh"}.items() <= cats[
        [c["code"] for c in cats].index("E0102")
    ].items()
    streets = client.get("/api/v1/areas?level=street").json()["features"]
    assert len(streets) == 8
