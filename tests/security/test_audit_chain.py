"""Issue 11, defect 5: the audit chains are keyed (HMAC with a key outside the database), their heads are
MAC'd, and signed checkpoints outside the database catch a chain cut back at its end."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from builders import make_case
from civicgrid.cases.events import event_payload
from civicgrid.models import CaseEvent, ChainHead, SecurityEvent
from civicgrid.security import audit
from civicgrid.security.anchors import anchor_file, read_anchors, write_checkpoint
from civicgrid.security.audit import verify_all, verify_report
from civicgrid.security.chain import link_hash
from civicgrid.settings import get_settings


@pytest.fixture
def anchors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh anchor folder for this test (the shared one would pin rows that other tests roll back)."""
    folder = tmp_path / "anchors"
    monkeypatch.setattr(get_settings(), "audit_anchor_dir", folder)
    return folder


def _record(session: Session, n: int) -> list[SecurityEvent]:
    events = [audit.record(session, "login", subject=f"user{i}", ip="10.0.0.1") for i in range(n)]
    session.flush()
    return events


def _head(session: Session, name: str) -> ChainHead:
    head = session.get(ChainHead, name)
    assert head is not None
    return head


def test_untouched_chain_passes_with_keyed_links_and_anchor(session, anchors) -> None:
    make_case(session)
    events = _record(session, 3)
    assert {e.link_alg for e in events} == {"hmac-sha256"}
    assert [e["chain"] for e in write_checkpoint(session).written] == ["case_events", "security"]
    report = verify_report(session)
    assert report.problems == [] and report.anchors == 2


def test_edit_and_relink_with_plain_sha256_is_detected(session, anchors) -> None:
    """The attack that passed before: edit an event and recompute every later link (and the head) with plain
    SHA-256, as anyone with write access to the database can."""
    for _ in range(3):
        make_case(session)
    session.flush()
    rows = list(session.scalars(select(CaseEvent).order_by(CaseEvent.chain_seq)))
    target = rows[-3]
    session.execute(update(CaseEvent).where(CaseEvent.id == target.id).values(note="篡改"))
    session.expire_all()
    rows = list(session.scalars(select(CaseEvent).order_by(CaseEvent.chain_seq)))
    prev = target.prev_hash
    for row in (r for r in rows if r.chain_seq >= target.chain_seq):
        digest = link_hash(prev, {**event_payload(row), "chain_seq": row.chain_seq})
        session.execute(update(CaseEvent).where(CaseEvent.id == row.id).values(prev_hash=prev, hash=digest))
        prev = digest
    head = _head(session, "case_events")
    head.last_hash = prev
    session.flush()

    problems = verify_all(session)
    assert [(p.chain, p.seq) for p in problems] == [
        ("case_events", target.chain_seq),
        ("case_events", target.chain_seq + 1),
        ("case_events", target.chain_seq + 2),
        ("case_events", target.chain_seq + 2),  # the head's MAC no longer covers its link
    ]
    assert "被修改" in problems[0].problem and "没有审计密钥" in problems[0].problem
    assert "链尾签名无效" in problems[-1].problem


def test_relinked_rows_marked_as_legacy_are_refused(session, anchors) -> None:
    """Relabelling forged rows as pre-0007 legacy links does not help: the head says where legacy ended."""
    events = _record(session, 2)
    last = events[-1]
    session.execute(
        update(SecurityEvent)
        .where(SecurityEvent.id == last.id)
        .values(
            subject="someone-else",
            link_alg="sha256",
            hash=link_hash(
                last.prev_hash,
                {**audit._payload(last), "subject": "someone-else", "chain_seq": last.chain_seq},
            ),
        )
    )
    problems = verify_all(session)
    assert [(p.chain, p.seq) for p in problems][:1] == [("security", last.chain_seq)]
    assert "旧式哈希（被伪造）" in problems[0].problem


def test_head_moved_back_without_its_mac_is_detected(session, anchors) -> None:
    events = _record(session, 3)
    session.execute(delete(SecurityEvent).where(SecurityEvent.id.in_([e.id for e in events[-2:]])))
    head = _head(session, "security")
    head.seq, head.last_hash = events[0].chain_seq, events[0].hash
    session.flush()
    problems = verify_all(session)
    assert [(p.chain, p.seq, p.problem) for p in problems] == [
        ("security", events[0].chain_seq, "链尾签名无效（链尾被改动，或审计密钥不符）")
    ]
    # Passing the head off as an untouched pre-0007 head (no MAC) does not help either.
    head.mac, head.alg, head.legacy_seq = None, "sha256", head.seq
    session.flush()
    problems = verify_all(session)
    assert [(p.chain, p.seq, p.problem) for p in problems] == [
        ("security", events[0].chain_seq, "链尾签名无效（链尾被改动，或审计密钥不符）")
    ]
    assert write_checkpoint(session).refused == [
        "security：链尾签名无效，拒绝签发锚点（请运行 civicgrid audit verify）"
    ]


