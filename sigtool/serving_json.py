"""TF Serving's REST JSON, in and out, in pure Python (no TensorFlow, no numpy).

`sigtool run` parses a request body here *before* TensorFlow is imported, to
check it against the signature, and formats the model's outputs into exactly
the body TF Serving would answer. The rules are those of Serving's
`util/json_tensor.cc` as recorded in shared/reference/tf_serving.md §2 (the
section numbers below refer to it).

Data (frozen dataclasses)
    Tensor(dtype "DT_FLOAT"..., shape, values)   flat, row-major; float/int/bool, bytes for DT_STRING
    Feature(kind "bytes_list" | "float_list" | "int64_list" | "", values)   one tf.train.Feature
    PredictRequest(signature_name, row_format, inputs: dict[str, Tensor])
    ExamplesRequest(signature_name, examples: tuple[dict[str, Feature], ...], context: dict | None)

Requests
    parse_request(body, signature, *, method=None, check_shapes=True)
        -> PredictRequest | ExamplesRequest
        `signature` is the Signature to run, or a mapping key -> Signature from
        which the body's "signature_name" (default "serving_default") picks one.
        `method` is the REST verb ("predict", "classify", "regress"); None
        guesses it from the body ("examples" without "instances"/"inputs" means
        classify/regress).
    build_examples(request: ExamplesRequest) -> list[bytes]
        one serialized tf.Example per JSON example, the context's bytes first
        (Serving feeds `context + example`, so the example wins a shared key).
    encode_example(features: Mapping[str, Feature]) -> bytes

Responses (each returns the body without a trailing newline)
    format_predict_response(outputs: Mapping[str, Tensor], row_format: bool) -> str
    format_classify_response(classes: Tensor | None, scores: Tensor | None, num_examples=None) -> str
    format_regress_response(outputs: Tensor, num_examples=None) -> str
    format_error(message: str) -> str          # {"error": ...}
    format_float(value, dtype="DT_FLOAT") -> str   # Serving's WriteDecimal

Errors: a request Serving rejects raises RequestRejected (a UsageError) and
outputs Serving cannot write raise ResponseRejected (a RunError). Both are one
line: Serving's message, then what to do in parentheses. `.serving_message`
holds Serving's text alone, for format_error() (None for sigtool's own checks).

Serving's quirks kept: NaN, Infinity, -Infinity, Inf and -Inf are numbers;
text after the top-level object is ignored; of duplicate keys the first wins
(in a tf.Example's features, the last); extra keys in a columnar "inputs"
object are ignored; DT_FLOAT takes any number, rounding to float32 (1e300 ->
inf); DT_INT8/INT16/UINT8 take any int32 and wrap as TF's cast does (300 ->
44 for int8); an integer beyond uint64 is a double (so a float feature).

Where sigtool departs from Serving, on purpose:
* bodies over 64 MiB or nested deeper than 64 levels are refused (Serving has
  no such limits);
* with check_shapes=True, a tensor whose rank or fixed dimensions contradict
  the signature's declared shape is refused (Serving ignores TensorInfo shapes,
  so e.g. half_plus_two's x [-1,1] accepts [1.0, 2.0] there);
* a non-`_bytes` string output that is not valid UTF-8 is written as
  {"b64": ...} (Serving writes the raw bytes, which is not valid JSON);
* several outputs are written in sorted key order (Serving: protobuf map order).
"""

from __future__ import annotations

import base64
import binascii
import gc
import json
import math
import re
import struct
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain

from sigtool import wire
from sigtool.errors import RunError, UsageError
from sigtool.model import DEFAULT_SIGNATURE, REGRESS, Signature, TensorSpec

MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Tensor:
    """A dense tensor: values flat in row-major order (float/int/bool; bytes for DT_STRING)."""

    dtype: str  # "DT_FLOAT", ...
    shape: tuple[int, ...]
    values: tuple

    def __post_init__(self):
        if len(self.values) != math.prod(self.shape):
            raise ValueError(f"Tensor of shape {list(self.shape)} needs {math.prod(self.shape)} values, got {len(self.values)}")


@dataclass(frozen=True)
class Feature:
    """One tf.train.Feature: kind "bytes_list", "float_list", "int64_list", or "" (none set, from [])."""

    kind: str
    values: tuple = ()


@dataclass(frozen=True)
class PredictRequest:
    signature_name: str | None  # as the body gave it
    row_format: bool  # "instances" (answer with "predictions") vs "inputs" (answer with "outputs")
    inputs: dict[str, Tensor]


@dataclass(frozen=True)
class ExamplesRequest:
    signature_name: str | None
    examples: tuple[dict[str, Feature], ...]
    context: dict[str, Feature] | None  # None: Input.example_list; else example_list_with_context


class RequestRejected(UsageError):
    """A request TF Serving would answer with HTTP 400 (or one sigtool refuses by its own checks)."""

    def __init__(self, serving_message: str | None, hint: str, own_message: str | None = None):
        self.serving_message = serving_message
        super().__init__(f"{(own_message or serving_message).rstrip()} ({hint})")


class ResponseRejected(RunError):
    """Outputs TF Serving could not turn into a JSON response."""

    def __init__(self, serving_message: str, hint: str):
        self.serving_message = serving_message
        super().__init__(f"{serving_message.rstrip()} ({hint})")


class _Bad(Exception):
    """An inner Serving status: code ("INVALID_ARGUMENT" / "UNIMPLEMENTED") and message."""

    def __init__(self, message: str, code: str = "INVALID_ARGUMENT", hint: str = ""):
        super().__init__(message)
        self.message, self.code, self.hint = message, code, hint

    def status(self) -> str:  # absl Status::ToString(), as Serving embeds it
        return f"{self.code}: {self.message}"


# ---------------------------------------------------------------- JSON text -> Python values


class _Object(dict):
    """A JSON object. Lookups see the first of duplicate keys (rapidjson FindMember); `pairs` keeps all."""

    pairs: list | None = None

    @property
    def member_count(self) -> int:
        return len(self.pairs) if self.pairs is not None else len(self)


def _object(pairs: list) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):  # duplicates: first wins
        obj = _Object()
        for k, v in pairs:
            obj.setdefault(k, v)
        obj.pairs = pairs
    return obj


