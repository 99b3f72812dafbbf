"""Fuzz the reader, check and the run input validation with mutated real models.

Seeds are the saved_model.pb / .pbtxt / export.meta files of testdata/ (make_testdata.py's cases,
TF Serving's models in real/, TensorFlow-written ones in tf/), read in place. Each example mutates one seed
(bit flips, byte overwrites, truncation, splices between two seeds, inflated
length prefixes, repeated or dropped fields, changed tags, wire types and values,
deep nesting, garbage; for text files also changed values, lines and braces), writes it to a temporary directory and runs what `show`,
`show --all` and `check` run, straight through the library:

    every input gives a result, or a SigtoolError whose message is one line;
    any other exception is a bug. Each input must also finish within
    TIME_LIMIT seconds and grow the peak RSS by less than MEMORY_LIMIT.

parse_request (what `sigtool run` checks before importing TensorFlow) is fuzzed
the same way with mutated and generated JSON bodies against testdata's
signatures.

SIGTOOL_FUZZ_EXAMPLES sets the examples per test (the suite's default is
small; `make fuzz` runs 20000). With CI set, the run is derandomized so that
CI is reproducible. No example database is written (database=None), and
Hypothesis' own caches go to the system's temporary directory, not into the repository.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import struct
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path

import pytest
from tf_oracle import RUNS

from conftest import GEN, REAL, TESTDATA
from factories import varint
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from sigtool import render
from sigtool.checks import CheckOptions, Report, failed, run_checks
from sigtool.errors import SigtoolError
from sigtool.loader import load
from sigtool.serving.examples import build_examples
from sigtool.serving.requests import ExamplesRequest, PredictRequest, parse_request

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
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
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


def test_there_are_seeds():
    kinds = {k for k, _ in SEED_FILES}
    assert kinds == {"saved_model.pb", "saved_model.pbtxt", "export.meta"}, kinds
    assert len(seeds_of("saved_model.pb")) >= 20


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

INTERESTING_VARINTS = [0, 1, 2, 7, 9, 19, 20, 21, 23, 99, 100, 101, 127, 128, 255, 2**15, 2**31 - 1, 2**31,
                       2**32 - 1, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64 + 5, 2**70 - 1]
REPEAT_BYTES = 32 * 1024
INFLATED_LENGTHS = [2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 17, 2**62, 2**63, 2**64 - 1]
INVALID_UTF8 = [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"abc\xfe\xfedef", b"\xe2\x82", b"\x00\x00", "σ".encode() * 3]
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
        return replace_in(buf, loc, loc.end, loc.end, buf[loc.start : loc.end] * copies), f"repeat {loc} {copies} more times"
    if op == "drop":
        return replace_in(buf, loc, loc.start, loc.end, b""), f"drop {loc}"
    if op == "merge":  # a repeated copy of a top-level field appended at the end (protobuf merges it)
        top = [x for x in locs if not x.chain]
        pick = top[draw(st.integers(0, len(top) - 1))]
        return buf + buf[pick.start : pick.end], f"append copy of top-level {pick}"
    if op == "retag":  # another field number (TF's schemas use 1-14, 31-35, 51-56) and/or wire type
        number = draw(st.one_of(st.integers(1, 16), st.integers(31, 35), st.integers(51, 56),
                                st.sampled_from([0, 19000, 2**29 - 1, 2**29, 2**32])))
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
        return replace_in(buf, loc, loc.value_start, loc.end, draw(st.binary(min_size=0, max_size=9))), f"overwrite {loc}"
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
        return replace_in(buf, loc, loc.value_start, loc.end, wrap(payload, pattern, levels)), f"nest {loc} {levels}x in {pattern}"
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
    "meta_graphs { }", "meta_graphs { meta_info_def { tags: 'serve' } }", "saved_model_schema_version: 99",
    "saved_model_schema_version: 18446744073709551616", "saved_model_schema_version: -1", "meta_graphz { }",
    "dtype: 9999", "dtype: 99999999999", "dtype: -2147483649", "dtype: DT_NOPE", "type_spec_class: 4294967296", "size: -99999999999999999999", "name: '\\377\\376'", "key: \"\\xc0\\x80\"",
    "{", "}", "<", ">", "[", "]", ":", "\"", "'", "#", "\\", "\x00", "\u00e9", "1e999", "nan", "-inf",
    "tensor_content: '\\000\\001'", "unknown_rank: true", "[type.googleapis.com/x] { }",
]


PBTXT_VALUES = [
    "0", "-1", "1", "2147483647", "2147483648", "-2147483649", "4294967296", "18446744073709551615",
    "18446744073709551616", "-9223372036854775809", "99999999999999999999", "1e309", "-1e309", "nan", "inf", "0x10",
    "1.5", "true", "false", "tru", "DT_FLOAT", "DT_NOPE", "RAGGED_TENSOR_SPEC", "''", "'\\377\\376'", "'\\ud800'",
    "'\\x'", "'\\U0010ffff'", "\"a\\\"b\"", "'x:0'", "{ }", "[1, 2]", "<>",
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
        deep = ("meta_graphs { signature_def { key: 'deep' value { inputs { key: 'x' value { " + inner
                + "} } } } }\n").encode()
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


# --- running sigtool on one input, bounded --------------------------------------------------------


class TooSlow(BaseException):
    """Raised by the per-input timer; a BaseException, so that no `except Exception` in sigtool swallows it."""


def _alarm(signum, frame):
    raise TooSlow(f"an input took longer than {TIME_LIMIT} s")


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux: /proc/self/clear_refs); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_kib() -> tuple[int, int]:
    """(current, peak) resident set size in KiB."""
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if line.startswith(("VmRSS", "VmHWM")))
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


@pytest.fixture
def bounded():
    """A context manager that fails an input running over TIME_LIMIT or growing memory by over MEMORY_LIMIT.

    Memory is the growth of the peak RSS over the input (the peak is reset before
    each one, so C allocations in protobuf count too); where the peak cannot be
    reset, tracemalloc's peak of Python allocations (much slower).
    """
    previous = signal.signal(signal.SIGALRM, _alarm)
    use_rss = _reset_peak_rss()

    @contextmanager
    def run(what: str):
        if use_rss:
            _reset_peak_rss()
            rss_before, _ = _rss_kib()
        else:
            tracemalloc.start()
        start = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT, 1.0)  # and again every second, should one be swallowed
        try:
            yield
        except TooSlow:
            raise AssertionError(f"{what}: over {TIME_LIMIT} s") from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = time.perf_counter() - start
            if use_rss:
                grown = (_rss_kib()[1] - rss_before) * 1024
            else:
                grown = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
        assert elapsed < TIME_LIMIT, f"{what}: {elapsed:.2f} s"
        assert grown < MEMORY_LIMIT, f"{what}: memory grew by {grown / 2**20:.0f} MiB"

    try:
        yield run
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def assert_clean_error(error: SigtoolError) -> None:
    message = error.format_message()
    assert message.strip(), "an empty error message"
    assert "\n" not in message and "\r" not in message, message
    assert error.exit_code in (2, 3), (error.exit_code, message)


def table_text(layout) -> str:
    """A table as `emit` prints it: plain text when piped, rich on a terminal (both are rendered)."""
    from rich.console import Console

    from sigtool import tables

    console = Console(file=io.StringIO(), width=100, color_system="standard", highlight=False)
    console.print(tables.rich_renderable(layout))
    return tables.plain_text(layout)


def parse_json(text: str):
    """The output is strict JSON (no NaN or Infinity, which Python's json module would accept)."""

    def reject(token):
        raise ValueError(f"{token} is not JSON")

    return json.loads(text, parse_constant=reject)


def exercise(model_dir: Path) -> list[str]:
    """What show, show --all and check do with the model, through the library; returns what happened."""
    from sigtool import tables

    outcomes = []
    try:
        info = load(str(model_dir), ops=True, functions=True)
    except SigtoolError as e:
        assert_clean_error(e)
        outcomes.append(f"show: {e.format_message()[:120]}")
    else:
        for view in (render.ShowView(), render.ShowView(all=True)):
            parse_json(render.show_json(info, view))
            render.show_smcli(info, view)
        table_text(tables.show_table(info))
        outcomes.append(f"show: {len(info.meta_graphs)} MetaGraphs")
    try:
        info = load(str(model_dir), graph=True)
    except SigtoolError as e:
        assert_clean_error(e)
        outcomes.append(f"check: {e.format_message()[:120]}")
    else:
        findings = tuple(run_checks(info, CheckOptions()))
        report = Report(str(model_dir), info.source, info.version, findings, failed(findings, strict=False))
        parse_json(render.findings_json([report], False))
        table_text(tables.findings_table([report]))
        render.summary_line([report], False)
        outcomes.append(f"check: {len(findings)} findings")
    return outcomes


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    """One directory per file kind; each example overwrites the file in it."""
    root = tmp_path_factory.mktemp("fuzz")
    dirs = {}
    for kind in ("saved_model.pb", "saved_model.pbtxt", "export.meta"):
        d = root / kind.replace(".", "_")
        d.mkdir()
        dirs[kind] = d
    return dirs


def write_and_exercise(model_dirs, bounded, kind: str, data: bytes, steps: list[str], report=note) -> None:
    report("; ".join(steps))
    if len(data) <= 4096:
        report(f"input (base64): {base64.b64encode(data).decode()}")
    model_dir = model_dirs[kind]
    (model_dir / kind).write_bytes(data)
    with bounded(" / ".join(steps)):
        for line in exercise(model_dir):
            report(line)


@FUZZ_SETTINGS
@given(case=mutated_model(kinds=("saved_model.pb",)))
def test_fuzz_saved_model_pb(case, model_dirs, bounded):
    write_and_exercise(model_dirs, bounded, *case)


@FUZZ_SETTINGS
@given(case=mutated_model(kinds=("saved_model.pbtxt",)))
def test_fuzz_saved_model_pbtxt(case, model_dirs, bounded):
    write_and_exercise(model_dirs, bounded, *case)


@settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 3, 10))
@given(case=mutated_model(kinds=("export.meta",)))
def test_fuzz_legacy_export_meta(case, model_dirs, bounded):
    write_and_exercise(model_dirs, bounded, *case)


