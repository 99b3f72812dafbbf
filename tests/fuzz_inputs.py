"""The fuzzer's inputs (tests/test_fuzz.py): its settings, the seeds (testdata's model files, read in place), the
protobuf wire format walked independently of sigtool's reader, and the Hypothesis strategies that mutate a seed.
"""

from __future__ import annotations

import os
import re
import tempfile
from functools import cache, lru_cache
from pathlib import Path

from conftest import TESTDATA
from factories import varint
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps caches (and, in other tests, examples) under .hypothesis/ in the current directory;
# its pytest plugin fills them while collecting, so this must happen at import. Not in the repository.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / f"sigtool-hypothesis-{os.getuid()}")

EXAMPLES = int(os.environ.get("SIGTOOL_FUZZ_EXAMPLES", "150"))
TIME_LIMIT = float(os.environ.get("SIGTOOL_FUZZ_TIME_LIMIT", "2.0"))  # seconds per input
MEMORY_LIMIT = 200 * 2**20  # bytes: growth of the peak RSS while one input is read, checked and rendered

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=bool(os.environ.get("CI")),
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


# --- seeds ------------------------------------------------------------------------------------


def _seed_files() -> list[tuple[str, Path]]:
    """(kind, path) of every seed: kind is the file name the mutated bytes are written under."""
    found = []
    for root in (TESTDATA,):  # make_testdata.py's cases, real/ (TF Serving's) and tf/ (TensorFlow-written)
        for name in ("saved_model.pb", "saved_model.pbtxt", "export.meta"):
            found += [(name, p) for p in sorted(root.rglob(name)) if p.is_file() and "bad" not in p.parts]
    return found


SEED_FILES = _seed_files()


@cache
def seed_bytes(index: int) -> bytes:
    return SEED_FILES[index][1].read_bytes()


def seeds_of(kind: str) -> list[int]:
    return [i for i, (k, _) in enumerate(SEED_FILES) if k == kind]


# --- the wire format, independently of sigtool's reader ----------------------------------------


