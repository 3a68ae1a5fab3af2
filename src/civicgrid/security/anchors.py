"""Signed checkpoints of the audit chains, kept outside the database (issue 11, defect 5).

A checkpoint is one JSON line ``{kind, chain, seq, head, at, alg, mac}`` appended to
``<anchor dir>/checkpoints.jsonl``: the link of row ``seq`` of ``chain`` at time ``at``, MAC'd with the audit
key. ``civicgrid audit verify`` checks every row it pins and that no chain is shorter than its newest pin, so
a chain cut back at its end (rows deleted and an old head put back) or rewritten is seen even by someone who
could copy an old signed head row. Checkpoints are written by ``civicgrid backup``, ``civicgrid audit
checkpoint`` and every ``CIVICGRID_AUDIT_CHECKPOINT_INTERVAL_MIN`` minutes by the ``audit-checkpoint`` job.

A deliberate restore of an older backup writes a signed ``restore`` line: pins of that chain beyond the
restored head are void from then on (the events after the backup were lost on purpose).

Operators should copy the anchor folder off the machine (or onto append-only storage): whoever can rewrite
both the database and this file, and holds the key, can forge anything.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.models import CaseEvent, ChainHead, SecurityEvent, utcnow
from civicgrid.security import macs
from civicgrid.security.chain import Pin, canonical, head_is_signed
from civicgrid.settings import get_settings

log = logging.getLogger("civicgrid.audit")

FILE_NAME = "checkpoints.jsonl"
FIELDS = ("kind", "chain", "seq", "head", "at", "alg")
KINDS = ("checkpoint", "restore")
CHAIN_TABLES: dict[str, Any] = {"case_events": CaseEvent, "security": SecurityEvent}


def anchor_file(anchor_dir: Path | None = None) -> Path:
    return (anchor_dir or get_settings().anchor_dir) / FILE_NAME


def _message(entry: dict[str, Any]) -> str:
    return "checkpoint\n" + canonical({k: entry[k] for k in FIELDS})


def sign(kind: str, chain: str, seq: int, head: str, at: str, alg: str, key: bytes) -> dict[str, Any]:
    entry: dict[str, Any] = {"kind": kind, "chain": chain, "seq": seq, "head": head, "at": at, "alg": alg}
    entry["mac"] = macs.mac(alg, key, _message(entry))
    return entry


def _valid(entry: Any, key: bytes) -> bool:
    if not isinstance(entry, dict) or not all(k in entry for k in (*FIELDS, "mac")):
        return False
    if entry["kind"] not in KINDS or entry["alg"] not in macs.KEYED or not isinstance(entry["seq"], int):
        return False
    return isinstance(entry["mac"], str) and macs.equal(
        entry["mac"], macs.mac(entry["alg"], key, _message(entry))
    )


@dataclass
class AnchorBook:
    """What the anchor file says, per chain: the pins still in force, and what was wrong with the file."""

    lines: int = 0
    pins: dict[str, dict[int, Pin]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_anchors(path: Path, key: bytes) -> AnchorBook:
    book = AnchorBook()
    if not path.is_file():
        return book
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            book.lines += 1
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if not _valid(entry, key):
                book.problems.append(
                    f"锚点文件第 {number} 行签名无效或无法解析（被伪造或改动，或审计密钥不符）"
                )
                continue
            pins = book.pins.setdefault(entry["chain"], {})
            seq, pin = entry["seq"], Pin(entry["seq"], entry["head"], entry["at"])
            if entry["kind"] == "restore":
                void = [s for s in pins if s > seq]
                for s in void:
                    del pins[s]
                if void:
                    book.notes.append(
                        f"{entry['chain']}：{entry['at']} 从备份恢复到第 {seq} 条，"
                        f"其后的 {len(void)} 个锚点作废"
                    )
                pins[seq] = pin
            elif seq in pins and pins[seq].head != pin.head:
                book.problems.append(
                    f"锚点文件第 {number} 行与 {pins[seq].at} 的锚点"
                    f"对 {entry['chain']} 第 {seq} 条记录的链接码不一致"
                )
            else:
                pins.setdefault(seq, pin)
    return book


def _last_entries(path: Path, tail_bytes: int = 65536) -> dict[str, dict[str, Any]]:
    """The newest entry per chain among the last lines of the file (to skip writing an unchanged head)."""
    if not path.is_file():
        return {}
    start = max(0, path.stat().st_size - tail_bytes)
    with path.open("rb") as f:
        f.seek(start)
        lines = f.read().decode("utf-8", "replace").splitlines()
    if start:
        lines = lines[1:]  # the first line read may be cut
    newest: dict[str, dict[str, Any]] = {}
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "chain" in entry:
            newest[str(entry["chain"])] = entry
    return newest


def _append(path: Path, entries: Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in entries)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, text.encode())  # one write with O_APPEND: lines of several processes never interleave
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class CheckpointResult:
    path: Path
    written: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def write_checkpoint(session: Session, *, kind: str = "checkpoint", force: bool = False) -> CheckpointResult:
    """Sign the current head of every chain and append it to the anchor file. A head whose MAC is invalid,
    or that does not match its last row, is refused (signing it would bless a forgery). Unless ``force``, a
    head already anchored as the file's newest entry for its chain is not written again."""
    key, alg = macs.audit_key(), macs.current_alg()
    result = CheckpointResult(anchor_file())
    newest = {} if force else _last_entries(result.path)
    at = utcnow().isoformat(timespec="seconds")
    for head in session.scalars(select(ChainHead).order_by(ChainHead.name)):
        table = CHAIN_TABLES.get(head.name)
        last = (
            session.execute(select(table.hash, table.link_alg).where(table.chain_seq == head.seq)).first()
            if table is not None and head.seq
            else None
        )
        if not head_is_signed(head, key) or (head.mac is None and last and last[1] != macs.LEGACY):
            result.refused.append(f"{head.name}：链尾签名无效，拒绝签发锚点（请运行 civicgrid audit verify）")
            continue
        if head.seq and (last is None or last[0] != head.last_hash):
            result.refused.append(
                f"{head.name}：链尾与最后一条记录不符，拒绝签发锚点（请运行 civicgrid audit verify）"
            )
            continue
        prior = newest.get(head.name)
        if (
            kind == "checkpoint"
            and prior
            and prior.get("seq") == head.seq
            and prior.get("head") == head.last_hash
        ):
            result.unchanged.append(head.name)
            continue
        result.written.append(sign(kind, head.name, head.seq, head.last_hash, at, alg, key))
    if result.written:
        _append(result.path, result.written)
    for problem in result.refused:
        log.error("audit checkpoint refused: %s", problem)
    return result


