"""What a PostgreSQL database's sessions are doing, sampled from ``pg_stat_activity`` on a thread while a load
runs: where the time goes (waiting on a lock, on the WAL flush, on the client, or working), and which
statement was waiting. A session waiting on a row lock shows the statement that asked for it, and the
statement of the session holding it (``pg_blocking_pids``)."""

from __future__ import annotations

import re
import threading
from collections import Counter

SAMPLE_SQL = """
SELECT a.state, coalesce(a.wait_event_type || ':' || a.wait_event, 'CPU/running'), a.query,
       (SELECT b.query FROM pg_stat_activity b WHERE b.pid = (pg_blocking_pids(a.pid))[1])
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.state <> 'idle'
"""


def statement(sql: str | None) -> str:
    """A short name for a statement: its verb and table (``SELECT … chain_heads FOR UPDATE``)."""
    if not sql:
        return "—"
    text = re.sub(r"\s+", " ", sql).strip()
    verb = text.split(" ", 1)[0].upper()
    m = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", text, re.IGNORECASE)
    table = m.group(1) if m else ""
    tail = " FOR UPDATE" if re.search(r"FOR UPDATE\s*$", text, re.IGNORECASE) else ""
    return f"{verb} {table}{tail}".strip()


class Sampler:
    def __init__(self, url: str, every_s: float = 0.2) -> None:
        self.dsn = url.replace("postgresql+psycopg://", "postgresql://")
        self.every_s = every_s
        self.counts: Counter[tuple[str, str, str, str]] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-wait-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop.wait(self.every_s):
                self.samples += 1
                for state, wait, query, blocker in conn.execute(SAMPLE_SQL):
                    self.counts[(state, wait, statement(query), statement(blocker) if blocker else "")] += 1

    def summary(self, top: int = 12) -> str:
        if not self.samples:
            return "(no samples)"
        total = sum(self.counts.values())
        lock_waits = sum(n for k, n in self.counts.items() if k[1].startswith("Lock:"))
        chain = sum(
            n for k, n in self.counts.items() if k[1].startswith("Lock:") and "chain_heads" in k[2] + k[3]
        )
        by_kind: Counter[str] = Counter()
        for (state, wait, _, _), n in self.counts.items():
            by_kind[state if state != "active" else f"active, {wait.split(':')[0]}"] += n
        lines = [
            f"{self.samples} samples; on average {total / self.samples:.1f} sessions busy (not idle); "
            f"{lock_waits / max(total, 1) * 100:.0f} % of busy session-samples wait on a lock, "
            f"{chain / max(total, 1) * 100:.0f} % on the chain head (chain_heads) row",
            "",
            "By state: "
            + ", ".join(f"{k} {n / max(total, 1) * 100:.0f} %" for k, n in by_kind.most_common())
            + " (idle in transaction = the app works between statements, holding its locks)",
            "",
            "| state | wait | statement | blocked by | share of busy samples |",
            "|---|---|---|---|---|",
        ]
        for (state, wait, stmt, blocker), n in self.counts.most_common(top):
            lines.append(f"| {state} | {wait} | {stmt} | {blocker or ''} | {n / total * 100:.1f} % |")
        return "\n".join(lines)