# --- warmup requests (assets.extra/tf_serving_warmup_requests, read by check) ------------------------

WARMUP = Path("assets.extra") / "tf_serving_warmup_requests"
WARMUP_SEEDS = sorted(p for p in GEN.glob(f"*/{WARMUP}"))


def tfrecords(data: bytes) -> list[bytes]:
    records, pos = [], 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack("<Q", data[pos : pos + 8])
        records.append(data[pos + 12 : pos + 12 + length])
        pos += 12 + length + 4
    return records


def tfrecord_file(records: list[bytes]) -> bytes:
    from sigtool.loader.files import _masked_crc

    out = b""
    for r in records:
        header = struct.pack("<Q", len(r))
        out += header + struct.pack("<I", _masked_crc(header)) + r + struct.pack("<I", _masked_crc(r))
    return out


@st.composite
def mutated_warmup(draw) -> tuple[bytes, list[str]]:
    path = draw(st.sampled_from(WARMUP_SEEDS))
    data = path.read_bytes()
    steps = [f"seed {path}"]
    if draw(st.booleans()):  # mutate the records, keep the framing valid so that the payloads are parsed
        records = tfrecords(data)
        i = draw(st.integers(0, len(records) - 1))
        mutated, what = draw(st.one_of(structural(records[i]), raw(records[i], "saved_model.pb")))
        records[i] = mutated
        times = draw(st.sampled_from([1, 1, 1, 1, 1, 1, 2, 400]))  # 400: past Serving's 1000 records, sometimes
        records = records * times
        steps.append(f"record {i}: {what}, {len(records)} records")
        data = tfrecord_file(records)
    else:
        data, what = draw(raw(data, "saved_model.pb"))
        steps.append(what)
    return data, steps


