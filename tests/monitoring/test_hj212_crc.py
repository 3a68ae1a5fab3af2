"""The fast CRC (hj212.crc16, folded by lanes) gives exactly the digits of the standard's byte loop."""

from __future__ import annotations

import random

from civicgrid.monitoring.hj212 import crc16


def reference(data: bytes) -> int:
    """SPEC §10 word for word: init 0xFFFF; crc = (crc >> 8) ^ b; eight shifts with 0xA001."""
    crc = 0xFFFF
    for b in data:
        crc = (crc >> 8) ^ b
        for _ in range(8):
            lsb = crc & 1
            crc >>= 1
            if lsb:
                crc ^= 0xA001
    return crc


def test_every_length_up_to_600_and_long_random_data() -> None:
    rng = random.Random(212)
    lengths = [*range(0, 600), 1023, 1024, 1025, 4095, 4096, 4097, 9999, 20000]
    for n in lengths:
        data = rng.randbytes(n)
        assert crc16(data) == reference(data), n


def test_the_standard_example_and_edge_bytes() -> None:
    segment = (
        b"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
        b"CP=&&RtdInterval=30&&"
    )
    assert crc16(segment) == 0x1C80
    for data in (b"\x00", b"\xff", b"\x00" * 64, b"\xff" * 65, bytes(range(256)) * 3):
        assert crc16(data) == reference(data)
