"""Decode the parts of a MetaGraphDef that `show` needs, straight from the wire.

No protobuf import: this is what keeps `show` instant. It follows protobuf's
rules where they matter for reading a SavedModel: a message field that
appears several times is merged (its occurrences are read in order as one
stream), the last scalar wins, the last member of a oneof wins, and nesting
deeper than protobuf's limit is refused, as TensorFlow refuses it.
Field numbers are TensorFlow's (checked against sigtool's .proto files by
tests/test_decode.py).
"""

from __future__ import annotations

import struct

from sigtool import wire
from sigtool.loader.dtypes import dtype_name, type_spec_class_name
from sigtool.model import (
    AssetFile,
    CompositeSpec,
    ConcreteFunction,
    Function,
    Signature,
    SparseNames,
    StructValue,
    TensorSpec,
    signature_order,
)

# protobuf (upb) parses 100 levels of messages below the root, and no more.
DEPTH_LIMIT = 100

Ranges = list[tuple[int, int]]


class TooDeep(wire.WireError):
    """Messages nested deeper than protobuf (and so TensorFlow) accepts."""


def _fields(buf, ranges: Ranges, depth: int):
    if depth > DEPTH_LIMIT:
        raise TooDeep(f"messages nested deeper than protobuf's limit of {DEPTH_LIMIT}")
    for start, end in ranges:
        yield from wire.iter_fields(buf, start, end)


def _len(f: wire.Field) -> bool:
    return f.wire_type == wire.LEN


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _map_entries(buf, entries: list[wire.Field], depth: int) -> dict[str, Ranges]:
    """map<string, Message>: key -> the value's ranges (a repeated key: the last entry wins)."""
    result: dict[str, Ranges] = {}
    for entry in entries:
        key, value = "", []
        for f in _fields(buf, [(entry.value_start, entry.end)], depth):
            if f.number == 1 and _len(f):
                key = wire.text(buf, f)
            elif f.number == 2 and _len(f):
                value.append((f.value_start, f.end))
        result[key] = value
    return result


# --- MetaGraphDef ---------------------------------------------------------------------------


class MetaGraphParts:
    """What `show` reads of one MetaGraphDef; plain values, built by meta_graph()."""

    def __init__(self):
        self.tags: list[str] = []
        self.tensorflow_version = ""
        self.tensorflow_git_version = ""
        self.stripped_default_attrs = False
        self.signatures: tuple[Signature, ...] = ()
        self.asset_files: tuple[AssetFile, ...] = ()
        self.has_saver = False
        self.collection_keys: tuple[str, ...] = ()
        self.object_graph: Ranges = []
        self.graph: Ranges = []


def meta_graph(buf, start: int, end: int) -> MetaGraphParts:
    """One MetaGraphDef (depth 1 below the SavedModel); the graph and object graph are only located."""
    parts = MetaGraphParts()
    info: Ranges = []
    signatures: list[wire.Field] = []
    collections: list[wire.Field] = []
    assets: list[wire.Field] = []
    for f in _fields(buf, [(start, end)], 1):
        if not _len(f):
            continue
        if f.number == 1:
            info.append((f.value_start, f.end))
        elif f.number == 2:
            parts.graph.append((f.value_start, f.end))
        elif f.number == 3:
            parts.has_saver = True
        elif f.number == 4:
            collections.append(f)
        elif f.number == 5:
            signatures.append(f)
        elif f.number == 6:
            assets.append(f)
        elif f.number == 7:
            parts.object_graph.append((f.value_start, f.end))
    _meta_info(buf, info, parts)
    parts.collection_keys = tuple(sorted(_map_entries(buf, collections, 2)))
    parts.signatures = tuple(
        sorted(
            (_signature(buf, key, ranges) for key, ranges in _map_entries(buf, signatures, 2).items()),
            key=lambda s: signature_order(s.key),
        )
    )
    parts.asset_files = tuple(_asset(buf, f) for f in assets)
    return parts


def _meta_info(buf, ranges: Ranges, parts: MetaGraphParts) -> None:
    for f in _fields(buf, ranges, 2):
        if f.number == 4 and _len(f):
            parts.tags.append(wire.text(buf, f))
        elif f.number == 5 and _len(f):
            parts.tensorflow_version = wire.text(buf, f)
        elif f.number == 6 and _len(f):
            parts.tensorflow_git_version = wire.text(buf, f)
        elif f.number == 7 and f.wire_type == wire.VARINT:
            parts.stripped_default_attrs = bool(f.varint)