def test_truncation_with_a_replayed_head_is_caught_by_the_anchor(session, anchors) -> None:
    """Delete the newest events and put back an older, validly signed head row: the database alone looks
    whole, the signed checkpoint outside it does not."""
    events = _record(session, 2)
    head = _head(session, "security")
    saved = (head.seq, head.last_hash, head.alg, head.mac)
    newer = _record(session, 2)
    assert write_checkpoint(session).written
    session.execute(delete(SecurityEvent).where(SecurityEvent.id.in_([e.id for e in newer])))
    head.seq, head.last_hash, head.alg, head.mac = saved
    session.flush()

    problems = verify_all(session)
    assert [(p.chain, p.seq) for p in problems] == [("security", newer[-1].chain_seq)]
    assert problems[0].problem.startswith("链被截断：外部锚点") and (
        f"记录到第 {newer[-1].chain_seq} 条，数据库只到第 {events[-1].chain_seq} 条" in problems[0].problem
    )


def test_a_forged_anchor_line_is_reported(session, anchors) -> None:
    _record(session, 1)
    write_checkpoint(session)
    lines = anchor_file().read_text().splitlines()
    line = json.loads(lines[-1])
    forged = {**line, "seq": line["seq"] + 5}
    with anchor_file().open("a") as f:
        f.write(json.dumps(forged) + "\n")
    problems = verify_all(session)
    assert [(p.chain, p.problem) for p in problems] == [
        ("anchors", f"锚点文件第 {len(lines) + 1} 行签名无效或无法解析（被伪造或改动，或审计密钥不符）")
    ]


def test_a_different_audit_key_fails_verification(session, anchors, monkeypatch) -> None:
    _record(session, 2)
    monkeypatch.setattr(get_settings(), "audit_key", "another-key-entirely")
    problems = verify_all(session)
    assert problems and all(p.chain in ("case_events", "security") for p in problems)
    assert any("链尾签名无效" in p.problem for p in problems)


def test_legacy_links_from_before_the_upgrade_still_verify_and_are_bound(session, anchors) -> None:
    """Rows linked with plain SHA-256 before migration 0007 verify as legacy; the first keyed link covers the
    last legacy one, so rewriting the legacy prefix is still seen."""
    _record(session, 2)
    rows = list(session.scalars(select(SecurityEvent).order_by(SecurityEvent.chain_seq)))
    prev = "0" * 64
    for row in rows:  # the chain as it was before 0007 ...
        row.link_alg, row.prev_hash = "sha256", prev
        row.hash = prev = link_hash(prev, {**audit._payload(row), "chain_seq": row.chain_seq})
    head = _head(session, "security")  # ... and its head as the migration leaves it
    head.alg, head.legacy_seq, head.mac, head.last_hash = "sha256", head.seq, None, prev
    session.flush()
    assert verify_all(session) == []

    keyed = _record(session, 1)[0]
    assert keyed.link_alg == "hmac-sha256" and head.legacy_seq == rows[-1].chain_seq and head.mac
    assert verify_all(session) == []

    # Rewrite a legacy row and recompute the legacy links after it: the keyed link no longer follows.
    first = rows[0]
    first.subject = "篡改"
    prev = "0" * 64
    for row in rows:
        row.prev_hash = prev
        row.hash = prev = link_hash(prev, {**audit._payload(row), "chain_seq": row.chain_seq})
    session.flush()
    problems = verify_all(session)
    assert [(p.chain, p.seq) for p in problems] == [("security", keyed.chain_seq)]
    assert "前一条记录的链接码不符" in problems[0].problem