@pytest.fixture(scope="module")
def warmup_dir(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("warmup")
    (model_dir / "saved_model.pb").write_bytes((GEN / "tf2_warmup" / "saved_model.pb").read_bytes())
    (model_dir / WARMUP).parent.mkdir()
    return model_dir


@settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 3, 10))
@given(case=mutated_warmup())
def test_fuzz_warmup_requests(case, warmup_dir, bounded):
    data, steps = case
    (warmup_dir / WARMUP).write_bytes(data)
    note("; ".join(steps))
    with bounded(" / ".join(steps)):
        for line in exercise(warmup_dir):
            note(line)


# --- run's input validation: parse_request with mutated and generated bodies ------------------------


def _testdata_signatures() -> list[tuple[str, dict]]:
    """(model, {key: Signature}) for every MetaGraph of every readable model under testdata/."""
    found = []
    dirs = sorted({p.parent for name in ("saved_model.pb", "saved_model.pbtxt") for p in TESTDATA.rglob(name)})
    for path in dirs:
        if "bad" in path.relative_to(TESTDATA).parts:
            continue
        try:
            info = load(str(path))
        except SigtoolError:
            continue
        for mg in info.meta_graphs:
            found.append((path.relative_to(TESTDATA).as_posix(), {s.key: s for s in mg.signatures}))
    return found