def dec_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while pos < end and shift < 70:
        byte = buf[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return result, pos
        shift += 7
    raise ValueError("bad varint")


def field_bytes(number: int, wire_type: int, payload: bytes) -> bytes:
    tag = varint(number << 3 | wire_type)
    return tag + (varint(len(payload)) + payload if wire_type == 2 else payload)


class Loc:
    """One field of a parsed message: offsets, and the length-delimited fields that enclose it."""

    __slots__ = ("chain", "end", "len_pos", "number", "start", "value_start", "wire_type")

    def __init__(self, number, wire_type, start, len_pos, value_start, end, chain):
        self.number, self.wire_type = number, wire_type
        self.start, self.len_pos, self.value_start, self.end = start, len_pos, value_start, end
        self.chain = chain  # ((len_pos, value_start, end), ...) of the enclosing fields, outermost first

    def __repr__(self):
        return f"field {self.number} wire type {self.wire_type} at {self.start}..{self.end} depth {len(self.chain)}"


def parse_message(buf: bytes, start: int, end: int) -> list[tuple[int, int, int, int | None, int, int]]:
    """(number, wire_type, start, len_pos, value_start, end) of each field; ValueError if not a message."""
    fields, pos = [], start
    while pos < end:
        tag, after = dec_varint(buf, pos, end)
        number, wire_type = tag >> 3, tag & 7
        if number == 0 or number >= 1 << 29:
            raise ValueError("bad field number")
        len_pos = None
        if wire_type == 0:
            _, field_end = dec_varint(buf, after, end)
            value_start = after
        elif wire_type == 1:
            value_start, field_end = after, after + 8
        elif wire_type == 5:
            value_start, field_end = after, after + 4
        elif wire_type == 2:
            length, value_start = dec_varint(buf, after, end)
            len_pos, field_end = after, value_start + length
        else:
            raise ValueError("wire type")
        if field_end > end:
            raise ValueError("overrun")
        fields.append((number, wire_type, pos, len_pos, value_start, field_end))
        pos = field_end
    return fields


@lru_cache(maxsize=64)
def locations(buf: bytes) -> tuple[Loc, ...]:
    """Every field of buf, descending into length-delimited payloads that parse as messages."""
    found: list[Loc] = []

    def walk(start: int, end: int, chain: tuple, depth: int) -> None:
        try:
            fields = parse_message(buf, start, end)
        except ValueError:
            return
        for number, wire_type, fstart, len_pos, value_start, fend in fields:
            found.append(Loc(number, wire_type, fstart, len_pos, value_start, fend, chain))
            if wire_type == 2 and fend > value_start and depth < 40 and len(found) < 20000:
                walk(value_start, fend, chain + ((len_pos, value_start, fend),), depth + 1)

    try:
        parse_message(buf, 0, len(buf))
    except ValueError:
        return ()
    walk(0, len(buf), (), 0)
    return tuple(found)


def replace_in(buf: bytes, loc: Loc, a: int, b: int, new: bytes) -> bytes:
    """buf with buf[a:b] replaced by new inside loc's enclosing fields, their length prefixes fixed."""
    out = buf[:a] + new + buf[b:]
    delta = len(new) - (b - a)
    for len_pos, value_start, end in reversed(loc.chain):  # innermost first: its prefix lies after the outer ones
        old_prefix = value_start - len_pos
        prefix = varint(end - value_start + delta)
        out = out[:len_pos] + prefix + out[len_pos + old_prefix :]
        delta += len(prefix) - old_prefix
    return out


# --- mutations ------------------------------------------------------------------------------------

INTERESTING_VARINTS = [
    0,
    1,
    2,
    7,
    9,
    19,
    20,
    21,
    23,
    99,
    100,
    101,
    127,
    128,
    255,
    2**15,
    2**31 - 1,
    2**31,
    2**32 - 1,
    2**32,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64 + 5,
    2**70 - 1,
]
REPEAT_BYTES = 32 * 1024
INFLATED_LENGTHS = [2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 17, 2**62, 2**63, 2**64 - 1]
INVALID_UTF8 = [
    b"\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"abc\xfe\xfedef",
    b"\xe2\x82",
    b"\x00\x00",
    "\u03c3".encode() * 3,
]
# Pairs of field numbers that recurse in TensorFlow's schema: TensorInfo.composite_tensor/
# CompositeTensor.components, StructuredValue.list_value/ListValue.values, tuple_value/TupleValue.values.
RECURSIVE_PATTERNS = [(5, 2), (51, 1), (52, 1), (2,), (1,), (7,)]


def wrap(payload: bytes, pattern: tuple[int, ...], levels: int) -> bytes:
    for i in range(levels):
        payload = field_bytes(pattern[i % len(pattern)], 2, payload)
    return payload


@st.composite
def structural(draw, buf: bytes) -> tuple[bytes, str]:
    """A mutation that knows the message structure (requires buf to parse)."""
    locs = locations(buf)
    if not locs:
        return buf, "no structure"
    loc = locs[draw(st.integers(0, len(locs) - 1))]
    op = draw(st.sampled_from(["dup", "drop", "inflate", "varint", "payload", "retag", "rewire", "nest", "merge"]))
    if op == "dup":  # a repeated field: protobuf merges or appends the copies
        # Many copies of a small field look for work that grows faster than the input; the input stays
        # small (at most REPEAT_BYTES more), so that work in proportion to it fits in TIME_LIMIT.
        copies = draw(st.one_of(st.integers(1, 3), st.integers(100, 3000)))
        copies = max(1, min(copies, REPEAT_BYTES // (loc.end - loc.start)))
        return replace_in(
            buf, loc, loc.end, loc.end, buf[loc.start : loc.end] * copies
        ), f"repeat {loc} {copies} more times"
    if op == "drop":
        return replace_in(buf, loc, loc.start, loc.end, b""), f"drop {loc}"
    if op == "merge":  # a repeated copy of a top-level field appended at the end (protobuf merges it)
        top = [x for x in locs if not x.chain]
        pick = top[draw(st.integers(0, len(top) - 1))]
        return buf + buf[pick.start : pick.end], f"append copy of top-level {pick}"
    if op == "retag":  # another field number (TF's schemas use 1-14, 31-35, 51-56) and/or wire type
        number = draw(
            st.one_of(
                st.integers(1, 16),
                st.integers(31, 35),
                st.integers(51, 56),
                st.sampled_from([0, 19000, 2**29 - 1, 2**29, 2**32]),
            )
        )
        wire_type = draw(st.one_of(st.just(loc.wire_type), st.integers(0, 7)))
        new_tag = varint(number << 3 | wire_type)
        if wire_type == 0 and loc.wire_type != 0 and draw(st.booleans()):  # a number where a message was
            value = draw(st.sampled_from(INTERESTING_VARINTS))
            return replace_in(buf, loc, loc.start, loc.end, new_tag + varint(value)), f"{loc} becomes {number}: {value}"
        tag_end = loc.len_pos if loc.len_pos is not None else loc.value_start
        return replace_in(buf, loc, loc.start, tag_end, new_tag), f"retag {loc} as {number}/{wire_type}"
    if op == "rewire":  # the same field with another wire type, and a value that fits it
        wire_type = draw(st.sampled_from([t for t in (0, 1, 2, 3, 5) if t != loc.wire_type]))
        if wire_type == 0:
            value = varint(draw(st.sampled_from(INTERESTING_VARINTS)))
        elif wire_type in (1, 5):
            value = draw(st.binary(min_size=8 if wire_type == 1 else 4, max_size=8 if wire_type == 1 else 4))
        elif wire_type == 2:
            value = varint(loc.end - loc.value_start) + buf[loc.value_start : loc.end]
        else:  # a group holding the old value
            value = buf[loc.start : loc.end] + varint(loc.number << 3 | 4)
        new = varint(loc.number << 3 | wire_type) + value
        return replace_in(buf, loc, loc.start, loc.end, new), f"{loc} rewritten as wire type {wire_type}"
    if loc.wire_type == 0 and op in ("varint", "inflate", "payload", "nest"):
        value = draw(st.one_of(st.sampled_from(INTERESTING_VARINTS), st.integers(0, 2**64 - 1)))
        return replace_in(buf, loc, loc.value_start, loc.end, varint(value)), f"set {loc} to {value}"
    if loc.wire_type != 2:
        return replace_in(
            buf, loc, loc.value_start, loc.end, draw(st.binary(min_size=0, max_size=9))
        ), f"overwrite {loc}"
    payload = buf[loc.value_start : loc.end]
    if op == "inflate":
        length = len(payload)
        claim = draw(st.one_of(st.sampled_from(INFLATED_LENGTHS), st.integers(length + 1, length + 64)))
        prefix = varint(claim)
        if draw(st.booleans()):  # the same length, written with needless continuation bytes (up to 11 bytes)
            pad = draw(st.integers(1, 10))
            prefix = bytes(b | 0x80 for b in varint(length)) + b"\x80" * (pad - 1) + b"\x00"
            claim = f"{length} in a {len(prefix)}-byte varint"
        out = buf[: loc.len_pos] + prefix + buf[loc.value_start :]
        return out, f"length of {loc} claims {claim}"
    if op == "nest":
        pattern = draw(st.sampled_from(RECURSIVE_PATTERNS))
        levels = draw(st.one_of(st.integers(1, 10), st.integers(90, 110), st.integers(111, 400)))
        return replace_in(
            buf, loc, loc.value_start, loc.end, wrap(payload, pattern, levels)
        ), f"nest {loc} {levels}x in {pattern}"
    choice = draw(st.sampled_from(["utf8", "empty", "random", "other", "cut", "double", "varint"]))
    if choice == "utf8":
        new = draw(st.sampled_from(INVALID_UTF8))
        if payload and draw(st.booleans()):
            at = draw(st.integers(0, len(payload)))
            new = payload[:at] + new + payload[at:]
    elif choice == "empty":
        new = b""
    elif choice == "random":
        new = draw(st.binary(max_size=64))
    elif choice == "other":
        other = locs[draw(st.integers(0, len(locs) - 1))]
        new = buf[other.value_start : other.end]
    elif choice == "cut":
        new = payload[: draw(st.integers(0, len(payload)))]
    elif choice == "double":
        new = payload + payload
    else:  # a varint where a message or string was
        new = varint(draw(st.sampled_from(INTERESTING_VARINTS)))
    return replace_in(buf, loc, loc.value_start, loc.end, new), f"payload of {loc}: {choice} ({len(new)} bytes)"


@st.composite
def raw(draw, buf: bytes, kind: str) -> tuple[bytes, str]:
    """A mutation that ignores the structure."""
    op = draw(st.sampled_from(["flip", "overwrite", "truncate", "splice", "insert", "garbage", "concat"]))
    n = len(buf)
    if op == "flip":
        out = bytearray(buf)
        flips = draw(st.lists(st.tuples(st.integers(0, max(n - 1, 0)), st.integers(0, 7)), min_size=1, max_size=8))
        for pos, bit in flips:
            if out:
                out[pos] ^= 1 << bit
        return bytes(out), f"flip bits {flips}"
    if op == "overwrite":
        pos = draw(st.integers(0, n))
        new = draw(st.one_of(st.binary(min_size=1, max_size=16), st.sampled_from(INVALID_UTF8)))
        return buf[:pos] + new + buf[pos + len(new) :], f"overwrite at {pos} with {new!r}"
    if op == "truncate":
        cut = draw(st.integers(0, n))
        return buf[:cut], f"truncate to {cut} of {n}"
    if op == "insert":
        pos = draw(st.integers(0, n))
        new = draw(st.binary(min_size=1, max_size=16))
        return buf[:pos] + new + buf[pos:], f"insert {new!r} at {pos}"
    if op == "garbage":
        return draw(st.binary(max_size=512)), "random bytes"
    same_kind = seeds_of(kind)
    other_index = draw(st.sampled_from(same_kind))
    other = seed_bytes(other_index)
    if op == "concat":  # protobuf merges concatenated messages: repeated fields add up, scalars take the last
        return buf + other, f"concatenated with {SEED_FILES[other_index][1]}"
    cut_a, cut_b = draw(st.integers(0, n)), draw(st.integers(0, len(other)))
    return buf[:cut_a] + other[cut_b:], f"splice [:{cut_a}] + {SEED_FILES[other_index][1]}[{cut_b}:]"


PBTXT_SNIPPETS = [
    "meta_graphs { }",
    "meta_graphs { meta_info_def { tags: 'serve' } }",
    "saved_model_schema_version: 99",
    "saved_model_schema_version: 18446744073709551616",
    "saved_model_schema_version: -1",
    "meta_graphz { }",
    "dtype: 9999",
    "dtype: 99999999999",
    "dtype: -2147483649",
    "dtype: DT_NOPE",
    "type_spec_class: 4294967296",
    "size: -99999999999999999999",
    "name: '\\377\\376'",
    'key: "\\xc0\\x80"',
    "{",
    "}",
    "<",
    ">",
    "[",
    "]",
    ":",
    '"',
    "'",
    "#",
    "\\",
    "\x00",
    "\u00e9",
    "1e999",
    "nan",
    "-inf",
    "tensor_content: '\\000\\001'",
    "unknown_rank: true",
    "[type.googleapis.com/x] { }",
]


PBTXT_VALUES = [
    "0",
    "-1",
    "1",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "99999999999999999999",
    "1e309",
    "-1e309",
    "nan",
    "inf",
    "0x10",
    "1.5",
    "true",
    "false",
    "tru",
    "DT_FLOAT",
    "DT_NOPE",
    "RAGGED_TENSOR_SPEC",
    "''",
    "'\\377\\376'",
    "'\\ud800'",
    "'\\x'",
    "'\\U0010ffff'",
    '"a\\"b"',
    "'x:0'",
    "{ }",
    "[1, 2]",
    "<>",
]


@st.composite
def text_mutation(draw, buf: bytes) -> tuple[bytes, str]:
    """Mutations of a text SavedModel: its tokens, lines and nesting."""
    op = draw(st.sampled_from(["snippet", "value", "value", "dup_line", "drop_line", "deep", "binary", "number"]))
    lines = buf.split(b"\n")
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    if op == "snippet":
        snippet = draw(st.sampled_from(PBTXT_SNIPPETS)).encode()
        boundaries = [m.end() for m in re.finditer(rb"[{\n]", buf)]
        if boundaries and draw(st.booleans()):  # where a field may start
            pos = draw(st.sampled_from(boundaries))
        else:
            pos = draw(st.integers(0, len(buf)))
        return buf[:pos] + b" " + snippet + b" " + buf[pos:], f"insert {snippet!r} at {pos}"
    if op == "value":  # another value for a field: out of range, of another type, odd escapes
        values = list(re.finditer(rb"\w+: *(\"[^\"\n]*\"|'[^'\n]*'|[\w.+-]+)", buf))
        if not values:
            return buf, "no value"
        m = values[draw(st.integers(0, len(values) - 1))]
        new = draw(st.sampled_from(PBTXT_VALUES)).encode()
        return buf[: m.start(1)] + new + buf[m.end(1) :], f"value at {m.start(1)} -> {new!r}"
    if op == "dup_line":
        return b"\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :]), f"duplicate line {i + 1}"
    if op == "drop_line":
        return b"\n".join(lines[:i] + lines[i + 1 :]), f"drop line {i + 1}"
    if op == "deep":
        levels = draw(st.one_of(st.integers(40, 60), st.integers(90, 110), st.integers(200, 3000)))
        inner = "composite_tensor { components { " * levels + "name: 'a:0' " + "} } " * levels
        if draw(st.booleans()):
            inner = inner[: draw(st.integers(0, len(inner)))]  # unbalanced
        deep = (
            "meta_graphs { signature_def { key: 'deep' value { inputs { key: 'x' value { " + inner + "} } } } }\n"
        ).encode()
        return deep + buf, f"prepend {levels} nested composite tensors"
    if op == "binary":
        pos = draw(st.integers(0, len(buf)))
        new = draw(st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from(INVALID_UTF8)))
        return buf[:pos] + new + buf[pos:], f"insert {new!r} at {pos}"
    digits = [j for j, b in enumerate(buf) if 48 <= b <= 57]
    if not digits:
        return buf, "no number"
    pos = digits[draw(st.integers(0, len(digits) - 1))]
    new = draw(st.sampled_from([b"99999999999999999999999", b"-1", b"18446744073709551615", b"1e309", b"0x7f", b"-0"]))
    return buf[:pos] + new + buf[pos + 1 :], f"number at {pos} -> {new!r}"


@st.composite
def mutated_model(draw, kinds=("saved_model.pb", "saved_model.pbtxt", "export.meta")) -> tuple[str, bytes, list[str]]:
    indices = [i for i, (k, _) in enumerate(SEED_FILES) if k in kinds]
    index = draw(st.sampled_from(indices))
    kind, path = SEED_FILES[index]
    buf = seed_bytes(index)
    steps = [f"seed {path}"]
    for _ in range(draw(st.integers(1, 3))):
        if kind == "saved_model.pbtxt":
            strategy = st.one_of(text_mutation(buf), raw(buf, kind))
        else:
            strategy = st.one_of(structural(buf), structural(buf), raw(buf, kind))
        buf, what = draw(strategy)
        steps.append(what)
    return kind, buf, steps