def test_backup_writes_a_checkpoint_and_restore_voids_the_lost_tail(tmp_path, monkeypatch) -> None:
    """``backup`` signs the heads into the anchor file before the dump; restoring that backup later writes a
    signed restore marker, so the events given up on purpose are not reported as a truncation — but the same
    file copied back by hand is."""
    from civicgrid.db import make_engine, unit_of_work
    from civicgrid.migrate import upgrade
    from civicgrid.ops.backup import backup, restore

    monkeypatch.setattr(get_settings(), "audit_anchor_dir", tmp_path / "anchors")
    db = tmp_path / "own.db"
    url = f"sqlite:///{db}"
    upgrade(url)

    def add_events(n: int) -> None:
        engine = make_engine(url)
        with unit_of_work(engine) as s:
            for i in range(n):
                audit.record(s, "login", subject=f"u{i}")
        engine.dispose()

    def problems() -> list[tuple[str, int]]:
        engine = make_engine(url)
        with unit_of_work(engine, write=False) as s:
            found = [(p.chain, p.seq) for p in verify_all(s)]
        engine.dispose()
        return found

    add_events(3)
    written = backup(url, tmp_path / "bk")
    assert written == [tmp_path / "bk.sqlite3", anchor_file()]
    book = read_anchors(anchor_file(), _key())
    assert {s: p.seq for s, p in book.pins["security"].items()} == {3: 3}
    saved = db.read_bytes()

    add_events(2)
    backup(url, tmp_path / "bk2")  # a later backup anchors seq 5
    assert problems() == []

    restore(url, tmp_path / "bk.sqlite3")  # back to seq 3 on purpose: signed as a restore
    assert problems() == []
    assert [json.loads(x)["kind"] for x in anchor_file().read_text().splitlines()] == [
        "checkpoint",
        "checkpoint",
        "restore",
    ]

    add_events(2)
    backup(url, tmp_path / "bk3")  # seq 5 again, with other links than before the restore
    for extra in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        extra.unlink(missing_ok=True)
    db.write_bytes(saved)  # the old file put back by hand: no restore marker
    assert problems() == [("security", 5)]


def _key() -> bytes:
    from civicgrid.security.macs import audit_key

    return audit_key()


BIN = Path(sys.executable).parent / "civicgrid"


def test_cli_backup_anchors_and_verify_catches_a_truncation(tmp_path: Path) -> None:
    """Through the real command line: ``backup`` writes the anchor; deleting the newest security events and
    moving the head back by SQL then fails ``audit verify`` with exit code 1 and a Chinese message."""
    env = dict(
        os.environ,
        CIVICGRID_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        CIVICGRID_DATA_DIR=str(tmp_path),
        CIVICGRID_ENV="development",
        NO_COLOR="1",
        COLUMNS="200",
    )

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        p = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=300)
        assert p.returncode == code, (args, p.stdout, p.stderr)
        return p

    run("migrate")
    for name in ("li", "wang", "zhao"):
        run("user", "add", name, "--role", "operator", "--password", "long-enough-pw")
    out = run("backup", "--out", str(tmp_path / "bk")).stdout
    assert "checkpoints.jsonl" in out
    verified = run("audit", "verify").stdout
    assert "外部锚点 1 个" in verified and "哈希链完整" in verified

    con = sqlite3.connect(tmp_path / "cli.db")
    seq, prev = con.execute(
        "SELECT chain_seq, prev_hash FROM security_events ORDER BY chain_seq DESC"
    ).fetchone()
    con.execute("DELETE FROM security_events WHERE chain_seq = ?", (seq,))
    con.execute("UPDATE chain_heads SET seq = ?, last_hash = ? WHERE name = 'security'", (seq - 1, prev))
    con.commit()
    con.close()
    failed = run("audit", "verify", code=1).stdout
    assert "链被截断：外部锚点" in failed and f"记录到第 {seq} 条，数据库只到第 {seq - 1} 条" in failed
    assert "链尾签名无效" in failed
    assert "拒绝签发锚点" in run("audit", "checkpoint", code=1).stderr
    refused = run("backup", "--out", str(tmp_path / "after"), code=1).stderr
    assert "备份已写入" in refused and "security：链尾签名无效，拒绝签发锚点" in refused
    assert (tmp_path / "after.sqlite3").is_file()


