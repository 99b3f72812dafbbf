"""Protobuf messages as TF Serving's REST API prints them (its metadata endpoint).

Serving calls protobuf's C++ MessageToJsonString with add_whitespace, always-print-primitive-fields and
preserve_proto_field_names. Its golden files (TF Serving's servables/tensorflow/testdata) show the layout
this reproduces:

* one space of indent per level, `"key": value`, `{}` and `[]` for empty containers, a newline at the end;
* in each message, the fields outside any oneof in declaration order: scalars always (their default
  when unset), repeated fields and maps always (`[]`, `{}`), submessages only when set; then the oneof
  members that are set, by field number;
* 64-bit integers as strings, enums by name (the number when unnamed), bytes as base64, floats and doubles
  as C++'s SimpleFtoa / SimpleDtoa write them (NaN, Infinity as strings), the wrapper types as their value;
* map entries sorted by key (Serving's own order is hash order; its tests compare parsed JSON);
* strings escaped as protobuf's C++ JSON writer escapes them (also < and > and invisible characters).
"""

from __future__ import annotations

import base64
import math
import struct

from google.protobuf.descriptor import FieldDescriptor

_WRAPPERS = frozenset(
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
)
_INT64 = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)


def to_json(message) -> str:
    """The message as Serving's REST API prints it, ending in a newline."""
    out: list[str] = []
    _write(_message(message), 0, out)
    return "".join(out) + "\n"


class _Raw(str):
    """A JSON token written as is (a number, true/false)."""


def _message(message):
    descriptor = message.DESCRIPTOR
    if descriptor.full_name in _WRAPPERS:
        return _scalar(descriptor.fields_by_name["value"], message.value)
    items: list[tuple[str, object]] = []
    for field in descriptor.fields:
        if field.containing_oneof is not None:
            continue
        value = _field(message, field)
        if value is not None:
            items.append((field.name, value))
    members = [f for f in descriptor.fields if f.containing_oneof is not None and message.HasField(f.name)]
    for field in sorted(members, key=lambda f: f.number):
        items.append((field.name, _field(message, field)))
    return dict(items)


def _is_map(field) -> bool:
    entry = field.message_type
    return entry is not None and entry.GetOptions().map_entry


def _is_repeated(field) -> bool:
    # FieldDescriptor.label is deprecated in protobuf 6+; is_repeated is missing before 5.
    repeated = getattr(field, "is_repeated", None)
    return repeated if isinstance(repeated, bool) else field.label == FieldDescriptor.LABEL_REPEATED


def _field(message, field):
    value = getattr(message, field.name)
    if _is_map(field):
        value_field = field.message_type.fields_by_name["value"]
        convert = _message if value_field.message_type is not None else lambda v: _scalar(value_field, v)
        return {str(k): convert(value[k]) for k in sorted(value)}
    if _is_repeated(field):
        if field.message_type is not None:
            return [_message(v) for v in value]
        return [_scalar(field, v) for v in value]
    if field.message_type is not None:
        return _message(value) if message.HasField(field.name) else None
    return _scalar(field, value)


def _scalar(field, value):
    kind = field.type
    if kind == FieldDescriptor.TYPE_ENUM:
        named = field.enum_type.values_by_number.get(value)
        return named.name if named is not None else _Raw(str(value))
    if kind == FieldDescriptor.TYPE_BOOL:
        return _Raw("true" if value else "false")
    if kind in _INT64:
        return str(value)
    if kind == FieldDescriptor.TYPE_FLOAT:
        return _number(value, _simple_ftoa)
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return _number(value, _simple_dtoa)
    if kind == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    if kind == FieldDescriptor.TYPE_STRING:
        return value
    return _Raw(str(value))  # 32-bit integers


def _number(value: float, fmt):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return _Raw(fmt(value))


def _simple_dtoa(value: float) -> str:
    text = f"{value:.15g}"
    return text if float(text) == value else f"{value:.17g}"


def _simple_ftoa(value: float) -> str:
    f32 = struct.unpack("<f", struct.pack("<f", value))[0]
    text = f"{f32:.6g}"
    return text if struct.unpack("<f", struct.pack("<f", float(text)))[0] == f32 else f"{f32:.9g}"


def _write(value, level: int, out: list[str]) -> None:
    if isinstance(value, _Raw):
        out.append(value)
    elif isinstance(value, str):
        out.append(_quote(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{\n")
        for i, (key, item) in enumerate(value.items()):
            out.append(" " * (level + 1) + _quote(key) + ": ")
            _write(item, level + 1, out)
            out.append(",\n" if i < len(value) - 1 else "\n")
        out.append(" " * level + "}")
    else:
        if not value:
            out.append("[]")
            return
        out.append("[\n")
        for i, item in enumerate(value):
            out.append(" " * (level + 1))
            _write(item, level + 1, out)
            out.append(",\n" if i < len(value) - 1 else "\n")
        out.append(" " * level + "]")


_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Code points protobuf's C++ JSON writer writes as \uXXXX besides the C0 controls: < and > (for HTML),
# DEL, the C1 controls, and format characters that are invisible.
_ESCAPED_RANGES = (
    (0x3C, 0x3C),
    (0x3E, 0x3E),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x600, 0x603),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x17B4, 0x17B5),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x206A, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _escaped(code: int) -> bool:
    return code < 0x20 or any(lo <= code <= hi for lo, hi in _ESCAPED_RANGES)


def _unicode_escape(code: int) -> str:
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _quote(text: str) -> str:
    parts = []
    for ch in text:
        if ch in _SHORT:
            parts.append(_SHORT[ch])
        elif _escaped(ord(ch)):
            parts.append(_unicode_escape(ord(ch)))
        else:
            parts.append(ch)
    return '"' + "".join(parts) + '"'


def map_json(field_name: str, entries) -> str:
    """A message holding one map field, e.g. Serving's SignatureDefMap {signature_def: {key: message}}."""
    out: list[str] = []
    _write({field_name: {str(k): _message(v) for k, v in sorted(entries)}}, 0, out)
    return "".join(out) + "\n"
