"""Keyed hash chains over append-only tables (issue 11, defects 5 and 15).

Each row carries the link of the previous row and its own link, a MAC (HMAC-SHA256, or HMAC-SM3 for 国密
installations) under the audit key, which lives in the environment and never in the database: an edited row
breaks its link, and whoever can write the database but lacks the key cannot recompute the links after it.
The head row (last seq and link) carries a MAC too, so moving the head back over deleted rows is seen; a
replayed old head is caught by the signed checkpoints kept outside the database (security/anchors.py).

Rows written before migration 0007 keep their plain SHA-256 links (``link_alg = "sha256"``) and still verify:
the head records the last legacy seq (``legacy_seq``, under the head MAC), every later row must be keyed, and
the first keyed link covers the last legacy link, so the legacy prefix cannot be rewritten either.

Appending locks the chain's head row, which serialises appends and keeps the chain linear; it costs two HMACs
over a short JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from civicgrid.models import ChainHead
from civicgrid.security import macs

GENESIS = "0" * 64
MAX_PROBLEMS = 100  # per chain: a wrong key would otherwise list every row


def canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def link_hash(prev_hash: str, payload: Mapping[str, Any]) -> str:
    """The legacy (pre-0007) link: plain SHA-256, kept to verify old rows."""
    return macs.legacy_digest(prev_hash + canonical(payload))


def link_digest(alg: str, key: bytes, chain: str, prev_hash: str, payload: Mapping[str, Any]) -> str:
    if alg == macs.LEGACY:
        return link_hash(prev_hash, payload)
    return macs.mac(alg, key, f"link\n{chain}\n{prev_hash}\n{canonical(payload)}")


def head_mac(key: bytes, name: str, seq: int, last_hash: str, alg: str, legacy_seq: int) -> str:
    """The MAC of a head row, under the algorithm of its last link (HMAC-SHA256 for a legacy head)."""
    head_alg = alg if alg in macs.KEYED else "hmac-sha256"
    text = canonical(
        {"chain": name, "seq": seq, "last_hash": last_hash, "alg": alg, "legacy_seq": legacy_seq}
    )
    return macs.mac(head_alg, key, "head\n" + text)


@event.listens_for(Session, "after_soft_rollback")
def _forget_locks(session: Session, previous_transaction: object) -> None:
    """A rollback (savepoints included) may have released the head's lock: take it again next time."""
    for key in [k for k in session.info if isinstance(k, tuple) and k and k[0] == "chain_locked"]:
        del session.info[key]


def _locked_head(session: Session, chain: str) -> ChainHead | None:
    """The chain's head row, locked FOR UPDATE once per transaction (later appends reuse the held lock)."""
    key = ("chain_locked", chain)
    tx = session.get_transaction()
    held = session.info.get(key)
    if tx is not None and held is not None and held[0] is tx and held[1] is not None:
        return held[1]  # kept here too: the session's identity map holds clean rows only weakly
    head = session.execute(
        select(ChainHead).where(ChainHead.name == chain).with_for_update()
    ).scalar_one_or_none()
    session.info[key] = (session.get_transaction(), head)
    return head


class Linked(Protocol):
    chain_seq: int
    prev_hash: str
    hash: str
    link_alg: str


def link_row(session: Session, chain: str, row: Linked, payload: Mapping[str, Any]) -> None:
    """Link ``row`` (whose fields ``payload`` holds) as the next row of ``chain`` and move the signed head.

    On PostgreSQL a session that owns its transaction links at commit instead (``_link_at_commit``): the row
    is written with an empty link, and the head row is locked only for the last moment of the
    transaction, not from the first append of a request to its end — every writer of the district queues on
    that one row. Elsewhere (SQLite, with one writer at a time anyway; a test's session inside an outside
    transaction) the row is linked at once."""
    if _defers(session):
        pending = session.info.setdefault("chain_pending", [])
        pending.append((chain, row, dict(payload)))
        # No position until commit (NULL is allowed for that moment only, and never taken by a link).
        row.chain_seq = None  # type: ignore[assignment]
        row.prev_hash, row.hash, row.link_alg = "", "", macs.current_alg()
        return
    _link_now(session, chain, row, payload)


def _defers(session: Session) -> bool:
    bind = session.bind
    return isinstance(bind, Engine) and bind.dialect.name == "postgresql"


@event.listens_for(Session, "before_commit")
def _link_at_commit(session: Session) -> None:
    """Link the rows appended in this transaction, in order, holding each head row only from here to the
    commit; SQLAlchemy flushes the links with the commit."""
    pending = session.info.pop("chain_pending", None)
    if not pending:
        return
    session.flush()  # the rows exist (with empty links) before their links move the heads
    for chain, row, payload in pending:
        _link_now(session, chain, row, payload)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop("chain_pending", None)