class _TooBig(ValueError):
    pass


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # rapidjson refuses what a double cannot hold; Python would give inf
        raise _TooBig(text)
    return value


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_float=_parse_float)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_UNIFY = bytes.maketrans(b"{}", b"[]")
# rapidjson (kParseNanAndInfFlag) also takes Inf, -Inf and -NaN; Python's json only NaN, Infinity, -Infinity
_LOOSE_TOKENS = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")|(-?)Inf(?:inity)?|-NaN')
_PARSE_ERRORS = {  # Python's json wording -> rapidjson's GetParseError_En
    "Expecting value": "Invalid value.",
    "Expecting property name enclosed in double quotes": "Missing a name for object member.",
    "Expecting ':' delimiter": "Missing a colon after a name of object member.",
    "Unterminated string starting at": "Missing a closing quotation mark in string.",
    "Invalid \\escape": "Invalid escape character in string.",
    "Invalid \\uXXXX escape": "Incorrect hex digit after \\u escape in string.",
}
_JSON_HINT = "send one JSON object; NaN, Infinity and -Infinity are accepted as numbers"


def _too_deep(text: str) -> bool:
    """Whether objects/arrays nest deeper than MAX_DEPTH (found without recursion)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    marks = _STRING.sub("", text).encode("utf-8", "surrogatepass").translate(_UNIFY, _NOT_BRACKETS)
    if b"[" * (MAX_DEPTH + 1) in marks:
        return True
    depth = 0
    while marks:  # each round removes the innermost pairs
        shorter = marks.replace(b"[]", b"")
        if len(shorter) == len(marks):
            break  # unbalanced: not JSON, the parser will say where
        depth += 1
        if depth > MAX_DEPTH:
            return True
        marks = shorter
    return depth + marks.count(b"[") > MAX_DEPTH


def _byte_offset(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8", "surrogatepass"))


def _loose_tokens(match: re.Match) -> str:
    if match.group(1) is not None:
        return match.group(1)
    return "NaN" if match.group(0) == "-NaN" else match.group(2) + "Infinity"


def _decode(text: str, start: int):
    """The first JSON value from start on; trailing text is ignored, as kParseStopWhenDoneFlag does."""
    collecting = gc.isenabled()
    gc.disable()  # the parser makes only acyclic containers: cycle collection passes would halve its speed
    try:
        return _DECODER.raw_decode(text, start)[0]
    finally:
        if collecting:
            gc.enable()


def _load(body: str | bytes) -> _Object:
    """Parse a request body as Serving's rapidjson does; returns the top-level object."""
    size = len(body)
    if isinstance(body, str) and size <= MAX_BODY_BYTES:
        size = len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise RequestRejected(None, f"sigtool accepts request bodies up to {MAX_BODY_BYTES // 2**20} MiB; "
                              "send fewer instances per request", f"request body is {size} bytes")
    if isinstance(body, bytes):
        body = body.decode("utf-8", "surrogateescape")  # rapidjson does not validate UTF-8 either
    if not body:
        raise RequestRejected("JSON Parse error: The document is empty", _JSON_HINT)
    start = 1 if body.startswith("\ufeff") else 0  # rapidjson's UTF-8 stream skips a BOM
    while start < len(body) and body[start] in " \t\n\r":
        start += 1
    if start == len(body):
        raise RequestRejected(f"JSON Parse error: The document is empty. at offset: {_byte_offset(body, start)}",
                              _JSON_HINT)
    if _too_deep(body):
        raise RequestRejected(None, "flatten the request",
                              f"request JSON nests deeper than {MAX_DEPTH} levels")
    text = body
    for attempt in (1, 2):
        try:
            doc = _decode(text, start)
            break
        except _TooBig as e:
            offset = _byte_offset(text, max(text.find(str(e)), 0))
            raise RequestRejected(f"JSON Parse error: Number too big to be stored in double. at offset: {offset}",
                                  "numbers must fit in a double, about 1.8e308 at most") from None
        except json.JSONDecodeError as e:
            if attempt == 1 and re.match(r"-?Inf|-NaN", text[e.pos:e.pos + 4]):
                text = _LOOSE_TOKENS.sub(_loose_tokens, text)
                continue
            reason = _PARSE_ERRORS.get(e.msg, e.msg + ".")
            raise RequestRejected(f"JSON Parse error: {reason} at offset: {_byte_offset(text, e.pos)}",
                                  _JSON_HINT) from None
        except ValueError as e:  # an integer literal with thousands of digits
            raise RequestRejected("JSON Parse error: Number too big to be stored in double.",
                                  "numbers must fit in a double, about 1.8e308 at most") from e
        except RecursionError:  # not expected after _too_deep; never let one escape
            raise RequestRejected(None, "flatten the request", "request JSON nests too deeply") from None
    if not isinstance(doc, dict):
        raise RequestRejected(f"JSON Value: {_show(doc)} Is not object", _JSON_HINT)
    return doc


# ---------------------------------------------------------------- rapidjson PrettyWriter


class _Truncated(Exception):
    pass


def _quote(s: str | bytes) -> str:
    if isinstance(s, bytes):
        s = s.decode("utf-8", "surrogateescape")
    return '"' + s.translate(_ESCAPES) + '"'


_ESCAPES = {c: f"\\u{c:04X}" for c in range(0x20)} | {
    0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}


