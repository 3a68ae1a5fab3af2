"""Cutting a TCP stream into frames: split reads, garbage between packets, endless bytes."""

from __future__ import annotations

import random

from civicgrid.monitoring.framing import Framer
from civicgrid.monitoring.hj212 import build, parse_frame

A = build(
    {"QN": "20261130100000123", "ST": "22", "CN": "2011", "PW": "1", "MN": "AIR001", "Flag": 5},
    "a34004-Rtd=80",
)
B = build(
    {"QN": "20261130100100123", "ST": "22", "CN": "2011", "PW": "1", "MN": "AIR002", "Flag": 5},
    "a34004-Rtd=81",
)


def test_frames_arrive_whole_from_byte_by_byte_reads() -> None:
    f = Framer()
    got = [frame for i in range((A + B).__len__()) for frame in f.feed((A + B)[i : i + 1])]
    assert got == [A, B] and f.garbage_bytes == 0 and f.pending == 0


def test_garbage_between_and_inside_is_skipped_and_counted() -> None:
    f = Framer()
    got = f.feed(b"\x00\xffAT+OK\r\n" + A + b"###noise" + b"##0200QN=cut-off" + B)
    assert got[0] == A and got[-1] == B and parse_frame(got[-1]).mn == "AIR002"
    assert f.garbage_bytes > 0 and f.dropped_frames == 1


def test_a_partial_start_at_the_end_of_a_read_is_kept() -> None:
    f = Framer()
    assert f.feed(b"junk#") == []
    assert f.feed(b"#") == [] and f.feed(A[2:]) == [A]


def test_endless_bytes_without_an_end_are_dropped() -> None:
    f = Framer(max_frame=1000)
    assert f.feed(b"##0100" + b"x" * 5000) == []
    assert f.pending == 0 and f.dropped_frames == 1
    assert f.feed(A) == [A]


def test_random_bytes_never_break_the_framer_and_good_packets_still_come_through() -> None:
    rng = random.Random(212)
    f = Framer()
    good = 0
    for _ in range(200):
        noise = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80)))
        for frame in f.feed(noise + A):
            try:
                parse_frame(frame)
                good += 1
            except ValueError:
                pass
    assert good >= 190