def test_migration_0007_marks_old_links_legacy_and_they_keep_verifying(tmp_path, monkeypatch) -> None:
    """Upgrade a database whose chain was written before 0007: its links are marked ``sha256``, the head
    records where legacy ends, the old rows verify, and the next append is keyed."""
    from sqlalchemy import create_engine, text

    from civicgrid.db import make_engine, unit_of_work
    from civicgrid.migrate import upgrade

    monkeypatch.setattr(get_settings(), "audit_anchor_dir", tmp_path / "anchors")
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0006_token_version")
    old = create_engine(url)
    with old.begin() as c:
        for seq in (1, 2):
            c.execute(
                text(
                    "INSERT INTO security_events"
                    " (kind, subject, data, ip, created_at, chain_seq, prev_hash, hash)"
                    " VALUES ('login', :s, '{}', '', '2026-11-01 08:00:00.000000', :seq, '', '')"
                ),
                {"s": f"old{seq}", "seq": seq},
            )
        c.execute(text("INSERT INTO chain_heads (name, seq, last_hash) VALUES ('security', 2, '')"))
    old.dispose()
    upgrade(url)

    engine = make_engine(url)
    with unit_of_work(engine) as s:  # give the old rows the plain SHA-256 links the old code wrote
        prev = "0" * 64
        for row in s.scalars(select(SecurityEvent).order_by(SecurityEvent.chain_seq)):
            assert row.link_alg == "sha256"
            row.prev_hash = prev
            row.hash = prev = link_hash(prev, {**audit._payload(row), "chain_seq": row.chain_seq})
        head = _head(s, "security")
        assert (head.alg, head.legacy_seq, head.mac) == ("sha256", 2, None)
        head.last_hash = prev
    with unit_of_work(engine) as s:
        assert verify_all(s) == []
        audit.record(s, "login", subject="new")
    with unit_of_work(engine, write=False) as s:
        assert verify_all(s) == []
        rows = s.scalars(select(SecurityEvent.link_alg).order_by(SecurityEvent.chain_seq)).all()
        assert rows == ["sha256", "sha256", "hmac-sha256"]
        assert _head(s, "security").mac is not None
    engine.dispose()


def test_scheduled_checkpoints_follow_their_interval_and_run_as_a_job(session, anchors, monkeypatch) -> None:
    import threading
    from contextlib import contextmanager

    from civicgrid import db
    from civicgrid.security import anchors as anchor_module

    @contextmanager
    def in_test_transaction(*_a, **_k):
        yield session

    monkeypatch.setattr(db, "unit_of_work", in_test_transaction)
    monkeypatch.setattr(anchor_module, "_last_run", 0.0)
    monkeypatch.setattr(get_settings(), "audit_checkpoint_interval_min", 15)
    _record(session, 1)
    first = anchor_module.checkpoint_if_due(now=10_000.0)
    assert first is not None and [e["chain"] for e in first.written][-1] == "security"
    assert anchor_module.checkpoint_if_due(now=10_000.0 + 14 * 60) is None  # not due yet
    again = anchor_module.checkpoint_if_due(now=10_000.0 + 15 * 60)
    assert again is not None and again.written == [] and "security" in again.unchanged  # head unchanged
    _record(session, 1)
    later = anchor_module.checkpoint_if_due(now=10_000.0 + 30 * 60)
    assert later is not None and [e["chain"] for e in later.written] == ["security"]
    monkeypatch.setattr(get_settings(), "audit_checkpoint_interval_min", 0)
    assert anchor_module.checkpoint_if_due(now=10_000.0 + 90 * 60) is None  # 0 = off

    # The job runner of every server process runs the checkpoint job on its beat.
    from civicgrid.domains import Job
    from civicgrid.jobs.runner import JobRunner, registered

    beat = threading.Event()
    monkeypatch.setattr(anchor_module, "checkpoint_if_due", beat.set)
    assert [j.name for j in registered(["audit-checkpoint"])] == ["audit-checkpoint"]
    fast = Job("audit-checkpoint", "审计链签名检查点", "civicgrid.security.anchors:run_job", every_s=0.01)
    runner = JobRunner([fast])
    runner.start()
    try:
        assert beat.wait(5)
    finally:
        runner.stop()


def test_on_postgresql_a_transaction_links_its_rows_at_commit(db: object) -> None:
    """The head row is locked only at commit: until then the rows carry placeholders, and after it the chain
    verifies with the rows in commit order (PostgreSQL only; SQLite links at once)."""
    from civicgrid.db import unit_of_work

    engine = db
    if engine.dialect.name != "postgresql":  # type: ignore[attr-defined]
        pytest.skip("SQLite links at once (one writer at a time)")
    with unit_of_work(engine) as s:  # type: ignore[arg-type]
        a = audit.record(s, "deferral_test", subject="a")
        b = audit.record(s, "deferral_test", subject="b")
        s.flush()
        assert (
            a.chain_seq is None and b.chain_seq is None and a.hash == ""
        )  # not linked yet: no head lock taken
        ids = (a.id, b.id)
    with unit_of_work(engine, write=False) as s:  # type: ignore[arg-type]
        first, second = (s.get(SecurityEvent, i) for i in ids)
        assert first is not None and second is not None
        assert first.chain_seq > 0 and len(first.hash) == 64
        assert (second.chain_seq, second.prev_hash) == (first.chain_seq + 1, first.hash)
        assert [p for p in verify_report(s).problems if p.chain == audit.CHAIN] == []
        head = s.get(ChainHead, audit.CHAIN)
        assert head is not None and head.seq >= second.chain_seq