class _Writer:
    """rapidjson's PrettyWriter (4-space indent) and its kFormatSingleLineArray switch, byte for byte."""

    def __init__(self, limit: int | None = None):
        self.parts: list[str] = []
        self.levels: list[list] = []  # [in_array, value_count]
        self.single_line = False
        self.limit, self.size = limit, 0  # limit: stop (raise _Truncated) once this many chars are out

    def _put(self, s: str) -> None:
        if self.limit is not None:
            if self.size >= self.limit:
                raise _Truncated
            self.size += len(s)
        self.parts.append(s)

    def _prefix(self) -> None:
        if not self.levels:
            return
        level = self.levels[-1]
        if level[0]:
            if level[1]:
                self._put(", " if self.single_line else ",")
            if not self.single_line:
                self._put("\n" + "    " * len(self.levels))
        else:
            self._put((",\n" if level[1] % 2 == 0 else ": ") if level[1] else "\n")
            if level[1] % 2 == 0:
                self._put("    " * len(self.levels))
        level[1] += 1

    def start(self, array: bool) -> None:
        self._prefix()
        self._put("[" if array else "{")
        self.levels.append([array, 0])

    def end(self) -> None:
        array, count = self.levels.pop()
        if count and not (array and self.single_line):
            self._put("\n" + "    " * len(self.levels))
        self._put("]" if array else "}")

    def raw(self, token: str) -> None:  # numbers, true/false, quoted strings, keys
        self._prefix()
        self._put(token)

    def array_of(self, tokens: list[str]) -> None:
        """start(True), raw(t) for each token, end(): the same bytes, faster."""
        if self.limit is not None or not tokens:
            self.start(True)
            for t in tokens:
                self.raw(t)
            self.end()
            return
        self._prefix()
        if self.single_line:
            self.parts.append("[" + ", ".join(tokens) + "]")
        else:
            inner = "\n" + "    " * (len(self.levels) + 1)
            self.parts.append("[" + inner + ("," + inner).join(tokens) + "\n" + "    " * len(self.levels) + "]")

    def text(self) -> str:
        return "".join(self.parts)


def _show(value, limit: int = 256) -> str:
    """Serving's JsonValueToDebugString: pretty, arrays on one line, cut once 256 chars are out."""
    w = _Writer(limit)
    w.single_line = True
    try:
        _write_json(w, value)
    except _Truncated:
        pass
    return w.text()


def _write_json(w: _Writer, value) -> None:
    if isinstance(value, dict):
        w.start(False)
        for k, v in value.items():
            w.raw(_quote(k))
            _write_json(w, v)
        w.end()
    elif isinstance(value, list):
        w.start(True)
        for v in value:
            _write_json(w, v)
        w.end()
    elif isinstance(value, str):
        w.raw(_quote(value))
    elif value is None or isinstance(value, bool):
        w.raw(json.dumps(value))
    elif isinstance(value, float):
        w.raw(format_float(value, "DT_DOUBLE"))
    else:
        w.raw(str(value))


# ---------------------------------------------------------------- floats (§2.6)

_F32 = struct.Struct("<f")


