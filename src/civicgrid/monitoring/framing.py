"""Cutting a TCP byte stream into HJ 212 frames (pure; one :class:`Framer` per connection).

A frame starts at ``##`` followed by four digits and ends at the first ``\\r\\n`` after it. Bytes outside any
frame (line noise, a modem's banner, a half-sent packet before a reconnect) are skipped and counted; a frame
is looked for again from the next ``##``. A buffer that grows past the largest possible frame without an
end is dropped, so a station that sends endless bytes cannot grow the listener's memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from civicgrid.monitoring.hj212 import MAX_SEGMENT

# "##" + 4 digits + segment + 4 CRC digits + "\r\n", with room for devices that count characters.
MAX_FRAME = 6 + MAX_SEGMENT * 4 + 4 + 2
_START = re.compile(rb"##\d{4}")


@dataclass
class Framer:
    """Feed bytes as they arrive; get whole frames (each ending in ``\\r\\n`` or a bare ``\\n``)."""

    max_frame: int = MAX_FRAME
    garbage_bytes: int = 0
    dropped_frames: int = 0

    def __post_init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        frames: list[bytes] = []
        while True:
            m = _START.search(self._buf)
            if m is None:
                # Keep a trailing "#" or "##d…" that may be the start of the next frame.
                keep = _tail_candidate(self._buf)
                self.garbage_bytes += len(self._buf) - keep
                del self._buf[: len(self._buf) - keep]
                return frames
            if m.start():
                self.garbage_bytes += m.start()
                del self._buf[: m.start()]
            end = self._buf.find(b"\n", 6)
            if end < 0:
                if len(self._buf) > self.max_frame:
                    self.dropped_frames += 1
                    self.garbage_bytes += len(self._buf)
                    self._buf.clear()
                return frames
            frame = bytes(self._buf[: end + 1])
            # A frame cut short and followed by a new one: start again at the last "##dddd" inside it.
            last = None
            for inner in _START.finditer(frame, 1):
                last = inner
            if last is not None:
                self.garbage_bytes += last.start()
                self.dropped_frames += 1
                frame = frame[last.start() :]
            del self._buf[: end + 1]
            frames.append(frame)


def _tail_candidate(buf: bytearray) -> int:
    """How many trailing bytes could begin a frame ("#", "##", "##1", … "##123")."""
    for n in range(min(5, len(buf)), 0, -1):
        tail = bytes(buf[-n:])
        if tail.startswith(b"##"[: min(2, n)]) and (n <= 2 or tail[2:].isdigit()):
            return n
    return 0
