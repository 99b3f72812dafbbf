"""TFRecord framing, as TensorFlow's io::RecordWriter / SequentialRecordReader lay it out (uncompressed).

Each record: uint64 little-endian payload length, uint32 masked CRC32C of those 8 bytes, the payload,
uint32 masked CRC32C of the payload. CRC32C comes from google-crc32c (C, hardware-accelerated) when it is
installed, else from a table here: same values, much slower on large files.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import BinaryIO

with warnings.catch_warnings():  # its warning when only its pure-Python fallback loads: ours is used then
    warnings.simplefilter("ignore", RuntimeWarning)
    _google_crc32c: ModuleType | None
    try:
        import google_crc32c as _google_crc32c
    except ImportError:  # pragma: no cover - a dependency; sigtool keeps working without it
        _google_crc32c = None

_MASK_DELTA = 0xA282EAD8
HEADER = 12  # length + its CRC
FOOTER = 4  # payload CRC


def _table() -> list[int]:
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _table()


def _crc32c_python(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli) of `data`."""
    if _google_crc32c is not None and getattr(_google_crc32c, "implementation", "") == "c":
        return _google_crc32c.value(data if isinstance(data, bytes) else bytes(data))
    return _crc32c_python(data)


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC32C: rotated right by 15 bits, plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(payload: bytes) -> bytes:
    """One record, framed."""
    length = struct.pack("<Q", len(payload))
    return length + struct.pack("<I", masked_crc(length)) + payload + struct.pack("<I", masked_crc(payload))


class RecordError(ValueError):
    """A record that is not well framed; the message names it (1-based) and the byte where it starts."""


def iter_records(f: BinaryIO, size: int, limit: int | None = None) -> Iterator[bytes]:
    """The payloads of the TFRecord file `f` (of `size` bytes), checked; RecordError on the first bad one.

    Stops after `limit` records when given (the rest is not read).
    """
    offset = count = 0
    while offset < size and (limit is None or count < limit):
        number = count + 1
        header = f.read(HEADER)
        if len(header) < HEADER:
            raise RecordError(f"record {number}: truncated header at byte {offset} ({len(header)} of {HEADER} bytes)")
        (length,) = struct.unpack("<Q", header[:8])
        if masked_crc(header[:8]) != struct.unpack("<I", header[8:])[0]:
            raise RecordError(f"record {number}: corrupt length (CRC mismatch) at byte {offset}")
        if length + FOOTER > size - offset - HEADER:
            raise RecordError(
                f"record {number}: truncated: claims {length} bytes at byte {offset} but the file ends first"
            )
        payload = f.read(length)
        footer = f.read(FOOTER)
        if len(payload) < length or len(footer) < FOOTER:
            raise RecordError(f"record {number}: truncated at byte {offset} (the file shrank while it was read)")
        if masked_crc(payload) != struct.unpack("<I", footer)[0]:
            raise RecordError(f"record {number}: corrupt data (CRC mismatch) at byte {offset}")
        yield payload
        offset += HEADER + length + FOOTER
        count += 1