def _f32(x: float) -> float:
    """double -> float as C's static_cast: nearest, overflow to +-inf."""
    try:
        return _F32.unpack(_F32.pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _f32_step(x: float, up: bool) -> float:
    bits = struct.unpack("<I", _F32.pack(x))[0]
    if x == 0:
        bits = 1 if up else 0x80000001
    elif (x > 0) == up:
        bits += 1
    else:
        bits -= 1
    return _F32.unpack(struct.pack("<I", bits))[0]


def _f32_from_decimal(s: str) -> float:
    """strtof(s): decimal -> nearest float, rounding once (double-then-float can round twice)."""
    d = float(s)
    r = _f32(d)
    if r == d or math.isinf(r):
        return r
    other = _f32_step(r, d > r)
    if d - r != other - d:
        return r
    exact = Fraction(s)  # d is a tie between two floats: decide on the decimal itself
    if exact == Fraction(d):
        return r
    return max(r, other) if exact > Fraction(d) else min(r, other)


def _float_tokens(values, dtype: str) -> list[str]:
    """WriteDecimal for each value: a float32 tensor's values are first cast to float32, as Serving holds them."""
    double = dtype == "DT_DOUBLE"
    values = list(map(float, values)) if double else array("f", values).tolist()
    six = [format(v, ".6g") for v in values]  # printf's %.6g, which absl::StrCat(float) equals
    back = list(map(float, six))  # strtod
    back32 = back if double else array("f", back).tolist()  # strtof, but for a double rounding (see below)
    out = []
    for v, s, d, r in zip(values, six, back, back32):
        if v - v != 0:  # NaN or +-inf
            s = "NaN" if math.isnan(v) else "Infinity" if v > 0 else "-Infinity"
        else:
            if d != v and (r != v or not (double or _parses_to_f32(s, d, v))):
                s = format(v, ".17g" if double else ".9g")  # max_digits10
            if "." not in s and "e" not in s:
                s += ".0"
        out.append(s)
    return out


def _parses_to_f32(s: str, d: float, v: float) -> bool:
    """strtof(s) == v, given d = strtod(s) and float(d) == v."""
    c = d * 268435457.0  # Veltkamp split: c - (c - d) is d rounded to 25 significant bits
    if c - (c - d) == d or abs(v) < 1.1754943508222875e-38:
        return _f32_from_decimal(s) == v  # d may sit exactly between two floats (or v is subnormal)
    return True


def format_float(value: float, dtype: str = "DT_FLOAT") -> str:
    """Serving's WriteDecimal: %.6g when it round-trips in the type, else %.9g (float) / %.17g (double);
    ".0" added when neither "." nor "e" shows; NaN, Infinity, -Infinity as bare tokens."""
    return _float_tokens((value,), dtype)[0]


# ---------------------------------------------------------------- JSON value -> tensor value (§2.2)


def _dtype_string(dtype: str) -> str:
    """TF's DataTypeString: DT_FLOAT -> float, DT_INVALID -> INVALID."""
    return "INVALID" if dtype == "DT_INVALID" else dtype.removeprefix("DT_").lower()


def _json_type(value) -> str:
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def _is_b64(value) -> bool:
    return (isinstance(value, dict) and value.member_count == 1
            and isinstance(value.get("b64"), str))


_B64_CHARS = re.compile(r"[A-Za-z0-9+/]*")
_B64_SPACE = re.compile(r"[ \t\n\v\f\r]+")


def _b64decode(text: str) -> bytes | None:
    """absl::Base64Unescape: whitespace skipped, padding ('=' or '.') optional but exact, no web-safe chars."""
    s = _B64_SPACE.sub("", text)
    data = s.rstrip("=.")
    pads = len(s) - len(data)
    if not _B64_CHARS.fullmatch(data) or len(data) % 4 == 1:
        return None
    if pads and pads != (4 - len(data) % 4) % 4:
        return None
    try:
        return base64.b64decode(data + "=" * ((4 - len(data) % 4) % 4))
    except binascii.Error:
        return None


def _utf8(s: str) -> bytes:
    try:
        return s.encode()
    except UnicodeEncodeError:  # raw bytes of a non-UTF-8 body, or a lone \uD800-style escape
        try:
            return s.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return s.encode("utf-8", "surrogatepass")


def _decode_b64_object(value) -> bytes:
    if not _is_b64(value):
        raise _Bad(f"JSON Value: {_show(value)} not formatted correctly for base64 data",
                   hint='binary strings are written {"b64": "<base64>"} with no other key')
    raw = _b64decode(value["b64"])
    if raw is None:
        raise _Bad("Unable to base64 decode", hint='the "b64" value must be standard base64: A-Z a-z 0-9 + /, '
                   "optional = padding, not the URL-safe - and _")
    return raw


_INT_RANGES = {  # dtype -> what rapidjson's IsInt / IsInt64 / IsUint / IsUint64 accept
    "DT_INT32": (-(2**31), 2**31), "DT_INT16": (-(2**31), 2**31), "DT_INT8": (-(2**31), 2**31),
    "DT_UINT8": (-(2**31), 2**31), "DT_INT64": (-(2**63), 2**63), "DT_UINT32": (0, 2**32), "DT_UINT64": (0, 2**64),
}
_NARROW = {"DT_INT16": (16, True), "DT_INT8": (8, True), "DT_UINT8": (8, False)}  # bits, signed
_UNSUPPORTED_HINT = ("TF Serving's REST API cannot feed {dtype} inputs; use gRPC, or a signature with float, double, "
                     "int8/16/32/64, uint8/32/64, bool or string inputs")
_TYPE_HINTS = {
    "DT_FLOAT": "send numbers; NaN, Infinity and -Infinity are allowed",
    "DT_DOUBLE": "send numbers; NaN, Infinity and -Infinity are allowed",
    "DT_BOOL": "send true or false",
    "DT_STRING": 'send strings, or {"b64": "<base64>"} for binary data',
}


def _type_error(value, dtype: str) -> _Bad:
    if dtype in _INT_RANGES:
        lo, hi = _INT_RANGES[dtype]
        hint = f"send whole numbers from {lo} to {hi - 1}, written without a decimal point"
    else:
        hint = _TYPE_HINTS.get(dtype, _UNSUPPORTED_HINT.format(dtype=dtype))
    return _Bad(f"JSON Value: {_show(value)} Type: {_json_type(value)} is not of expected type: {_dtype_string(dtype)}",
                hint=hint)


def _as_double(value: int) -> float:
    """A JSON integer outside [-2**63, 2**64) is a double to rapidjson."""
    try:
        return float(value)
    except OverflowError:
        raise _Bad("JSON Parse error: Number too big to be stored in double.",
                   hint="numbers must fit in a double, about 1.8e308 at most") from None


def _converter(dtype: str) -> Callable:
    """JSON leaf -> Python value for this dtype, raising _Bad as Serving's AddValueToTensor does."""
    if dtype in ("DT_FLOAT", "DT_DOUBLE"):
        def conv(v):
            t = type(v)
            if t is float:
                return v
            if t is int:
                return v if -(2**63) <= v < 2**64 else _as_double(v)
            raise _type_error(v, dtype)
    elif dtype in _INT_RANGES:
        lo, hi = _INT_RANGES[dtype]

        def conv(v):
            if type(v) is int and lo <= v < hi:
                return v
            raise _type_error(v, dtype)
    elif dtype == "DT_BOOL":
        def conv(v):
            if type(v) is bool:
                return v
            raise _type_error(v, dtype)
    elif dtype == "DT_STRING":
        def conv(v):
            if type(v) is str:
                return _utf8(v)
            if isinstance(v, dict):
                return _decode_b64_object(v)
            raise _type_error(v, dtype)
    else:
        def conv(v):
            if isinstance(v, dict):
                raise _type_error(v, dtype)
            raise _Bad(f"Conversion of JSON Value: {_show(v)} to type: {_dtype_string(dtype)}", "UNIMPLEMENTED",
                       hint=_UNSUPPORTED_HINT.format(dtype=dtype))
    return conv


def _finish(dtype: str, values: list) -> tuple:
    """Apply the TensorProto -> Tensor cast: float32 rounding, narrow ints wrapped as C++ does."""
    if dtype == "DT_FLOAT":
        return tuple(array("f", values).tolist())  # overflow -> inf, tiny -> 0, as Serving's GetFloat()
    if dtype == "DT_DOUBLE":
        return tuple(map(float, values))
    if dtype in _NARROW:
        bits, signed = _NARROW[dtype]
        span, low = 2**bits, -(2 ** (bits - 1)) if signed else 0
        return tuple((v - low) % span + low for v in values)
    return tuple(values)


def _dense_shape(value) -> list[int]:
    """Serving's GetDenseTensorShape: the size of the first list at every level."""
    shape = []
    while type(value) is list:
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _plain_leaves(dtype: str, leaves: list) -> list | None:
    """The leaves as tensor values when all are plain and valid for dtype (checked at C speed), else None."""
    types = set(map(type, leaves))
    if dtype in ("DT_FLOAT", "DT_DOUBLE"):  # a NaN makes min/max unreliable only towards refusing
        ok = types <= {float} or (types <= {float, int} and -(2**63) <= min(leaves) and max(leaves) < 2**64)
    elif dtype in _INT_RANGES:
        lo, hi = _INT_RANGES[dtype]
        ok = types <= {int} and (not leaves or (lo <= min(leaves) and max(leaves) < hi))
    elif dtype == "DT_STRING":
        return list(map(_utf8, leaves)) if types <= {str} else None
    else:
        ok = dtype == "DT_BOOL" and types <= {bool}
    return leaves if ok else None


def _plain_tensor(value, shape: list[int], dtype: str) -> list | None:
    """The values of a well-formed tensor of plain leaves, found level by level in bulk; else None."""
    items = [value]
    for size in shape:
        if set(map(type, items)) != {list} or set(map(len, items)) != {size}:
            return None
        items = list(chain.from_iterable(items))
    return _plain_leaves(dtype, items)


def _fill(value, shape: list[int], dtype: str, conv: Callable, out: list) -> None:
    """Append the values of a dense JSON tensor to out, or raise Serving's error for the first fault."""
    values = _plain_tensor(value, shape, dtype)
    if values is None:  # b64 objects, big ints, or a fault: Serving's own walk
        _fill_in_order(value, 0, shape, conv, out)
    else:
        out.extend(values)


def _fill_in_order(value, level: int, shape: list[int], conv: Callable, out: list) -> None:
    """Serving's FillTensorProto: every leaf at depth rank, every list at a level of that level's size."""
    rank = len(shape)
    if type(value) is not list:
        if level != rank:
            raise _Bad(f"JSON Value: {_show(value)} found at incorrect level: {level + 1} in the JSON DOM. "
                       f"Expected at level: {rank}", hint="nest every value at the same depth")
        out.append(conv(value))
        return
    if level >= rank:
        raise _Bad(f"Encountered list at unexpected level: {level} expected < {rank}",
                   hint="nest every value at the same depth")
    if len(value) != shape[level]:
        raise _Bad(f"Encountered list at unexpected size: {len(value)} at level: {level} expected size: "
                   f"{shape[level]}", hint="lists at the same level must have the same length: tensors are not ragged")
    if level == rank - 1:
        for v in value:
            if type(v) is list:
                raise _Bad(f"Encountered list at unexpected level: {rank} expected < {rank}",
                           hint="nest every value at the same depth")
            out.append(conv(v))
    else:
        for v in value:
            _fill_in_order(v, level + 1, shape, conv, out)


def _shape_str(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


# ---------------------------------------------------------------- predict requests (§2.2)


class _Column:
    """The instances seen so far for one input (Serving's size_map / shape_map / TensorProto)."""

    def __init__(self, spec: TensorSpec):
        self.spec, self.conv = spec, _converter(spec.dtype)
        self.values: list = []
        self.shape: list[int] | None = None
        self.size = 0

    def add_instance(self, value) -> None:
        shape = _dense_shape(value)
        start = len(self.values)
        _fill(value, shape, self.spec.dtype, self.conv, self.values)
        size = len(self.values) - start
        if self.shape is None:
            self.shape, self.size = shape, size
        elif size != self.size:
            raise _Bad(f"Expecting tensor size: {self.size} but got: {size}",
                       hint="every instance must have the same shape: tensors are not ragged")
        elif shape != self.shape:
            raise _Bad(f"Expecting shape {_shape_str(self.shape)} but got: {_shape_str(shape)}",
                       hint="every instance must have the same shape: tensors are not ragged")

    def add_all(self, instances: list) -> bool:
        """All instances at once when they form one well-formed tensor (the same result, faster)."""
        shape = _dense_shape(instances)
        values = _plain_tensor(instances, shape, self.spec.dtype)
        if values is None:
            return False
        self.values, self.shape, self.size = values, shape[1:], len(values) // len(instances)
        return True

    def tensor(self, batch: int | None) -> Tensor:
        shape = tuple(self.shape or ()) if batch is None else (batch, *(self.shape or ()))
        return Tensor(self.spec.dtype, shape, _finish(self.spec.dtype, self.values))


def _reject(bad: _Bad, prefix: str = "") -> RequestRejected:
    text = f"{prefix}{bad.status()}" if prefix else bad.message
    return RequestRejected(text, bad.hint or "fix the request")


def _row_inputs(instances: list, specs: dict[str, TensorSpec]) -> dict[str, Tensor]:
    names = ",".join(sorted(specs))
    first = instances[0]
    named = isinstance(first, dict) and not _is_b64(first)
    if not named and len(specs) > 1:
        raise RequestRejected(
            "instances is a plain list, but expecting list of objects as multiple input tensors required as per "
            "tensorinfo_map", f'write each instance as an object with the keys {names}')
    columns = {k: _Column(spec) for k, spec in specs.items()}
    if not named and next(iter(columns.values())).add_all(instances):
        return {k: c.tensor(len(instances)) for k, c in columns.items()}
    for i, item in enumerate(instances):
        is_object = isinstance(item, dict) and not _is_b64(item)
        if named:
            if not is_object:
                raise RequestRejected(f"Expecting object but got list at item {i} of input list",
                                      f"write every instance as an object with the keys {names}")
            for key, value in item.items():
                column = columns.get(key)
                if column is None:
                    raise RequestRejected(
                        f"Failed to process element: {i} key: {key} of 'instances' list. Error: INVALID_ARGUMENT: "
                        f"JSON object: does not have named input: {key}", f"the signature's inputs are: {names}")
                try:
                    column.add_instance(value)
                except _Bad as bad:
                    raise _reject(bad, f"Failed to process element: {i} key: {key} of 'instances' list. Error: ")
            if item.keys() != specs.keys():
                raise RequestRejected(
                    f"Failed to process element: {i} of 'instances' list. JSON object: {_show(item)} keys must be "
                    f"equal to: {names}", f"every instance needs exactly the keys {names}")
        else:
            if is_object:
                raise RequestRejected(f"Expecting value/list but got object at item {i} of input list",
                                      "write every instance as a value or list, like the first one")
            try:
                next(iter(columns.values())).add_instance(item)
            except _Bad as bad:
                raise _reject(bad, f"Failed to process element: {i} of 'instances' list. Error: ")
    return {k: c.tensor(len(instances)) for k, c in columns.items()}


def _columnar_inputs(value, specs: dict[str, TensorSpec]) -> dict[str, Tensor]:
    names = ",".join(sorted(specs))
    if not isinstance(value, dict) or _is_b64(value):
        if len(specs) > 1:
            raise RequestRejected(
                "inputs is a plain value/list, but expecting an object as multiple input tensors required as per "
                "tensorinfo_map", f'write "inputs" as an object with the keys {names}')
        picked = {next(iter(specs)): value}
    else:
        picked = {}
        for key in specs:  # extra keys are ignored, as Serving does
            if key not in value:
                raise RequestRejected(f"Missing named input: {key} in 'inputs' object.",
                                      f'"inputs" needs the keys {names}')
            picked[key] = value[key]
    tensors = {}
    for key, v in picked.items():
        column = _Column(specs[key])
        try:
            column.add_instance(v)
        except _Bad as bad:
            raise _reject(bad)
        tensors[key] = column.tensor(None)
    return tensors


def shape_mismatch(key: str, spec: TensorSpec, tensor: Tensor, row_format: bool) -> tuple[str, str] | None:
    """(what is wrong, what to do) when a tensor contradicts the declared shape's rank or fixed dims."""
    declared = spec.shape
    if declared is None or not spec.shape_present:
        return None
    if len(declared) == len(tensor.shape) and all(d < 0 or d == a for d, a in zip(declared, tensor.shape)):
        return None
    if row_format and declared:
        want = f"each instance of {key!r} must have shape {_shape_str(declared[1:])}"
    else:
        want = f"send {key!r} with shape {_shape_str(declared)}"
    return f"input {key!r} has shape {_shape_str(tensor.shape)} but the signature declares {_shape_str(declared)}", want


def shape_mismatches(request: PredictRequest, signature: Signature) -> list[str]:
    """One line per input whose shape contradicts the signature (TF Serving itself does not check this)."""
    specs = {t.key: t for t in signature.inputs}
    found = (shape_mismatch(k, specs[k], t, request.row_format) for k, t in request.inputs.items() if k in specs)
    return [f"{what} ({want}, where -1 is any size)" for what, want in (m for m in found if m)]


def _check_declared_shape(key: str, spec: TensorSpec, tensor: Tensor, row_format: bool) -> None:
    mismatch = shape_mismatch(key, spec, tensor, row_format)
    if mismatch:
        what, want = mismatch
        raise RequestRejected(
            None, f"{want}, where -1 is any size; TF Serving itself does not check declared shapes, so turning "
            "check_shapes off sends it as Serving would, and the model may then fail", what)


def _predict(doc: _Object, sig: Signature, name: str | None, check_shapes: bool) -> PredictRequest:
    if not sig.inputs:
        raise RequestRejected(f"Failed to get input map for signature: {name or 'DEFAULT'}",
                              f"signature {sig.key!r} has no inputs; TF Serving's REST API cannot call it, gRPC can")
    specs = {t.key: t for t in sig.inputs}
    for t in sig.inputs:
        if t.encoding not in ("name", ""):
            raise RequestRejected(None, "the REST JSON API feeds only dense tensors; use gRPC for this signature",
                                  f"input {t.key!r} is a {t.encoding} tensor")
    has_instances, has_inputs = "instances" in doc, "inputs" in doc
    if has_instances and has_inputs:
        raise RequestRejected(f"JSON Value: {_show(doc)} Not formatted correctly expecting only one of 'inputs' or "
                              "'instances' keys to exist ",
                              'send either "instances" (row format) or "inputs" (columnar format), not both')
    if has_instances:
        instances = doc["instances"]
        if not isinstance(instances, list):
            raise RequestRejected(f"JSON Value: {_show(doc)} Expecting 'instances' to be an list/array",
                                  '"instances" must be a list with one entry per instance')
        if not instances:
            raise RequestRejected(f"JSON Value: {_show(doc)} No values in 'instances' array",
                                  'give "instances" at least one instance')
        inputs = _row_inputs(instances, specs)
    elif has_inputs:
        inputs = _columnar_inputs(doc["inputs"], specs)
    else:
        raise RequestRejected("Missing 'inputs' or 'instances' key",
                              'send {"instances": [...]} or {"inputs": ...}; classify and regress take '
                              '{"examples": [...]}')
    if check_shapes:
        for key, tensor in inputs.items():
            _check_declared_shape(key, specs[key], tensor, has_instances)
    return PredictRequest(name, has_instances, inputs)


# ---------------------------------------------------------------- classify / regress requests (§2.3)

_KIND_NAMES = {"bytes_list": "bytes", "float_list": "float", "int64_list": "int64"}


def _feature(name: str, content) -> Feature:
    """Serving's AddValueToFeature over a scalar or flat list."""
    kind, values = "", []
    for v in content if isinstance(content, list) else (content,):
        if v is None or isinstance(v, list) or (isinstance(v, dict) and not _is_b64(v)):
            raise _Bad(f"Feature: {name} has element with unexpected JSON type: {_json_type(v)}",
                       hint="a feature is a number, string, true/false, {\"b64\": ...}, or a flat list of one kind")
        if isinstance(v, bool):
            want, value = "int64_list", int(v)
        elif isinstance(v, dict):
            want, value = "bytes_list", v
        elif isinstance(v, str):
            want, value = "bytes_list", _utf8(v)
        elif isinstance(v, float) or not -(2**63) <= v < 2**64:
            want, value = "float_list", v if isinstance(v, float) else _as_double(v)
        else:
            want, value = "int64_list", v
        if kind and kind != want:
            raise _Bad(f"Unexpected element type in feature: {name} expecting type: {_KIND_NAMES[kind]}",
                       hint="all values of one feature must be of one kind: write 10.0, not 10, in a float list")
        kind = want
        if isinstance(value, dict):
            value = _decode_b64_object(value)
        elif want == "int64_list" and value >= 2**63:
            raise _Bad(f"Feature: {name} has uint64_t element. Only int64_t is supported.",
                       hint="int64 features hold -9223372036854775808 to 9223372036854775807")
        values.append(value)
    if kind == "float_list":
        values = array("f", values).tolist()
    return Feature(kind, tuple(values))


def _features(value) -> dict[str, Feature]:
    """Serving's MakeExampleFromJsonObject: a later duplicate key replaces an earlier one."""
    if not isinstance(value, dict):
        raise _Bad(f"Example must be JSON object but got JSON {_json_type(value)}",
                   hint='write each example and the context as an object {"feature": value, ...}')
    return {k: _feature(k, v) for k, v in (value.pairs if value.pairs is not None else value.items())}


def _examples(doc: _Object, signature, name: str | None, method: str) -> ExamplesRequest:
    """method: "classify", "regress", or "" when guessed from the body (the signature's method_name decides)."""
    try:
        context = _features(doc["context"]) if "context" in doc else None
        if "examples" not in doc:
            raise _Bad(f"JSON Value: {_show(doc)} When method is classify, key 'examples' is expected and was not "
                       "found", hint='send {"examples": [{...}, ...]}')
        examples = doc["examples"]
        if not isinstance(examples, list):
            raise _Bad(f"JSON Value: {_show(doc)} Expecting 'examples' value to be an list/array",
                       hint='"examples" must be a list of objects')
        if not examples:
            raise _Bad(f"JSON Value: {_show(doc)} 'examples' value is an empty array",
                       hint='give "examples" at least one example')
        parsed = tuple(_features(e) for e in examples)
    except _Bad as bad:
        raise _reject(bad) from None
    sig = _pick_signature(signature, name, method or "classify")  # Serving looks it up after reading the examples
    what = "regression" if method == "regress" or (not method and sig.method_name == REGRESS) else "classification"
    if len(sig.inputs) != 1:
        raise RequestRejected("Expected one input Tensor.",
                              f"{what} needs a signature with exactly one input, \"inputs\", of serialized tf.Examples; "
                              f"{sig.key!r} has {len(sig.inputs)}")
    if sig.inputs[0].key != "inputs":
        raise RequestRejected(f"No {what} inputs found in SignatureDef",
                              f"{what} needs the input key \"inputs\"; {sig.key!r} has {sig.inputs[0].key!r}; "
                              'call it with "instances" or "inputs" instead')
    return ExamplesRequest(name, parsed, context)


# ---------------------------------------------------------------- requests: entry point


def parse_request(body: str | bytes, signature: Signature | Mapping[str, Signature], *, method: str | None = None,
                  check_shapes: bool = True) -> PredictRequest | ExamplesRequest:
    """Parse and check a REST request body as TF Serving would (see the module docstring)."""
    if method not in (None, "predict", "classify", "regress"):
        raise ValueError(f"method must be predict, classify or regress, not {method!r}")
    try:
        return _parse(_load(body), signature, method, check_shapes)
    except MemoryError:
        raise RequestRejected(None, "send a smaller request", "request is too large to hold in memory") from None


def _parse(doc: _Object, signature, method: str | None, check_shapes: bool) -> PredictRequest | ExamplesRequest:
    name = doc.get("signature_name")
    if "signature_name" in doc and not isinstance(name, str):
        raise RequestRejected(f"JSON Value: {_show(doc)} not formatted correctly. 'signature_name' key must be a "
                              "string value.", 'give "signature_name" as a string, e.g. "serving_default"')
    if method is None and "examples" in doc and "instances" not in doc and "inputs" not in doc:
        method = ""  # classify or regress: the signature's method_name tells which
    if method in (None, "predict"):
        return _predict(doc, _pick_signature(signature, name, "predict"), name, check_shapes)
    return _examples(doc, signature, name, method)


def _pick_signature(signature, name: str | None, method: str) -> Signature:
    wanted = name or DEFAULT_SIGNATURE
    if isinstance(signature, Signature):
        if name and name != signature.key:
            raise RequestRejected(None, f'remove "signature_name" from the request or run signature {name!r}',
                                  f"the request names signature {name!r} but {signature.key!r} was selected")
        return signature
    if wanted in signature:
        return signature[wanted]
    keys = ", ".join(sorted(k for k in signature if not k.startswith("__"))) or "(none)"
    message = (f'Serving signature name: "{wanted}" not found in signature def' if method == "predict"
               else f"No signature was found with the name: {wanted}")
    raise RequestRejected(message, f'set "signature_name" to one of: {keys}')


# ---------------------------------------------------------------- tf.Example wire format


def _encode_feature(feature: Feature) -> bytes:
    # Feature: oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; }
    # each list: value = 1 (bytes repeated; float and int64 packed, written only when non-empty)
    field = wire.length_delimited
    values = feature.values
    if feature.kind == "bytes_list":
        return field(1, b"".join(field(1, v) for v in values))
    if feature.kind == "float_list":
        return field(2, field(1, struct.pack(f"<{len(values)}f", *values)) if values else b"")
    if feature.kind == "int64_list":
        return field(3, field(1, b"".join(wire.encode_varint(v) for v in values)) if values else b"")
    return b""


def encode_example(features: Mapping[str, Feature]) -> bytes:
    """A serialized tf.Example, map entries sorted by key as SerializeToString(deterministic=True) writes them.

    Example.features = 1; Features.feature = 1 (map entry: key = 1, value = 2). No features -> b"" (Serving only
    sets Example.features when the JSON object has a member).
    """
    if not features:
        return b""
    field = wire.length_delimited
    entries = sorted((_utf8(k), f) for k, f in features.items())
    return field(1, b"".join(field(1, field(1, k) + field(2, _encode_feature(f))) for k, f in entries))


def build_examples(request: ExamplesRequest) -> list[bytes]:
    """The DT_STRING batch Serving feeds to "inputs": context bytes + example bytes for each example."""
    context = encode_example(request.context) if request.context is not None else b""
    return [context + encode_example(e) for e in request.examples]


# ---------------------------------------------------------------- responses (§2.5)

_BYTES_SUFFIX = "_bytes"
_INT_DTYPES = {"DT_INT32", "DT_INT16", "DT_INT8", "DT_UINT8", "DT_INT64", "DT_UINT32", "DT_UINT64"}


def _string_token(value: bytes | str, as_b64: bool) -> str | None:
    """A quoted JSON string, or None when it must go out as {"b64": ...}."""
    if isinstance(value, str):
        value = _utf8(value)
    if not as_b64:
        try:
            return _quote(value.decode("utf-8"))
        except UnicodeDecodeError:
            pass  # Serving would write invalid JSON here
    return None


def _tokens(dtype: str, values, as_b64: bool) -> list[str | None]:
    """Serving's AddSingleValueAndAdvance for every value: JSON text, or None for a {"b64": ...} object."""
    if dtype in ("DT_FLOAT", "DT_DOUBLE"):
        return _float_tokens(values, dtype)
    if dtype in _INT_DTYPES:
        return list(map(str, map(int, values)))
    if dtype == "DT_BOOL":
        return ["true" if v else "false" for v in values]
    if dtype == "DT_STRING":
        return [_string_token(v, as_b64) for v in values]
    if values:
        raise ResponseRejected(f"Failed to write JSON value for tensor type: {_dtype_string(dtype)}",
                               "TF Serving's REST API cannot return this dtype; cast the output in the model")
    return []


def _write_b64(w: _Writer, value: bytes | str) -> None:
    w.start(False)
    w.raw('"b64"')
    w.raw(_quote(base64.b64encode(_utf8(value) if isinstance(value, str) else value).decode("ascii")))
    w.end()


class _TensorWriter:
    """Serving's AddTensorValues for one tensor, walking its flat values with an offset."""

    def __init__(self, name: str, tensor: Tensor):
        self.tensor, self.offset = tensor, 0
        self.tokens = _tokens(tensor.dtype, tensor.values, tensor.dtype == "DT_STRING" and name.endswith(_BYTES_SUFFIX))

    def _one(self, w: _Writer) -> None:
        token = self.tokens[self.offset]
        if token is None:
            _write_b64(w, self.tensor.values[self.offset])
        else:
            w.raw(token)
        self.offset += 1

    def write(self, w: _Writer, dim: int) -> None:
        shape = self.tensor.shape
        if dim >= len(shape):
            self._one(w)
            return
        if dim == len(shape) - 1:
            tokens = self.tokens[self.offset:self.offset + shape[dim]]
            if None not in tokens:
                w.array_of(tokens)
                self.offset += shape[dim]
                return
        w.start(True)
        for _ in range(shape[dim]):
            self.write(w, dim + 1)
        w.end()


def format_predict_response(outputs: Mapping[str, Tensor], row_format: bool) -> str:
    """Serving's MakeJsonFromTensors: {"predictions": ...} for row requests, {"outputs": ...} for columnar."""
    if not outputs:
        raise ResponseRejected("Cannot convert empty tensor map to JSON", "the signature returned no outputs")
    names = sorted(outputs)
    w = _Writer()
    w.start(False)
    if row_format:
        batch = None
        for n in names:
            shape = outputs[n].shape
            if not shape:
                raise ResponseRejected(f"Tensor name: {n} has no shape information ",
                                       "a row-format response needs every output to have a batch dimension; "
                                       'send "inputs" (columnar) instead of "instances"')
            if batch is not None and shape[0] != batch:
                raise ResponseRejected(f"Tensor name: {n} has inconsistent batch size: {shape[0]} expecting: {batch}",
                                       "outputs disagree on the batch dimension; send \"inputs\" (columnar) "
                                       'instead of "instances"')
            batch = shape[0]
        writers = {n: _TensorWriter(n, outputs[n]) for n in names}
        w.raw('"predictions"')
        w.start(True)
        for _ in range(batch):
            if len(names) > 1:
                w.start(False)
            w.single_line = True
            for n in names:
                if len(names) > 1:
                    w.raw(_quote(n))
                writers[n].write(w, 1)
            w.single_line = False
            if len(names) > 1:
                w.end()
        w.end()
    else:
        writers = {n: _TensorWriter(n, outputs[n]) for n in names}
        w.raw('"outputs"')
        if len(names) > 1:
            w.start(False)
        for n in names:
            if len(names) > 1:
                w.raw(_quote(n))
            writers[n].write(w, 0)
        if len(names) > 1:
            w.end()
    w.end()
    return w.text()


def format_classify_response(classes: Tensor | None, scores: Tensor | None, num_examples: int | None = None) -> str:
    """Serving's classify result: {"results": [[[label, score], ...] per example]}.

    classes: DT_STRING [batch, num_classes]; scores: DT_FLOAT [batch, num_classes]; either may be None
    (label "" / score 0). num_examples: how many examples were fed (default: the outputs' batch size).
    """
    if classes is None and scores is None:
        raise ResponseRejected('Expected classification signature outputs to contain at least one of "classes" or '
                               '"scores".', 'give the signature a "classes" and/or "scores" output')
    for label, t, dtype in (("classes", classes, "DT_STRING"), ("scores", scores, "DT_FLOAT")):
        if t is None:
            continue
        if len(t.shape) != 2:
            raise ResponseRejected(f"Expected Tensor shape: [batch_size num_classes] but got {_shape_str(t.shape)}",
                                   f"the {label} output must have shape [batch, num_classes]")
        if t.dtype != dtype:
            raise ResponseRejected(f"Expected {label} Tensor of {dtype}. Got: {t.dtype}",
                                   f"the {label} output must be {dtype}")
        if num_examples is not None and t.shape[0] != num_examples:
            raise ResponseRejected(f"Expected {label} output batch size of {num_examples}. Got: {t.shape[0]}",
                                   f"the {label} output needs one row per example")
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise ResponseRejected(f"Tensors class and score should match in dim_size(1). Got {classes.shape[1]} vs. "
                               f"{scores.shape[1]}", "classes and scores must have the same number of columns")
    batch, width = (classes if classes is not None else scores).shape
    if not batch:
        raise ResponseRejected("Cannot convert empty ClassificationResults to JSON", "send at least one example")
    labels = classes.values if classes is not None else (b"",) * (batch * width)
    scores_text = _float_tokens(scores.values if scores is not None else (0.0,) * (batch * width), "DT_FLOAT")
    w = _Writer()
    w.start(False)
    w.raw('"results"')
    w.start(True)
    for i in range(batch):
        w.single_line = True
        w.start(True)
        for j in range(i * width, (i + 1) * width):
            w.start(True)
            token = _string_token(labels[j], False)
            if token is None:
                _write_b64(w, labels[j])
            else:
                w.raw(token)
            w.raw(scores_text[j])
            w.end()
        w.end()
        w.single_line = False
    w.end()
    w.end()
    return w.text()


def format_regress_response(outputs: Tensor, num_examples: int | None = None) -> str:
    """Serving's regress result: {"results": [value, ...]}; outputs is DT_FLOAT [batch] or [batch, 1]."""
    shape = outputs.shape
    if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
        raise ResponseRejected("Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
                               f"{_shape_str(shape)}", "the regression output must have shape [batch] or [batch, 1]")
    if num_examples is not None and shape[0] != num_examples:
        raise ResponseRejected(f"Input batch size did not match output batch size: {num_examples} vs. {shape[0]}",
                               "the regression output needs one value per example")
    if outputs.dtype != "DT_FLOAT":
        raise ResponseRejected(f"Expected output Tensor of DT_FLOAT.  Got: {outputs.dtype}",
                               "the regression output must be DT_FLOAT")
    if not outputs.values:
        raise ResponseRejected("Cannot convert empty RegressionResults to JSON", "send at least one example")
    w = _Writer()
    w.start(False)
    w.raw('"results"')
    w.single_line = True
    w.array_of(_float_tokens(outputs.values, "DT_FLOAT"))
    w.end()
    return w.text()


def format_error(message: str) -> str:
    """Serving's MakeJsonFromStatus body for a failed request."""
    w = _Writer()
    w.start(False)
    w.raw('"error"')
    w.raw(_quote(message))
    w.end()
    return w.text()
