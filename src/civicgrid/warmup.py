"""What this process is still loading at start-up (the classifier and its word segmenter: seconds of CPU).

``/readyz`` answers 503 until it is done, so a load balancer (or a test) sends staff work to a warm process;
``/healthz`` answers all along. Pure bookkeeping: the loading itself is done by ``app.py``.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_pending: dict[str, str] = {}


def begin(name: str, label: str) -> None:
    with _lock:
        _pending[name] = label


def end(name: str) -> None:
    with _lock:
        _pending.pop(name, None)


def pending() -> dict[str, str]:
    """name → what is loading (Chinese), for what has begun and not ended."""
    with _lock:
        return dict(_pending)