def _asset(buf, field: wire.Field) -> AssetFile:
    tensor_name = filename = ""
    for f in _fields(buf, [(field.value_start, field.end)], 2):
        if f.number == 1 and _len(f):
            for g in _fields(buf, [(f.value_start, f.end)], 3):
                if g.number == 1 and _len(g):
                    tensor_name = wire.text(buf, g)
        elif f.number == 2 and _len(f):
            filename = wire.text(buf, f)
    return AssetFile(tensor_name, filename)


# --- SignatureDef and TensorInfo ---------------------------------------------------------------


def _signature(buf, key: str, ranges: Ranges) -> Signature:
    depth = 3  # SavedModel > MetaGraphDef > map entry > SignatureDef
    inputs: list[wire.Field] = []
    outputs: list[wire.Field] = []
    method = ""
    for f in _fields(buf, ranges, depth):
        if f.number == 1 and _len(f):
            inputs.append(f)
        elif f.number == 2 and _len(f):
            outputs.append(f)
        elif f.number == 3 and _len(f):
            method = wire.text(buf, f)

    def specs(entries):
        found = _map_entries(buf, entries, depth + 1)
        return tuple(tensor_info(buf, k, found[k], depth + 2) for k in sorted(found))

    return Signature(key=key, method_name=method, inputs=specs(inputs), outputs=specs(outputs))


def tensor_info(buf, key: str, ranges: Ranges, depth: int) -> TensorSpec:
    name, dtype = "", 0
    encoding, encoding_ranges = "", []
    shape: Ranges = []
    for f in _fields(buf, ranges, depth):
        if f.number in (1, 4, 5) and _len(f):  # the "encoding" oneof: the last member set wins
            member = {1: "name", 4: "coo_sparse", 5: "composite_tensor"}[f.number]
            if member != encoding:
                encoding, encoding_ranges = member, []
            if member == "name":
                name = wire.text(buf, f)
            else:
                encoding_ranges.append((f.value_start, f.end))
        elif f.number == 2 and f.wire_type == wire.VARINT:
            dtype = _signed32(f.varint)
        elif f.number == 3 and _len(f):
            shape.append((f.value_start, f.end))
    dims, unknown_rank, dim_names = _shape(buf, shape, depth + 1)
    sparse = composite = None
    if encoding == "coo_sparse":
        sparse = _coo_sparse(buf, encoding_ranges, depth + 1)
    elif encoding == "composite_tensor":
        composite = _composite(buf, encoding_ranges, depth + 1)
    return TensorSpec(
        key=key,
        dtype=dtype_name(dtype),
        shape=None if unknown_rank else dims,
        shape_present=bool(shape),
        encoding=encoding,
        name=name if encoding == "name" else "",
        sparse=sparse,
        composite=composite,
        dim_names=dim_names if any(dim_names) else (),
    )


def _shape(buf, ranges: Ranges, depth: int) -> tuple[tuple[int, ...], bool, tuple[str, ...]]:
    dims: list[tuple[int, str]] = []
    unknown_rank = False
    for f in _fields(buf, ranges, depth):
        if f.number == 2 and _len(f):
            size, dim_name = 0, ""
            for g in _fields(buf, [(f.value_start, f.end)], depth + 1):
                if g.number == 1 and g.wire_type == wire.VARINT:
                    size = _signed64(g.varint)
                elif g.number == 2 and _len(g):
                    dim_name = wire.text(buf, g)
            dims.append((size, dim_name))
        elif f.number == 3 and f.wire_type == wire.VARINT:
            unknown_rank = bool(f.varint)
    return tuple(d for d, _ in dims), unknown_rank, tuple(n for _, n in dims)


def _coo_sparse(buf, ranges: Ranges, depth: int) -> SparseNames:
    names = ["", "", ""]
    for f in _fields(buf, ranges, depth):
        if f.number in (1, 2, 3) and _len(f):
            names[f.number - 1] = wire.text(buf, f)
    return SparseNames(*names)


def _composite(buf, ranges: Ranges, depth: int) -> CompositeSpec:
    type_spec: Ranges = []
    components: list[TensorSpec] = []
    for f in _fields(buf, ranges, depth):
        if f.number == 1 and _len(f):
            type_spec.append((f.value_start, f.end))
        elif f.number == 2 and _len(f):
            components.append(tensor_info(buf, str(len(components)), [(f.value_start, f.end)], depth + 1))
    spec_class, class_name, flat = 0, "", 0
    for f in _fields(buf, type_spec, depth + 1) if type_spec else ():
        if f.number == 1 and f.wire_type == wire.VARINT:
            spec_class = _signed32(f.varint)
        elif f.number == 2 and _len(f):
            struct_value(buf, [(f.value_start, f.end)], depth + 2)  # decoded for protobuf's depth check only
        elif f.number == 3 and _len(f):
            class_name = wire.text(buf, f)
        elif f.number == 4 and f.wire_type == wire.VARINT:
            flat = _signed32(f.varint)
    return CompositeSpec(type_spec_class_name(spec_class), class_name, flat, tuple(components))


