"""GraphDef -> plain Graph (nodes and function library), for `check`.

Node headers, inputs and small attributes are decoded; a node or attribute
larger than LARGE bytes (a big constant) is walked on the wire instead, and
keeps only its dtype and size, so memory stays flat on gigabyte graphs.
"""

from __future__ import annotations

from sigtool import wire
from sigtool._proto import attr_value_pb2, function_pb2, node_def_pb2
from sigtool.loader import utf8
from sigtool.loader.dtypes import dtype_name
from sigtool.loader.fields import AttrValue, FunctionDef, FunctionDefLibrary, GraphDef, MapEntry, NodeDef, TensorProto
from sigtool.model import Arg, Attr, FunctionGraph, Graph, Node

LARGE = 1 << 20
_TEXT_LIMIT = 256


def from_wire(buf, start: int, end: int, path: str = "graph_def") -> Graph:
    """A serialized GraphDef in buf[start:end]."""
    return from_wire_ranges(buf, [(start, end)], path)


def from_wire_ranges(buf, ranges, path: str) -> Graph:
    """A GraphDef serialized in pieces (protobuf merges them); path names it in notes of invalid UTF-8."""
    nodes: list[Node] = []
    functions: list[FunctionGraph] = []
    rest: list[bytes] = []
    for f in (f for start, end in ranges for f in wire.iter_fields(buf, start, end)):
        if f.number == GraphDef.node and f.wire_type == wire.LEN:
            nodes.append(_node_from_wire(buf, f.value_start, f.end, f"{path}.node[{len(nodes)}]"))
        elif f.number == GraphDef.library and f.wire_type == wire.LEN:
            for fn in wire.iter_fields(buf, f.value_start, f.end):
                if fn.number == FunctionDefLibrary.function and fn.wire_type == wire.LEN:
                    where = f"{path}.library.function[{len(functions)}]"
                    functions.append(_function_from_wire(buf, fn.value_start, fn.end, where))
                else:  # gradients: only checked for invalid UTF-8
                    rest.append(bytes(buf[fn.start : fn.end]))
    if rest:
        utf8.parse(function_pb2.FunctionDefLibrary, b"".join(rest), f"{path}.library")
    return Graph(tuple(nodes), tuple(functions))


def from_message(graph_def) -> Graph:
    """An already-decoded GraphDef (text format, legacy exports)."""
    functions = tuple(
        FunctionGraph(
            name=fn.signature.name,
            inputs=tuple(_arg(a) for a in fn.signature.input_arg),
            outputs=tuple(_arg(a) for a in fn.signature.output_arg),
            nodes=tuple(node_from_message(n) for n in fn.node_def),
            ret=tuple(sorted(fn.ret.items())),
            stateful=fn.signature.is_stateful,
        )
        for fn in graph_def.library.function
    )
    return Graph(tuple(node_from_message(n) for n in graph_def.node), functions)


def node_from_message(node) -> Node:
    attrs = tuple(sorted((key, attr(value)) for key, value in node.attr.items()))
    return Node(node.name, node.op, tuple(node.input), node.device, attrs)


def attr(value) -> Attr:
    kind = value.WhichOneof("value")
    if kind is None:
        return Attr("")
    if kind == "list":
        lst = value.list
        for field in ("type", "func", "s", "i", "f", "b", "shape", "tensor"):
            items = getattr(lst, field)
            if items:
                return Attr(f"list_{_KINDS[field]}", tuple(_scalar(field, v) for v in items))
        return Attr("list_", ())
    if kind == "tensor":
        t = value.tensor
        return Attr(
            "tensor", _small_tensor_values(t), dtype=dtype_name(t.dtype), size=len(t.tensor_content) or t.ByteSize()
        )
    return Attr(_KINDS[kind], _scalar(kind, getattr(value, kind)))


_SMALL_TENSOR = 4096
_CONTENT_FORMATS = {
    "DT_FLOAT": "f",
    "DT_DOUBLE": "d",
    "DT_INT32": "i",
    "DT_INT64": "q",
    "DT_INT16": "h",
    "DT_INT8": "b",
    "DT_UINT8": "B",
    "DT_UINT16": "H",
    "DT_UINT32": "I",
    "DT_UINT64": "Q",
    "DT_BOOL": "?",
}


def _small_tensor_values(t) -> tuple | None:
    """The flat values of a small constant (feature keys, defaults); None when large or of another dtype."""
    if t.ByteSize() > _SMALL_TENSOR:
        return None
    dtype = dtype_name(t.dtype)
    if dtype == "DT_STRING":
        return tuple(v.decode("utf-8", "replace") for v in t.string_val)
    fmt = _CONTENT_FORMATS.get(dtype)
    if fmt is None:
        return None
    if t.tensor_content:
        import struct

        count = len(t.tensor_content) // struct.calcsize(fmt)
        return struct.unpack(f"<{count}{fmt}", t.tensor_content[: count * struct.calcsize(fmt)])
    for field in ("float_val", "double_val", "int_val", "int64_val", "bool_val", "uint32_val", "uint64_val"):
        if getattr(t, field):
            return tuple(getattr(t, field))
    return ()


