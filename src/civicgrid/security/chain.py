"""Hash chains over append-only tables: each row carries the hash of the previous row, so an edited or deleted
row breaks the chain. Appending locks the chain's head row, which serialises appends and keeps the chain
linear."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from civicgrid.models import ChainHead

GENESIS = "0" * 64


def canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def link_hash(prev_hash: str, payload: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(payload)).encode()).hexdigest()


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


def next_link(session: Session, chain: str, payload: Mapping[str, Any]) -> tuple[int, str, str]:
    """Reserve the next link of ``chain`` for ``payload``: returns (seq, prev_hash, hash) and moves the
    head."""
    head = _locked_head(session, chain)
    if head is None:
        head = ChainHead(name=chain, seq=0, last_hash=GENESIS)
        session.add(head)
        session.info[("chain_locked", chain)] = (session.get_transaction(), head)
    seq = head.seq + 1
    prev = head.last_hash
    digest = link_hash(prev, {**payload, "chain_seq": seq})
    head.seq = seq
    head.last_hash = digest
    return seq, prev, digest


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int
    problem: str


def verify_rows(
    chain: str, rows: Iterable[tuple[int, str, str, Mapping[str, Any]]], head: ChainHead | None
) -> list[ChainProblem]:
    """Check rows given as (chain_seq, prev_hash, hash, payload) in seq order against each other and the
    head."""
    problems: list[ChainProblem] = []
    expected_seq = 1
    prev = GENESIS
    for seq, prev_hash, digest, payload in rows:
        if seq != expected_seq:
            problems.append(
                ChainProblem(chain, expected_seq, f"缺失第 {expected_seq}–{seq - 1} 条记录（被删除）")
            )
        if prev_hash != prev:
            problems.append(ChainProblem(chain, seq, "前一条记录的哈希不符（前面的记录被修改或删除）"))
        if link_hash(prev_hash, {**payload, "chain_seq": seq}) != digest:
            problems.append(ChainProblem(chain, seq, "记录内容与哈希不符（被修改）"))
        prev = digest
        expected_seq = seq + 1
    if head is not None and (head.seq != expected_seq - 1 or head.last_hash != prev):
        problems.append(ChainProblem(chain, head.seq, "链尾与最后一条记录不符（末尾记录被删除）"))
    return problems