# --- the object graph: function signatures for show --all -----------------------------------------


def functions(buf, ranges: Ranges) -> tuple[Function, ...]:
    """Functions attached to the root object, each with its concrete signatures (as saved_model_cli lists them)."""
    depth = 2  # SavedModel > MetaGraphDef > SavedObjectGraph
    nodes: list[wire.Field] = []
    concrete_entries: list[wire.Field] = []
    for f in _fields(buf, ranges, depth):
        if f.number == 1 and _len(f):
            nodes.append(f)
        elif f.number == 2 and _len(f):
            concrete_entries.append(f)
    if not nodes:
        return ()
    concrete = _map_entries(buf, concrete_entries, depth + 1)
    found = []
    # Several children may name one function object (aliases): each object is decoded once, and the
    # listing is bounded, since a small file could otherwise name one large signature thousands of times.
    per_node: dict[int, tuple[tuple[ConcreteFunction, ...], int] | None] = {}
    listed = 0
    for node_id, name in _children(buf, nodes[0], depth + 1):
        if not 0 <= node_id < len(nodes):
            continue
        if node_id not in per_node:
            names = _function_names(buf, nodes[node_id], depth + 1)
            if names is None:
                per_node[node_id] = None
            else:
                signatures = tuple(
                    _concrete(buf, n, concrete[n], depth + 2) for n in sorted(set(names)) if n in concrete
                )
                per_node[node_id] = signatures, sum(_values(cf.args) + _values((cf.kwargs,)) for cf in signatures)
        if per_node[node_id] is None:
            continue
        signatures, values = per_node[node_id]
        listed += 1 + values
        if listed > MAX_LISTED_VALUES:
            raise TooLarge(
                f"its functions' signatures would list over {MAX_LISTED_VALUES} values "
                f"({len(found) + 1} functions so far), too many to show; show without --all lists the signatures"
            )
        found.append(Function(name, signatures))
    return tuple(sorted(found, key=lambda fn: fn.name))


# show --all lists every function of the root object with its signatures, aliases included.
MAX_LISTED_VALUES = 50_000  # real models list a few thousand at most


class TooLarge(wire.WireError):
    """A listing larger than MAX_LISTED_VALUES."""


def _values(values) -> int:
    """How many StructValues these are, nested ones included."""
    return sum(1 + _values(v.items) for v in values if v is not None)


def _children(buf, node: wire.Field, depth: int) -> list[tuple[int, str]]:
    children = []
    for f in _fields(buf, [(node.value_start, node.end)], depth):
        if f.number == 1 and _len(f):
            node_id, local_name = 0, ""
            for g in _fields(buf, [(f.value_start, f.end)], depth + 1):
                if g.number == 1 and g.wire_type == wire.VARINT:
                    node_id = _signed32(g.varint)
                elif g.number == 2 and _len(g):
                    local_name = wire.text(buf, g)
            children.append((node_id, local_name))
    return children


def _function_names(buf, node: wire.Field, depth: int) -> list[str] | None:
    """The concrete function names of a function object; None for other kinds of object."""
    kind, kind_ranges = None, []
    for f in _fields(buf, [(node.value_start, node.end)], depth):
        if 4 <= f.number <= 12 and f.number != 11 and _len(f):  # the "kind" oneof
            if f.number != kind:
                kind, kind_ranges = f.number, []
            kind_ranges.append((f.value_start, f.end))
    if kind == 6:  # SavedFunction.concrete_functions
        return [wire.text(buf, f) for f in _fields(buf, kind_ranges, depth + 1) if f.number == 1 and _len(f)]
    if kind == 8:  # SavedBareConcreteFunction.concrete_function_name
        names = [wire.text(buf, f) for f in _fields(buf, kind_ranges, depth + 1) if f.number == 1 and _len(f)]
        return names[-1:]
    return None


def _concrete(buf, name: str, ranges: Ranges, depth: int) -> ConcreteFunction:
    signature: Ranges = []
    for f in _fields(buf, ranges, depth):
        if f.number == 3 and _len(f):
            signature.append((f.value_start, f.end))
    value = struct_value(buf, signature, depth + 1)
    args: tuple[StructValue, ...] = ()
    kwargs = None
    if value.kind == "tuple" and len(value.items) == 2:
        args_value, kwargs = value.items
        args = args_value.items if args_value.kind in ("tuple", "list") else (args_value,)
    return ConcreteFunction(name, args, kwargs)


_SCALARS = {1: "none", 11: "float", 12: "int", 13: "str", 14: "bool"}
_CONTAINERS = {51: "list", 52: "tuple"}
_STRUCT_WIRE_TYPES = {11: wire.I64, 12: wire.VARINT, 14: wire.VARINT, 32: wire.VARINT}  # the others are messages/strings


