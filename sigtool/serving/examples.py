"""tf.Examples as Serving builds them for Classify and Regress: JSON objects -> Features -> serialized bytes."""

from __future__ import annotations

import struct
from array import array
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sigtool import wire
from sigtool.serving.errors import StatusError
from sigtool.serving.json_io import JsonObject, utf8
from sigtool.serving.json_tensor import as_double, decode_b64_object, is_b64, json_type
from sigtool.serving.values import Feature

if TYPE_CHECKING:
    from sigtool.serving.requests import ExamplesRequest

_KIND_NAMES = {"bytes_list": "bytes", "float_list": "float", "int64_list": "int64"}


def _feature(name: str, content) -> Feature:
    """Serving's AddValueToFeature over a scalar or flat list (an integer beyond uint64 is a float)."""
    kind = ""
    values: list[Any] = []
    value: Any
    for v in content if isinstance(content, list) else (content,):
        if v is None or isinstance(v, list) or (isinstance(v, dict) and not is_b64(v)):
            raise StatusError(
                f"Feature: {name} has element with unexpected JSON type: {json_type(v)}",
                hint='a feature is a number, string, true/false, {"b64": ...}, or a flat list of one kind',
            )
        if isinstance(v, bool):
            want, value = "int64_list", int(v)
        elif isinstance(v, dict):
            want, value = "bytes_list", v
        elif isinstance(v, str):
            want, value = "bytes_list", utf8(v)
        elif isinstance(v, float) or not -(2**63) <= v < 2**64:
            want, value = "float_list", v if isinstance(v, float) else as_double(v)
        else:
            want, value = "int64_list", v
        if kind and kind != want:
            raise StatusError(
                f"Unexpected element type in feature: {name} expecting type: {_KIND_NAMES[kind]}",
                hint="all values of one feature must be of one kind: write 10.0, not 10, in a float list",
            )
        kind = want
        if isinstance(value, dict):
            value = decode_b64_object(value)
        elif want == "int64_list" and value >= 2**63:
            raise StatusError(
                f"Feature: {name} has uint64_t element. Only int64_t is supported.",
                hint="int64 features hold -9223372036854775808 to 9223372036854775807",
            )
        values.append(value)
    if kind == "float_list":
        values = array("f", values).tolist()
    return Feature(kind, tuple(values))


def parse_features(value) -> dict[str, Feature]:
    """Serving's MakeExampleFromJsonObject: a later duplicate key replaces an earlier one."""
    if not isinstance(value, JsonObject):
        raise StatusError(
            f"Example must be JSON object but got JSON {json_type(value)}",
            hint='write each example and the context as an object {"feature": value, ...}',
        )
    return {k: _feature(k, v) for k, v in (value.pairs if value.pairs is not None else value.items())}


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
    entries = sorted((utf8(k), f) for k, f in features.items())
    return field(1, b"".join(field(1, field(1, k) + field(2, _encode_feature(f))) for k, f in entries))


def build_examples(request: ExamplesRequest) -> list[bytes]:
    """The DT_STRING batch Serving feeds to "inputs": context bytes + example bytes for each example.

    Serving feeds `context + example`, so the example wins a key both set.
    """
    context = encode_example(request.context) if request.context is not None else b""
    return [context + encode_example(e) for e in request.examples]