_KINDS = {
    "s": "str",
    "i": "int",
    "f": "float",
    "b": "bool",
    "type": "type",
    "shape": "shape",
    "tensor": "tensor",
    "func": "func",
    "placeholder": "placeholder",
}


def _scalar(field: str, v):
    if field == "type":
        return dtype_name(v)
    if field == "func":
        return v.name
    if field == "s":
        return v[:_TEXT_LIMIT].decode("utf-8", "replace")
    if field == "shape":
        return shape_of(v)
    if field == "tensor":
        return dtype_name(v.dtype)
    return v


def shape_of(proto) -> tuple[int, ...] | None:
    return None if proto.unknown_rank else tuple(d.size for d in proto.dim)


def _arg(a) -> Arg:
    return Arg(
        name=a.name,
        dtype=dtype_name(a.type) if a.type else "",
        type_attr=a.type_attr,
        number_attr=a.number_attr,
        type_list_attr=a.type_list_attr,
    )


# --- wire-level reading for large messages ------------------------------------------------


def _text(buf, f: wire.Field, path: str) -> str:
    return utf8.text(bytes(buf[f.value_start : f.end]), path)


def _node_from_wire(buf, start: int, end: int, path: str) -> Node:
    if end - start <= LARGE:
        return node_from_message(utf8.parse(node_def_pb2.NodeDef, bytes(buf[start:end]), path))
    name = op = device = ""
    inputs: list[str] = []
    attrs: list[tuple[str, Attr]] = []
    for f in wire.iter_fields(buf, start, end):
        if f.wire_type != wire.LEN:
            continue
        if f.number == NodeDef.name:
            name = _text(buf, f, f"{path}.name")
        elif f.number == NodeDef.op:
            op = _text(buf, f, f"{path}.op")
        elif f.number == NodeDef.input:
            inputs.append(_text(buf, f, f"{path}.input[{len(inputs)}]"))
        elif f.number == NodeDef.device:
            device = _text(buf, f, f"{path}.device")
        elif f.number == NodeDef.attr:
            attrs.append(_attr_entry_from_wire(buf, f, f"{path}.attr"))
    return Node(name, op, tuple(inputs), device, tuple(sorted(attrs)))


def _attr_entry_from_wire(buf, entry: wire.Field, path: str) -> tuple[str, Attr]:
    raw, value = b"", None
    for f in wire.iter_fields(buf, entry.value_start, entry.end):
        if f.number == MapEntry.key and f.wire_type == wire.LEN:
            raw = bytes(buf[f.value_start : f.end])
        elif f.number == MapEntry.value and f.wire_type == wire.LEN:
            value = f
    where = path + utf8.key(raw)
    key = utf8.text(raw, where)
    if value is None:
        return key, Attr("")
    if value.end - value.value_start <= LARGE:
        return key, attr(utf8.parse(attr_value_pb2.AttrValue, bytes(buf[value.value_start : value.end]), where))
    return key, _large_tensor_attr(buf, value)


def _large_tensor_attr(buf, value: wire.Field) -> Attr:
    """An AttrValue too large to decode: a tensor, summarized by dtype and content size."""
    for f in wire.iter_fields(buf, value.value_start, value.end):
        if f.number == AttrValue.tensor and f.wire_type == wire.LEN:
            dtype, size = "DT_INVALID", 0
            for g in wire.iter_fields(buf, f.value_start, f.end):
                if g.number == TensorProto.dtype and g.wire_type == wire.VARINT:
                    dtype = dtype_name(g.varint)
                elif g.wire_type == wire.LEN:
                    size += g.end - g.value_start
            return Attr("tensor", dtype=dtype, size=size)
    return Attr("large", size=value.end - value.value_start)


def _function_from_wire(buf, start: int, end: int, path: str) -> FunctionGraph:
    nodes: list[Node] = []
    rest: list[bytes] = []
    for f in wire.iter_fields(buf, start, end):
        if f.number == FunctionDef.node_def and f.wire_type == wire.LEN:
            nodes.append(_node_from_wire(buf, f.value_start, f.end, f"{path}.node_def[{len(nodes)}]"))
        else:  # signature, ret, attrs: small
            rest.append(bytes(buf[f.start : f.end]))
    header = utf8.parse(function_pb2.FunctionDef, b"".join(rest), path)
    signature = header.signature
    ret = list(header.ret.items())
    return FunctionGraph(
        name=signature.name,
        inputs=tuple(_arg(a) for a in signature.input_arg),
        outputs=tuple(_arg(a) for a in signature.output_arg),
        nodes=tuple(nodes),
        ret=tuple(sorted(dict(ret).items())),
        stateful=signature.is_stateful,
    )
