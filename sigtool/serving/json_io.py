"""rapidjson as TF Serving uses it: the request reader's quirks and errors, and its PrettyWriter byte for byte."""

from __future__ import annotations

import contextlib
import gc
import json
import math
import re

from sigtool.serving.errors import RequestRejected
from sigtool.serving.floats import format_float

MAX_BODY_BYTES = 64 * 1024 * 1024  # sigtool's own limits: Serving has none
MAX_DEPTH = 64


# ---------------------------------------------------------------- reader


class JsonObject(dict):
    """A JSON object. Lookups see the first of duplicate keys (rapidjson FindMember); `pairs` keeps all."""

    pairs: list | None = None

    @property
    def member_count(self) -> int:
        return len(self.pairs) if self.pairs is not None else len(self)


def _object(pairs: list) -> JsonObject:
    obj = JsonObject(pairs)
    if len(obj) != len(pairs):  # duplicates: first wins
        obj = JsonObject()
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
TOO_BIG_HINT = "numbers must fit in a double, about 1.8e308 at most"


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


def load(body: str | bytes) -> JsonObject:
    """Parse a request body as Serving's rapidjson does; returns the top-level object or raises RequestRejected.

    Kept from rapidjson: NaN, Infinity, -Infinity, Inf and -Inf are numbers; text after the top-level value is
    ignored; of duplicate keys the first wins (JsonObject.pairs keeps them all). sigtool's own limits: bodies over
    MAX_BODY_BYTES or nested deeper than MAX_DEPTH are refused.
    """
    size = len(body)
    if isinstance(body, str) and size <= MAX_BODY_BYTES:
        size = len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise RequestRejected(
            None,
            f"sigtool accepts request bodies up to {MAX_BODY_BYTES // 2**20} MiB; send fewer instances per request",
            f"request body is {size} bytes",
        )
    if isinstance(body, bytes):
        body = body.decode("utf-8", "surrogateescape")  # rapidjson does not validate UTF-8 either
    if not body:
        raise RequestRejected("JSON Parse error: The document is empty", _JSON_HINT)
    start = 1 if body.startswith("\ufeff") else 0  # rapidjson's UTF-8 stream skips a BOM
    while start < len(body) and body[start] in " \t\n\r":
        start += 1
    if start == len(body):
        raise RequestRejected(
            f"JSON Parse error: The document is empty. at offset: {_byte_offset(body, start)}", _JSON_HINT
        )
    if _too_deep(body):
        raise RequestRejected(None, "flatten the request", f"request JSON nests deeper than {MAX_DEPTH} levels")
    text = body
    for attempt in (1, 2):
        try:
            doc = _decode(text, start)
            break
        except _TooBig as e:
            offset = _byte_offset(text, max(text.find(str(e)), 0))
            raise RequestRejected(
                f"JSON Parse error: Number too big to be stored in double. at offset: {offset}", TOO_BIG_HINT
            ) from None
        except json.JSONDecodeError as e:
            if attempt == 1 and re.match(r"-?Inf|-NaN", text[e.pos : e.pos + 4]):
                text = _LOOSE_TOKENS.sub(_loose_tokens, text)
                continue
            reason = _PARSE_ERRORS.get(e.msg, e.msg + ".")
            raise RequestRejected(
                f"JSON Parse error: {reason} at offset: {_byte_offset(text, e.pos)}", _JSON_HINT
            ) from None
        except ValueError as e:  # an integer literal with thousands of digits
            raise RequestRejected("JSON Parse error: Number too big to be stored in double.", TOO_BIG_HINT) from e
        except RecursionError:  # not expected after _too_deep; never let one escape
            raise RequestRejected(None, "flatten the request", "request JSON nests too deeply") from None
    if not isinstance(doc, JsonObject):  # every object the decoder makes is one
        raise RequestRejected(f"JSON Value: {show(doc)} Is not object", _JSON_HINT)
    return doc


def utf8(s: str) -> bytes:
    """The bytes a parsed JSON string stands for (the reader keeps a non-UTF-8 body's bytes as surrogates)."""
    try:
        return s.encode()
    except UnicodeEncodeError:  # raw bytes of a non-UTF-8 body, or a lone \uD800-style escape
        try:
            return s.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return s.encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- writer


class _Truncated(Exception):
    pass


_ESCAPES = {c: f"\\u{c:04X}" for c in range(0x20)} | {
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    0x22: '\\"',
    0x5C: "\\\\",
}


def quote(s: str | bytes) -> str:
    """A JSON string token as rapidjson's Writer escapes it."""
    if isinstance(s, bytes):
        s = s.decode("utf-8", "surrogateescape")
    return '"' + s.translate(_ESCAPES) + '"'


class Writer:
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


def show(value, limit: int = 256) -> str:
    """Serving's JsonValueToDebugString: pretty, arrays on one line, cut once 256 chars are out."""
    w = Writer(limit)
    w.single_line = True
    with contextlib.suppress(_Truncated):
        _write_json(w, value)
    return w.text()


def _write_json(w: Writer, value) -> None:
    if isinstance(value, dict):
        w.start(False)
        for k, v in value.items():
            w.raw(quote(k))
            _write_json(w, v)
        w.end()
    elif isinstance(value, list):
        w.start(True)
        for v in value:
            _write_json(w, v)
        w.end()
    elif isinstance(value, str):
        w.raw(quote(value))
    elif value is None or isinstance(value, bool):
        w.raw(json.dumps(value))
    elif isinstance(value, float):
        w.raw(format_float(value, "DT_DOUBLE"))
    else:
        w.raw(str(value))