# Request inputs of assorted shapes and dtypes (columnar), besides tf_oracle's sample runs.
SAMPLE_INPUTS = [
    ("serving_default", {"ids": [7, 41], "text": ["h\u00e9llo", ""], "x": [[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]}),
    ("string_in", {"text": ["abc", "Z\u00fcrich", {"b64": "/wByYXc="}]}),
    ("int64_in", {"pairs": [[3, 4], [1099511627776, 2]]}),
    ("unknown_rank", {"t": 3.5}),
    ("nested_tuple", {"one_arg": [1.0, 2.0], "one_arg_1": [10.0, 20.0]}),
    ("dict_arg", {"d": [0.5, 1.5], "d_1": [1, 2]}),
    ("no_inputs", {}),
    ("serving_default", {"t": [0.5, -2.0], "t_1": [True, False], "t_2": {"imag": [-1.0, 2.0], "real": [1.5, 0.0]},
                         "t_11": ["a", {"b64": "AP8="}], "t_14": [0, 18446744073709551615]}),
    ("serving_default", {"features": [[0.1, 0.2, 0.3, 0.4]], "aux": [[1.0, 0.0]]}),
    ("ragged_in", {"rt": {"components": [[1, 2, 3], [0, 2, 2, 3]]}}),
]


def _sample_bodies() -> list[str]:
    bodies = []
    for key, inputs in [(key, inputs) for _, key, inputs in RUNS] + SAMPLE_INPUTS:
        body = {"signature_name": key, "inputs": inputs}
        bodies.append(json.dumps(body))
        if isinstance(inputs, dict) and inputs:
            first = next(iter(inputs.values()))
            if isinstance(first, list):  # the same as row format, when the batch sizes agree
                rows = [dict(zip(inputs, values)) for values in zip(*[v if isinstance(v, list) else [v] for v in inputs.values()])]
                bodies.append(json.dumps({"signature_name": key, "instances": rows}))
    bodies += [
        '{"instances": [1.0, 2.0, 5.0]}',
        '{"inputs": {"x": [[1.0], [2.0]]}}',
        '{"examples": [{"x": 1.0, "x2": [4.0, 5.0], "color": "red", "b": {"b64": "AAE="}}], "context": {"c": 1}}',
        '{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}]}',
    ]
    return bodies


SIGNATURES = _testdata_signatures()
SAMPLE_BODIES = _sample_bodies()
JSON_KEYS = sorted(
    {"instances", "inputs", "signature_name", "examples", "context", "b64", "x", "x2", "y", "inputs_1", "text", "ids"}
    | {t.key for _, sigs in SIGNATURES for s in sigs.values() for t in s.inputs}
)
SIGNATURE_NAMES = sorted({key for _, sigs in SIGNATURES for key in sigs} | {"", "nope"})

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.sampled_from("ab\u00e9\\\"/\x00 =+\ud800"), max_size=8).map("".join),
    st.sampled_from(SIGNATURE_NAMES),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.sampled_from(JSON_KEYS), children, max_size=4),
        st.builds(lambda s: {"b64": s}, st.one_of(st.lists(st.sampled_from("AQw=+/_-!"), max_size=12).map("".join), children)),
    ),
    max_leaves=40,
)
JSON_SPECIALS = ["NaN", "Infinity", "-Inf", "1e400", "-0", "123456789012345678901234567890", '"\\ud800"', '"\\u00"',
                 "[" * 70 + "]" * 70, "[" * 5000, "{" * 3000, "{}", "[]", "null", '"x"', "00", "1.", "\xff"]