def _link_now(session: Session, chain: str, row: Linked, payload: Mapping[str, Any]) -> None:
    alg = macs.current_alg()
    key = macs.audit_key()
    head = _locked_head(session, chain)
    if head is None:
        head = ChainHead(name=chain, seq=0, last_hash=GENESIS, alg=alg, legacy_seq=0)
        session.add(head)
        session.info[("chain_locked", chain)] = (session.get_transaction(), head)
    seq = head.seq + 1
    prev = head.last_hash
    digest = link_digest(alg, key, chain, prev, {**payload, "chain_seq": seq})
    head.seq, head.last_hash, head.alg = seq, digest, alg
    head.mac = head_mac(key, chain, seq, digest, alg, head.legacy_seq or 0)
    row.chain_seq, row.prev_hash, row.hash, row.link_alg = seq, prev, digest, alg


def head_is_signed(head: ChainHead, key: bytes) -> bool:
    """The head's MAC is valid (or the head is still the untouched legacy head of migration 0007: then no
    keyed row may exist, which the callers check)."""
    if head.mac is None:
        return head.seq == head.legacy_seq and head.alg == macs.LEGACY
    expected = head_mac(key, head.name, head.seq, head.last_hash, head.alg, head.legacy_seq)
    return macs.equal(head.mac, expected)


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int
    problem: str


@dataclass(frozen=True)
class Pin:
    """A signed checkpoint from outside the database: the link of row ``seq`` at time ``at``."""

    seq: int
    head: str
    at: str


class _Problems:
    def __init__(self, chain: str) -> None:
        self.chain = chain
        self.items: list[ChainProblem] = []
        self.dropped = 0

    def add(self, seq: int, problem: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(ChainProblem(self.chain, seq, problem))
        else:
            self.dropped += 1

    def result(self) -> list[ChainProblem]:
        if self.dropped:
            self.items.append(ChainProblem(self.chain, 0, f"另有 {self.dropped} 处问题未逐条列出"))
        return self.items


def verify_rows(
    chain: str,
    rows: Iterable[tuple[int, str, str, str, Mapping[str, Any]]],
    head: ChainHead | None,
    pins: Mapping[int, Pin] | None = None,
    key: bytes | None = None,
) -> list[ChainProblem]:
    """Check rows given as (chain_seq, prev_hash, hash, link_alg, payload) in seq order against each other,
    the signed head and the checkpoints (``pins``, by seq) kept outside the database."""
    key = macs.audit_key() if key is None else key
    pins = pins or {}
    found = _Problems(chain)
    legacy_seq = head.legacy_seq if head is not None else 0
    expected_seq = 1
    prev = GENESIS
    keyed = False
    for seq, prev_hash, digest, alg, payload in rows:
        keyed = keyed or alg != macs.LEGACY
        if seq != expected_seq:
            found.add(expected_seq, f"缺失第 {expected_seq}–{seq - 1} 条记录（被删除）")
        if prev_hash != prev:
            found.add(seq, "前一条记录的链接码不符（前面的记录被修改或删除）")
        if alg not in macs.ALGORITHMS:
            found.add(seq, f"未知的链接算法“{alg}”（被篡改）")
        elif alg == macs.LEGACY and seq > legacy_seq:
            found.add(seq, f"升级后（第 {legacy_seq} 条之后）的记录使用了不带密钥的旧式哈希（被伪造）")
        elif not macs.equal(link_digest(alg, key, chain, prev_hash, {**payload, "chain_seq": seq}), digest):
            found.add(seq, "记录内容与链接码不符（被修改，或在没有审计密钥的情况下重算了链接）")
        pin = pins.get(seq)
        if pin is not None and pin.head != digest:
            found.add(seq, f"与外部锚点不符：该记录在 {pin.at} 签名锚定之后被改写")
        prev = digest
        expected_seq = seq + 1
    last = expected_seq - 1
    if head is None:
        if last:
            found.add(last, "缺少链尾记录（链尾被删除）")
    else:
        if head.seq != last or head.last_hash != prev:
            found.add(head.seq, "链尾与最后一条记录不符（末尾记录被删除）")
        if not head_is_signed(head, key) or (head.mac is None and keyed):
            found.add(head.seq, "链尾签名无效（链尾被改动，或审计密钥不符）")
    if pins:
        newest = pins[max(pins)]
        if newest.seq > last:
            found.add(
                newest.seq,
                f"链被截断：外部锚点（{newest.at}）记录到第 {newest.seq} 条，数据库只到第 {last} 条"
                "（末尾记录被删除、链尾被移回）",
            )
    return found.result()