_due_lock = threading.Lock()
_last_run = 0.0


def checkpoint_if_due(now: float | None = None) -> CheckpointResult | None:
    """Write a checkpoint when the interval has passed since this process's last one (the ``audit-checkpoint``
    job calls this every minute). Never raises: a failed checkpoint is logged and retried on the next beat."""
    global _last_run
    minutes = get_settings().audit_checkpoint_interval_min
    now = time.monotonic() if now is None else now
    if minutes <= 0:
        return None
    with _due_lock:
        if _last_run and now - _last_run < minutes * 60:
            return None
        _last_run = now
    try:
        from civicgrid.db import unit_of_work

        with unit_of_work(write=False) as session:
            return write_checkpoint(session)
    except Exception:  # keep serving: the next beat tries again
        log.exception("audit checkpoint failed")
        with _due_lock:
            _last_run = 0.0
        return None


def run_job() -> str:
    """The periodic job (``civicgrid jobs run audit-checkpoint``): a checkpoint when one is due."""
    result = checkpoint_if_due()
    if result is None:
        return "未到检查点时间（或已关闭）"
    return f"已写入 {len(result.written)} 条检查点，{len(result.unchanged)} 条链未变"


def retire_anchor_file() -> Path | None:
    """Set the anchor file aside (kept, renamed) when its database is deliberately thrown away and rebuilt
    (``civicgrid init --force``): its checkpoints describe chains that no longer exist."""
    path = anchor_file()
    if not path.is_file():
        return None
    retired = path.with_name(f"checkpoints.{utcnow():%Y%m%d-%H%M%S}.retired.jsonl")
    path.rename(retired)
    return retired
