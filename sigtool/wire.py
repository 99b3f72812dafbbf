"""The protobuf wire format by hand: walk a buffer without decoding it, and write the few fields sigtool writes.

The fast path of the loader uses this to find the few fields a command needs
inside a large saved_model.pb and to skip the rest (graph constants can be
gigabytes) without copying them. Every length is checked against the end of
its enclosing field, so a hostile length prefix is never allocated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5
_UINT64 = (1 << 64) - 1


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


@dataclass(frozen=True)
class Field:
    number: int
    wire_type: int
    start: int  # offset of the tag
    value_start: int  # offset of the payload (after any length prefix)
    end: int  # offset just past the field
    varint: int = 0  # the value of a VARINT field


def read_varint(buf, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise WireError(f"the data ends inside a number at byte {pos}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & _UINT64, pos  # bits past 64 are dropped, as protobuf drops them
        shift += 7
        if shift >= 70:
            raise WireError("varint longer than 10 bytes")


def iter_fields(buf, start: int = 0, end: int | None = None) -> Iterator[Field]:
    """Yield each top-level field in buf[start:end]; raise WireError on malformed input."""
    end = len(buf) if end is None else end
    pos = start
    while pos < end:
        tag, value_start = read_varint(buf, pos, end)
        number, wire_type = tag >> 3, tag & 7
        if number == 0:
            raise WireError("field number 0")
        value = 0
        if wire_type == VARINT:
            value, field_end = read_varint(buf, value_start, end)
        elif wire_type == I64:
            field_end = value_start + 8
        elif wire_type == I32:
            field_end = value_start + 4
        elif wire_type == LEN:
            length, value_start = read_varint(buf, value_start, end)
            field_end = value_start + length
            if field_end > end:
                raise WireError(
                    f"at byte {pos}, field {number} claims {length} bytes but only {end - value_start} remain"
                )
        elif wire_type == SGROUP:
            field_end = _skip_group(buf, value_start, end, number)
        else:
            raise WireError(f"at byte {pos}, invalid wire type {wire_type}")
        if field_end > end:
            raise WireError(f"at byte {pos}, field {number} runs past the end of its message")
        yield Field(number, wire_type, pos, value_start, field_end, value)
        pos = field_end


def _skip_group(buf, pos: int, end: int, number: int, depth: int = 0) -> int:
    if depth > 100:
        raise WireError("groups nested too deeply")
    while pos < end:
        tag, after = read_varint(buf, pos, end)
        if tag >> 3 == number and tag & 7 == EGROUP:
            return after
        if tag & 7 == SGROUP:
            pos = _skip_group(buf, after, end, tag >> 3, depth + 1)
            continue
        if tag & 7 == EGROUP:
            raise WireError("unmatched end-group")
        pos = next(iter_fields(buf, pos, end)).end
    raise WireError("unterminated group")


def text(buf, f: Field) -> str:
    """A string field's value (invalid UTF-8 is replaced, never fatal)."""
    return bytes(buf[f.value_start : f.end]).decode("utf-8", "replace")


def encode_varint(value: int) -> bytes:
    value &= _UINT64  # an int64 as two's complement: negatives take 10 bytes
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def length_delimited(number: int, payload: bytes) -> bytes:
    return encode_varint(number << 3 | LEN) + encode_varint(len(payload)) + payload
