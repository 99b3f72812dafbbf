"""Decode a TF2 SavedModel's object graph, straight from the wire: the function signatures `show --all` lists.

The wire primitives and protobuf's merging and depth rules come from decode.py, which reads the rest of a
MetaGraphDef; field numbers are named in fields.py.
"""

from __future__ import annotations

import struct

from sigtool import wire
from sigtool.loader import fields as pb  # field numbers, by message
from sigtool.loader.decode import Ranges, _fields, _len, _map_entries, _shape, _signed32, _text
from sigtool.loader.dtypes import dtype_name, type_spec_class_name
from sigtool.model import ConcreteFunction, Function, StructValue


def functions(buf, ranges: Ranges, path: str = "meta_graphs[0].object_graph_def", ranks=None) -> tuple[Function, ...]:
    """Functions attached to the root object, each with its concrete signatures (as saved_model_cli lists them).

    ranks: each concrete function's position in tf.saved_model.load's creation order (load_order.py).
    """
    ranks = ranks or {}
    depth = 2  # SavedModel > MetaGraphDef > SavedObjectGraph
    nodes: list[wire.Field] = []
    concrete_entries: list[wire.Field] = []
    for f in _fields(buf, ranges, depth):
        if f.number == pb.SavedObjectGraph.nodes and _len(f):
            nodes.append(f)
        elif f.number == pb.SavedObjectGraph.concrete_functions and _len(f):
            concrete_entries.append(f)
    if not nodes:
        return ()
    concrete = _map_entries(buf, concrete_entries, depth + 1, f"{path}.concrete_functions")
    found: list[Function] = []
    # Several children may name one function object (aliases): each object is decoded once, and the
    # listing is bounded, since a small file could otherwise name one large signature thousands of times.
    per_node: dict[int, tuple[tuple[ConcreteFunction, ...], int] | None] = {}
    listed = 0
    for node_id, name in _children(buf, nodes[0], depth + 1, f"{path}.nodes[0]"):
        if not 0 <= node_id < len(nodes):
            continue
        if node_id not in per_node:
            names = _function_names(buf, nodes[node_id], depth + 1, f"{path}.nodes[{node_id}]")
            if names is None:
                per_node[node_id] = None
            else:
                signatures = tuple(
                    _concrete(buf, n, *concrete[n], depth + 2, ranks.get(n, -1))
                    for n in sorted(set(names))
                    if n in concrete
                )
                per_node[node_id] = signatures, sum(_values(cf.args) + _values((cf.kwargs,)) for cf in signatures)
        listing = per_node[node_id]
        if listing is None:
            continue
        signatures, values = listing
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


def _children(buf, node: wire.Field, depth: int, path: str) -> list[tuple[int, str]]:
    children: list[tuple[int, str]] = []
    for f in _fields(buf, [(node.value_start, node.end)], depth):
        if f.number == pb.SavedObject.children and _len(f):
            node_id, local_name = 0, ""
            for g in _fields(buf, [(f.value_start, f.end)], depth + 1):
                if g.number == pb.ObjectReference.node_id and g.wire_type == wire.VARINT:
                    node_id = _signed32(g.varint)
                elif g.number == pb.ObjectReference.local_name and _len(g):
                    local_name = _text(buf, g, f"{path}.children[{len(children)}].local_name")
            children.append((node_id, local_name))
    return children


def _function_names(buf, node: wire.Field, depth: int, path: str) -> list[str] | None:
    """The concrete function names of a function object; None for other kinds of object."""
    kind: int | None = None
    kind_ranges: Ranges = []
    for f in _fields(buf, [(node.value_start, node.end)], depth):
        if f.number in pb.SavedObject.KIND and _len(f):  # the "kind" oneof
            if f.number != kind:
                kind, kind_ranges = f.number, []
            kind_ranges.append((f.value_start, f.end))
    if kind == pb.SavedObject.function:
        number = pb.SavedFunction.concrete_functions
        fields = [f for f in _fields(buf, kind_ranges, depth + 1) if f.number == number and _len(f)]
        return [_text(buf, f, f"{path}.function.concrete_functions[{i}]") for i, f in enumerate(fields)]
    if kind == pb.SavedObject.bare_concrete_function:
        where = f"{path}.bare_concrete_function.concrete_function_name"
        name_field = pb.SavedBareConcreteFunction.concrete_function_name
        names = [
            _text(buf, f, where) for f in _fields(buf, kind_ranges, depth + 1) if f.number == name_field and _len(f)
        ]
        return names[-1:]
    return None


def _concrete(buf, name: str, ranges: Ranges, path: str, depth: int, rank: int = -1) -> ConcreteFunction:
    signature: Ranges = []
    for f in _fields(buf, ranges, depth):
        if f.number == pb.SavedConcreteFunction.canonicalized_input_signature and _len(f):
            signature.append((f.value_start, f.end))
    value = struct_value(buf, signature, depth + 1, f"{path}.canonicalized_input_signature")
    args: tuple[StructValue, ...] = ()
    kwargs = None
    if value.kind == "tuple" and len(value.items) == 2:
        args_value, kwargs = value.items
        args = args_value.items if args_value.kind in ("tuple", "list") else (args_value,)
    return ConcreteFunction(name, args, kwargs, load_order=rank)


SV = pb.StructuredValue
_CONTAINERS = {SV.list_value: "list", SV.tuple_value: "tuple"}
_STRUCT_WIRE_TYPES = {
    SV.float64_value: wire.I64,
    SV.int64_value: wire.VARINT,
    SV.bool_value: wire.VARINT,
    SV.tensor_dtype_value: wire.VARINT,
}  # the others are messages/strings
_STRUCT_FIELDS = {number: name for name, number in vars(SV).items() if not name.startswith("_") and name.islower()}