def struct_value(buf, ranges: Ranges, depth: int) -> StructValue:
    """A StructuredValue in plain form (see model.StructValue)."""
    kind, kind_fields = 0, []
    for f in _fields(buf, ranges, depth):
        if f.number in _SCALARS or 31 <= f.number <= 35 or 51 <= f.number <= 56:
            if f.wire_type != _STRUCT_WIRE_TYPES.get(f.number, wire.LEN):
                continue  # protobuf reads a field of the wrong wire type as an unknown field
            if f.number != kind:
                kind, kind_fields = f.number, []
            kind_fields.append(f)
    if not kind_fields:
        return StructValue("none")
    last = kind_fields[-1]
    sub = [(f.value_start, f.end) for f in kind_fields if _len(f)]
    if kind == 1:
        return StructValue("none")
    if kind == 11:
        raw = struct.pack("<Q", last.varint) if last.wire_type != wire.I64 else bytes(buf[last.value_start : last.end])
        return StructValue("float", scalar=struct.unpack("<d", raw)[0])
    if kind == 12:
        return StructValue("int", scalar=(last.varint >> 1) ^ -(last.varint & 1))  # zigzag (sint64)
    if kind == 13:
        return StructValue("str", scalar=wire.text(buf, last) if _len(last) else "")
    if kind == 14:
        return StructValue("bool", scalar=bool(last.varint))
    if kind in _CONTAINERS:
        items = [struct_value(buf, [(f.value_start, f.end)], depth + 2) for f in _fields(buf, sub, depth + 1) if f.number == 1 and _len(f)]
        return StructValue(_CONTAINERS[kind], items=tuple(items))
    if kind == 53:
        entries = [f for f in _fields(buf, sub, depth + 1) if f.number == 1 and _len(f)]
        fields = _map_entries(buf, entries, depth + 2)
        return StructValue("dict", keys=tuple(fields), items=tuple(struct_value(buf, r, depth + 3) for r in fields.values()))
    if kind == 54:
        return _named_tuple(buf, sub, depth + 1)
    if kind in (33, 35):
        return _tensor_spec(buf, sub, depth + 1, "tensor_spec" if kind == 33 else "bounded_tensor_spec")
    if kind == 31:
        dims, unknown, _ = _shape(buf, sub, depth + 1)
        return StructValue("tensor_shape", shape=None if unknown else dims)
    if kind == 32:
        return StructValue("dtype", dtype=dtype_name(_signed32(last.varint)))
    if kind == 34:
        return _type_spec(buf, sub, depth + 1)
    return StructValue("unsupported", name={55: "tensor_value", 56: "numpy_value"}.get(kind, str(kind)))


def _named_tuple(buf, ranges: Ranges, depth: int) -> StructValue:
    name, keys, items = "", [], []
    for f in _fields(buf, ranges, depth):
        if f.number == 1 and _len(f):
            name = wire.text(buf, f)
        elif f.number == 2 and _len(f):
            key, value = "", []
            for g in _fields(buf, [(f.value_start, f.end)], depth + 1):
                if g.number == 1 and _len(g):
                    key = wire.text(buf, g)
                elif g.number == 2 and _len(g):
                    value.append((g.value_start, g.end))
            keys.append(key)
            items.append(struct_value(buf, value, depth + 2))
    return StructValue("named_tuple", name=name, keys=tuple(keys), items=tuple(items))


def _tensor_spec(buf, ranges: Ranges, depth: int, kind: str) -> StructValue:
    name, dtype, shape = "", 0, []
    for f in _fields(buf, ranges, depth):
        if f.number == 1 and _len(f):
            name = wire.text(buf, f)
        elif f.number == 2 and _len(f):
            shape.append((f.value_start, f.end))
        elif f.number == 3 and f.wire_type == wire.VARINT:
            dtype = _signed32(f.varint)
    dims, unknown, _ = _shape(buf, shape, depth + 1)
    return StructValue(kind, name=name or None, shape=None if unknown else dims, dtype=dtype_name(dtype))


def _type_spec(buf, ranges: Ranges, depth: int) -> StructValue:
    spec_class, class_name, state = 0, "", []
    for f in _fields(buf, ranges, depth):
        if f.number == 1 and f.wire_type == wire.VARINT:
            spec_class = _signed32(f.varint)
        elif f.number == 2 and _len(f):
            state.append((f.value_start, f.end))
        elif f.number == 3 and _len(f):
            class_name = wire.text(buf, f)
    name = class_name or type_spec_class_name(spec_class)
    return StructValue("type_spec", name=name, items=(struct_value(buf, state, depth + 1),))