@st.composite
def request_body(draw) -> tuple[str | bytes, str]:
    how = draw(st.sampled_from(["generated", "document", "mutated", "bytes", "special"]))
    if how == "generated":
        body = json.dumps(draw(json_values))
    elif how == "document":  # an object with the keys Serving looks at
        doc = draw(st.dictionaries(st.sampled_from(["instances", "inputs", "signature_name", "examples", "context"]),
                                   json_values, min_size=1, max_size=3))
        body = json.dumps(doc, allow_nan=True)
    elif how == "special":
        sample = draw(st.sampled_from(SAMPLE_BODIES))
        special = draw(st.sampled_from(JSON_SPECIALS))
        digits = [i for i, c in enumerate(sample) if c.isdigit() or c in "[{\""]
        pos = draw(st.sampled_from(digits)) if digits else 0
        body = sample[:pos] + special + sample[pos + 1 :]
    else:
        sample = draw(st.sampled_from(SAMPLE_BODIES)).encode()
        mutated, _ = draw(raw(sample, "saved_model.pb"))
        body = mutated if how == "bytes" else mutated.decode("utf-8", "replace")
    return body, how


@settings(FUZZ_SETTINGS, max_examples=EXAMPLES * 2)
@given(body=request_body(), which=st.integers(0, len(SIGNATURES) - 1), data=st.data())
def test_fuzz_request_validation(body, which, data, bounded):
    body, how = body
    model, signatures = SIGNATURES[which]
    if data.draw(st.booleans(), label="one signature") and signatures:
        signature = signatures[data.draw(st.sampled_from(sorted(signatures)), label="key")]
    else:
        signature = signatures
    method = data.draw(st.sampled_from([None, "predict", "classify", "regress"]), label="method")
    check_shapes = data.draw(st.booleans(), label="check_shapes")
    note(f"{how} body for {model}: {body!r}"[:2000])
    with bounded(f"parse_request on {model}"):
        try:
            request = parse_request(body, signature, method=method, check_shapes=check_shapes)
        except SigtoolError as e:
            assert_clean_error(e)
            return
        if isinstance(request, ExamplesRequest):
            assert all(isinstance(b, bytes) for b in build_examples(request))
        else:
            assert isinstance(request, PredictRequest)


def test_seeds_themselves_pass(model_dirs, bounded):
    """Every unmutated seed goes through the same path (a baseline for the fuzz tests)."""
    for index, (kind, path) in enumerate(SEED_FILES):
        write_and_exercise(model_dirs, bounded, kind, seed_bytes(index), [f"seed {path}"], report=lambda _: None)


def test_structural_mutation_helpers_keep_the_wire_format():
    """The mutators fix the enclosing length prefixes: a duplicated field still parses as protobuf."""
    from sigtool._proto import saved_model_pb2

    buf = (REAL / "saved_model_half_plus_two_cpu" / "00000123" / "saved_model.pb").read_bytes()
    locs = locations(buf)
    assert len(locs) > 100
    deepest = max(locs, key=lambda loc: len(loc.chain))
    doubled = replace_in(buf, deepest, deepest.end, deepest.end, buf[deepest.start : deepest.end])
    saved_model_pb2.SavedModel.FromString(doubled)  # still well formed
    assert len(doubled) > len(buf)