def struct_value(buf, ranges: Ranges, depth: int, path: str = "") -> StructValue:
    """A StructuredValue in plain form (see model.StructValue); path names it in notes of invalid UTF-8."""
    kind = 0
    kind_fields: list[wire.Field] = []
    for f in _fields(buf, ranges, depth):
        if f.number in SV.KIND:
            if f.wire_type != _STRUCT_WIRE_TYPES.get(f.number, wire.LEN):
                continue  # protobuf reads a field of the wrong wire type as an unknown field
            if f.number != kind:
                kind, kind_fields = f.number, []
            kind_fields.append(f)
    if not kind_fields:
        return StructValue("none")
    last = kind_fields[-1]
    sub = [(f.value_start, f.end) for f in kind_fields if _len(f)]
    here = f"{path}.{_STRUCT_FIELDS.get(kind, '')}"
    if kind == SV.none_value:
        return StructValue("none")
    if kind == SV.float64_value:
        raw = struct.pack("<Q", last.varint) if last.wire_type != wire.I64 else bytes(buf[last.value_start : last.end])
        return StructValue("float", scalar=struct.unpack("<d", raw)[0])
    if kind == SV.int64_value:
        return StructValue("int", scalar=(last.varint >> 1) ^ -(last.varint & 1))  # zigzag (sint64)
    if kind == SV.string_value:
        return StructValue("str", scalar=_text(buf, last, here) if _len(last) else "")
    if kind == SV.bool_value:
        return StructValue("bool", scalar=bool(last.varint))
    if kind in _CONTAINERS:
        values = [f for f in _fields(buf, sub, depth + 1) if f.number == pb.ListValue.values and _len(f)]
        items = tuple(
            struct_value(buf, [(f.value_start, f.end)], depth + 2, f"{here}.values[{i}]") for i, f in enumerate(values)
        )
        return StructValue(_CONTAINERS[kind], items=items)
    if kind == SV.dict_value:
        entries = [f for f in _fields(buf, sub, depth + 1) if f.number == pb.DictValue.fields and _len(f)]
        fields = _map_entries(buf, entries, depth + 2, f"{here}.fields")
        items = tuple(struct_value(buf, r, depth + 3, where) for r, where in fields.values())
        return StructValue("dict", keys=tuple(fields), items=items)
    if kind == SV.named_tuple_value:
        return _named_tuple(buf, sub, depth + 1, here)
    if kind in (SV.tensor_spec_value, SV.bounded_tensor_spec_value):
        spec_kind = "tensor_spec" if kind == SV.tensor_spec_value else "bounded_tensor_spec"
        return _tensor_spec(buf, sub, depth + 1, spec_kind, here)
    if kind == SV.tensor_shape_value:
        dims, unknown, _ = _shape(buf, sub, depth + 1, here)
        return StructValue("tensor_shape", shape=None if unknown else dims)
    if kind == SV.tensor_dtype_value:
        return StructValue("dtype", dtype=dtype_name(_signed32(last.varint)))
    if kind == SV.type_spec_value:
        return _type_spec(buf, sub, depth + 1, here)
    return StructValue("unsupported", name=_STRUCT_FIELDS.get(kind, str(kind)))  # tensor_value, numpy_value


def _named_tuple(buf, ranges: Ranges, depth: int, path: str) -> StructValue:
    name = ""
    keys: list[str] = []
    items: list[StructValue] = []
    for f in _fields(buf, ranges, depth):
        if f.number == pb.NamedTupleValue.name and _len(f):
            name = _text(buf, f, f"{path}.name")
        elif f.number == pb.NamedTupleValue.values and _len(f):
            key, value = "", []
            where = f"{path}.values[{len(keys)}]"
            for g in _fields(buf, [(f.value_start, f.end)], depth + 1):
                if g.number == pb.PairValue.key and _len(g):
                    key = _text(buf, g, f"{where}.key")
                elif g.number == pb.PairValue.value and _len(g):
                    value.append((g.value_start, g.end))
            keys.append(key)
            items.append(struct_value(buf, value, depth + 2, f"{where}.value"))
    return StructValue("named_tuple", name=name, keys=tuple(keys), items=tuple(items))


def _tensor_spec(buf, ranges: Ranges, depth: int, kind: str, path: str) -> StructValue:
    name, dtype, shape = "", 0, []
    for f in _fields(buf, ranges, depth):
        if f.number == pb.TensorSpecProto.name and _len(f):
            name = _text(buf, f, f"{path}.name")
        elif f.number == pb.TensorSpecProto.shape and _len(f):
            shape.append((f.value_start, f.end))
        elif f.number == pb.TensorSpecProto.dtype and f.wire_type == wire.VARINT:
            dtype = _signed32(f.varint)
    dims, unknown, _ = _shape(buf, shape, depth + 1, f"{path}.shape")
    return StructValue(kind, name=name or None, shape=None if unknown else dims, dtype=dtype_name(dtype))


def _type_spec(buf, ranges: Ranges, depth: int, path: str) -> StructValue:
    spec_class, class_name, state = 0, "", []
    for f in _fields(buf, ranges, depth):
        if f.number == pb.TypeSpecProto.type_spec_class and f.wire_type == wire.VARINT:
            spec_class = _signed32(f.varint)
        elif f.number == pb.TypeSpecProto.type_state and _len(f):
            state.append((f.value_start, f.end))
        elif f.number == pb.TypeSpecProto.type_spec_class_name and _len(f):
            class_name = _text(buf, f, f"{path}.type_spec_class_name")
    name = class_name or type_spec_class_name(spec_class)
    return StructValue("type_spec", name=name, items=(struct_value(buf, state, depth + 1, f"{path}.type_state"),))
