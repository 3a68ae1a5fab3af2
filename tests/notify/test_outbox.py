"""The outbox: case events reach webhooks after commit, a receiver that is down gets every event once it is
back, failing deliveries are visible; inbox notices come from the subscriber and show on the bell."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import advance, auth, make_case, principal
from civicgrid.models import Notification, OutboxMessage, utcnow
from civicgrid.notify import outbox
from civicgrid.settings import get_settings

T0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


class Receiver:
    """A webhook endpoint on loopback that can be taken down and brought back on the same port."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.received: list[dict[str, Any]] = []
        self.server: HTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    r = Receiver()
    monkeypatch.setattr(get_settings(), "webhook_urls", r.url)
    yield r
    r.down()


def _unit(session: Session):  # type: ignore[no-untyped-def]
    """deliver_due's unit of work inside the test's transaction (a savepoint that 'commits')."""

    @contextmanager
    def unit() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    return unit


def _dispatched(session: Session) -> Any:
    case = make_case(session, category="C0111", now=T0)  # 燃气井盖 → handler_rq's department
    advance(session, case, [("register", "shiftlead", {}), ("dispatch", "dispatcher", {})], now=T0)
    session.flush()
    return case


def test_down_receiver_gets_every_event_once_it_is_back(session: Session, receiver: Receiver) -> None:
    case = _dispatched(session)
    advance(session, case, [("sign", "handler_rq", {})], now=T0 + timedelta(minutes=5))
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)).all()
    assert [r.payload["action"] for r in rows] == ["register", "dispatch", "sign"]
    assert {r.target for r in rows} == {receiver.url}

    # The receiver is down: three failed rounds, each pushing the next attempt further back (2 s, 4 s, 8 s).
    now = T0 + timedelta(minutes=10)
    for attempt, pause in ((1, 2), (2, 4), (3, 8)):
        before = utcnow()
        result = outbox.deliver_due(_unit(session), now=now)
        assert (result.delivered, result.failed) == (0, 3)
        row = session.get(OutboxMessage, rows[0].id)
        assert row is not None and row.delivered_at is None and row.attempts == attempt
        assert "ConnectError" in (row.last_error or "")
        assert pause <= (row.next_at - before).total_seconds() < pause + 5
        assert outbox.deliver_due(_unit(session), now=row.next_at - timedelta(seconds=1)).failed == 0
        now = row.next_at

    # Back up: the next round delivers all three, in order, exactly once.
    receiver.up()
    result = outbox.deliver_due(_unit(session), now=now)
    assert (result.delivered, result.failed) == (3, 0)
    assert [m["action"] for m in receiver.received] == ["register", "dispatch", "sign"]
    assert {m["case_number"] for m in receiver.received} == {case.number}
    assert outbox.deliver_due(_unit(session), now=now + timedelta(hours=2)).delivered == 0
    assert len(receiver.received) == 3
    assert outbox.stats(session, now).pending == 0


def test_backoff_doubles_and_is_capped() -> None:
    cap = get_settings().outbox_max_backoff_s
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert outbox.backoff(40).total_seconds() == cap


def test_failing_deliveries_are_visible_to_admins(
    client, session: Session, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _dispatched(session)
    for k in range(get_settings().outbox_failing_after):
        outbox.deliver_due(_unit(session), now=utcnow() + timedelta(hours=k))
    r = client.get("/api/v1/outbox?failing=true", headers=auth(session, "admin"))
    assert r.status_code == 200
    body = r.json()
    assert body["failing"] == 2 and body["pending"] == 2
    assert [i["case_id"] for i in body["items"]] == [case.id, case.id]
    assert client.get("/api/v1/outbox", headers=auth(session, "dispatcher")).status_code == 403

    # Retry now: due at once, and delivered when the receiver is back.
    target = body["items"][0]["id"]
    r = client.post(f"/api/v1/outbox/{target}/retry", headers=auth(session, "admin"))
    assert r.status_code == 200
    receiver.up()
    assert outbox.deliver_due(_unit(session)).delivered == 1
    assert client.post(f"/api/v1/outbox/{target}/retry", headers=auth(session, "admin")).status_code == 404

    monkeypatch.setattr(get_settings(), "metrics_token", "scrape-token")
    metrics = client.get("/metrics", headers={"Authorization": "Bearer scrape-token"}).text
    assert "civicgrid_outbox_pending 1.0" in metrics
    assert "civicgrid_outbox_failing 1.0" in metrics


def test_no_webhook_configured_writes_no_outbox_rows(session: Session) -> None:
    case = _dispatched(session)
    assert session.scalar(select(func.count()).where(OutboxMessage.case_id == case.id)) == 0


def test_notices_come_from_the_subscriber_and_show_on_the_bell(client, session: Session) -> None:
    case = _dispatched(session)
    handler = principal(session, "handler_rq")
    notices = session.scalars(
        select(Notification).where(Notification.case_id == case.id, Notification.user_id == handler.user_id)
    ).all()
    assert [(n.kind, n.title) for n in notices] == [("dispatched", f"新派遣案卷 {case.number}")]

    headers = auth(session, "handler_rq")
    mine = client.get("/api/v1/notifications", headers=headers).json()
    assert mine["unread"] >= 1 and mine["items"][0]["title"] == f"新派遣案卷 {case.number}"
    r = client.post("/api/v1/notifications/read", json={"ids": [notices[0].id]}, headers=headers)
    assert r.json() == {"marked": 1}
    assert client.get("/api/v1/notifications", headers=headers).json()["unread"] == mine["unread"] - 1


def test_the_inbox_page_and_the_admin_outbox_page(client, session: Session, receiver: Receiver) -> None:
    from civicgrid.models import User
    from civicgrid.org.tokens import issue_token

    case = _dispatched(session)
    handler = session.scalar(select(User).where(User.username == "handler_rq"))
    assert handler is not None
    client.cookies.set("civicgrid_token", issue_token(handler.id, version=handler.token_version)[0])
    page = client.get("/inbox")
    assert (
        page.status_code == 200 and f"新派遣案卷 {case.number}" in page.text and "全部标为已读" in page.text
    )
    assert client.get("/web/api/notifications/unread").json()["unread"] >= 1
    assert "data-bell" in client.get("/dept").text

    outbox.deliver_due(_unit(session), now=utcnow())  # the receiver is down: two failed rows
    admin = session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    client.cookies.set("civicgrid_token", issue_token(admin.id, version=admin.token_version)[0])
    page = client.get("/admin/outbox")
    assert page.status_code == 200 and receiver.url in page.text and "立即重试" in page.text
    client.cookies.clear()
    assert client.get("/admin/outbox", follow_redirects=False).status_code in (303, 401)
