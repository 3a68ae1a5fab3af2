"""Health, readiness, metrics, request ids, security headers and idempotent submissions."""

from __future__ import annotations

from sqlalchemy import func, select

from builders import grid_point
from civicgrid.models import Case


def test_health_ready_and_metrics(client, monkeypatch) -> None:
    from civicgrid.settings import get_settings

    monkeypatch.setattr(get_settings(), "metrics_token", "scrape-token")
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "grids": "ok", "warm_up": "ok"},
        "services": {
            "hj212": "未运行",
            "mqtt": "未运行",
            "station-simulator": "未运行",
        },  # declared, not started here
    }
    client.get("/api/v1/categories")
    m = client.get("/metrics", headers={"Authorization": "Bearer scrape-token"}).text
    assert 'civicgrid_http_requests_total{method="GET",route="/api/v1/categories",status="200"}' in m
    assert "civicgrid_cases_overdue" in m


def test_request_id_and_security_headers(client) -> None:
    r = client.get("/api/v1/categories", headers={"X-Request-ID": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert len(client.get("/healthz").headers["x-request-id"]) == 32


def test_a_retried_report_makes_one_case(client, session) -> None:
    p = grid_point(session, 7)
    body = {"description": "井盖松动", "lng": p.lng, "lat": p.lat, "category_code": "C0101"}
    before = session.scalar(select(func.count()).select_from(Case))
    first = client.post("/api/v1/reports", json=body, headers={"Idempotency-Key": "k-1"})
    again = client.post("/api/v1/reports", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert session.scalar(select(func.count()).select_from(Case)) == before + 1
    # Anonymous reporters share no identity: another body under the same key is another report with its own
    # query code, never the first one's answer (a signed-in caller gets a 422: tests/security).
    other = client.post(
        "/api/v1/reports", json={**body, "description": "别的内容"}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers
    assert other.json()["number"] != first.json()["number"]
    assert other.json()["query_code"] != first.json()["query_code"]


def test_readyz_is_not_ready_while_a_model_loads(client) -> None:
    """A process still loading its classifier at start-up answers /readyz with 503 and says why."""
    from civicgrid import warmup

    warmup.begin("classifier", "正在加载问题分类模型")
    try:
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["warm_up"] == "正在加载问题分类模型"
    finally:
        warmup.end("classifier")
    assert client.get("/readyz").status_code == 200
