"""JSON values -> tensor values by the rules and error texts of Serving's util/json_tensor.cc."""

from __future__ import annotations

import base64
import binascii
import re
from array import array
from collections.abc import Callable
from itertools import chain

from sigtool.serving.errors import StatusError
from sigtool.serving.json_io import TOO_BIG_HINT, JsonObject, show, utf8
from sigtool.serving.values import dtype_string


def json_type(value) -> str:
    """rapidjson's type name for a value, as Serving's messages give it."""
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


def is_b64(value) -> bool:
    """Whether a JSON value is a {"b64": "..."} object (one member, a string)."""
    return isinstance(value, JsonObject) and value.member_count == 1 and isinstance(value.get("b64"), str)


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


def decode_b64_object(value) -> bytes:
    """The bytes of a {"b64": ...} object, or Serving's error for a malformed one."""
    if not is_b64(value):
        raise StatusError(
            f"JSON Value: {show(value)} not formatted correctly for base64 data",
            hint='binary strings are written {"b64": "<base64>"} with no other key',
        )
    raw = _b64decode(value["b64"])
    if raw is None:
        raise StatusError(
            "Unable to base64 decode",
            hint='the "b64" value must be standard base64: A-Z a-z 0-9 + /, '
            "optional = padding, not the URL-safe - and _",
        )
    return raw


_INT_RANGES = {  # dtype -> what rapidjson's IsInt / IsInt64 / IsUint / IsUint64 accept
    "DT_INT32": (-(2**31), 2**31),
    "DT_INT16": (-(2**31), 2**31),
    "DT_INT8": (-(2**31), 2**31),
    "DT_UINT8": (-(2**31), 2**31),
    "DT_INT64": (-(2**63), 2**63),
    "DT_UINT32": (0, 2**32),
    "DT_UINT64": (0, 2**64),
}
_NARROW = {"DT_INT16": (16, True), "DT_INT8": (8, True), "DT_UINT8": (8, False)}  # bits, signed
_UNSUPPORTED_HINT = (
    "TF Serving's REST API cannot feed {dtype} inputs; use gRPC, or a signature with float, double, "
    "int8/16/32/64, uint8/32/64, bool or string inputs"
)
_TYPE_HINTS = {
    "DT_FLOAT": "send numbers; NaN, Infinity and -Infinity are allowed",
    "DT_DOUBLE": "send numbers; NaN, Infinity and -Infinity are allowed",
    "DT_BOOL": "send true or false",
    "DT_STRING": 'send strings, or {"b64": "<base64>"} for binary data',
}


def _type_error(value, dtype: str) -> StatusError:
    if dtype in _INT_RANGES:
        lo, hi = _INT_RANGES[dtype]
        hint = f"send whole numbers from {lo} to {hi - 1}, written without a decimal point"
    else:
        hint = _TYPE_HINTS.get(dtype, _UNSUPPORTED_HINT.format(dtype=dtype))
    return StatusError(
        f"JSON Value: {show(value)} Type: {json_type(value)} is not of expected type: {dtype_string(dtype)}", hint=hint
    )


def as_double(value: int) -> float:
    """A JSON integer outside [-2**63, 2**64) is a double to rapidjson."""
    try:
        return float(value)
    except OverflowError:
        raise StatusError("JSON Parse error: Number too big to be stored in double.", hint=TOO_BIG_HINT) from None


def converter(dtype: str) -> Callable:
    """JSON leaf -> Python value for this dtype, raising StatusError as Serving's AddValueToTensor does."""
    if dtype in ("DT_FLOAT", "DT_DOUBLE"):

        def conv(v):
            t = type(v)
            if t is float:
                return v
            if t is int:
                return v if -(2**63) <= v < 2**64 else as_double(v)
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
                return utf8(v)
            if isinstance(v, dict):
                return decode_b64_object(v)
            raise _type_error(v, dtype)
    else:

        def conv(v):
            if isinstance(v, dict):
                raise _type_error(v, dtype)
            raise StatusError(
                f"Conversion of JSON Value: {show(v)} to type: {dtype_string(dtype)}",
                "UNIMPLEMENTED",
                hint=_UNSUPPORTED_HINT.format(dtype=dtype),
            )

    return conv


def finish(dtype: str, values: list) -> tuple:
    """Apply the TensorProto -> Tensor cast: float32 rounding, narrow ints wrapped as C++ does (300 -> 44 in int8)."""
    if dtype == "DT_FLOAT":
        return tuple(array("f", values).tolist())  # overflow -> inf, tiny -> 0, as Serving's GetFloat()
    if dtype == "DT_DOUBLE":
        return tuple(map(float, values))
    if dtype in _NARROW:
        bits, signed = _NARROW[dtype]
        span, low = 2**bits, -(2 ** (bits - 1)) if signed else 0
        return tuple((v - low) % span + low for v in values)
    return tuple(values)


def dense_shape(value) -> list[int]:
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
        ok = types <= {float} or (types <= {float, int} and min(leaves) >= -(2**63) and max(leaves) < 2**64)
    elif dtype in _INT_RANGES:
        lo, hi = _INT_RANGES[dtype]
        ok = types <= {int} and (not leaves or (lo <= min(leaves) and max(leaves) < hi))
    elif dtype == "DT_STRING":
        return list(map(utf8, leaves)) if types <= {str} else None
    else:
        ok = dtype == "DT_BOOL" and types <= {bool}
    return leaves if ok else None


def plain_tensor(value, shape: list[int], dtype: str) -> list | None:
    """The values of a well-formed tensor of plain leaves, found level by level in bulk; else None."""
    items = [value]
    for size in shape:
        if set(map(type, items)) != {list} or set(map(len, items)) != {size}:
            return None
        items = list(chain.from_iterable(items))
    return _plain_leaves(dtype, items)


def fill(value, shape: list[int], dtype: str, conv: Callable, out: list) -> None:
    """Append the values of a dense JSON tensor to out, or raise Serving's error for the first fault."""
    values = plain_tensor(value, shape, dtype)
    if values is None:  # b64 objects, big ints, or a fault: Serving's own walk
        _fill_in_order(value, 0, shape, conv, out)
    else:
        out.extend(values)


_NEST_HINT = "nest every value at the same depth"


def _fill_in_order(value, level: int, shape: list[int], conv: Callable, out: list) -> None:
    """Serving's FillTensorProto: every leaf at depth rank, every list at a level of that level's size."""
    rank = len(shape)
    if type(value) is not list:
        if level != rank:
            raise StatusError(
                f"JSON Value: {show(value)} found at incorrect level: {level + 1} in the JSON DOM. "
                f"Expected at level: {rank}",
                hint=_NEST_HINT,
            )
        out.append(conv(value))
        return
    if level >= rank:
        raise StatusError(f"Encountered list at unexpected level: {level} expected < {rank}", hint=_NEST_HINT)
    if len(value) != shape[level]:
        raise StatusError(
            f"Encountered list at unexpected size: {len(value)} at level: {level} expected size: {shape[level]}",
            hint="lists at the same level must have the same length: tensors are not ragged",
        )
    if level == rank - 1:
        for v in value:
            if type(v) is list:
                raise StatusError(f"Encountered list at unexpected level: {rank} expected < {rank}", hint=_NEST_HINT)
            out.append(conv(v))
    else:
        for v in value:
            _fill_in_order(v, level + 1, shape, conv, out)
