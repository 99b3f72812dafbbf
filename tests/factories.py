"""The one home of the test factories: small SavedModelInfo objects built by hand, and raw protobuf wire bytes.

Unit tests of checks and serving build plain model objects with these (no files, no protobuf); the
hardening, fuzz and malformed-model tests write wire bytes with the helpers at the end, independently
of sigtool's own reader (sigtool/wire.py).
"""

from __future__ import annotations

from sigtool.checks import RULES, CheckOptions, run_checks
from sigtool.model import (
    PREDICT,
    Arg,
    Attr,
    FunctionGraph,
    Graph,
    MetaGraph,
    Node,
    SavedModelInfo,
    Signature,
    TensorSpec,
)

# --- tensors and signatures ----------------------------------------------------------------------


def spec(
    key: str,
    dtype: str = "DT_FLOAT",
    shape: tuple[int, ...] | None = (-1,),
    *,
    name: str | None = None,
    shape_present: bool | None = None,
) -> TensorSpec:
    """A TensorInfo by name ("key:0" unless named). shape None = unknown rank; shape_present defaults to
    whether a shape is given (a TensorInfo without tensor_shape, which TensorFlow reads as a scalar)."""
    present = shape is not None if shape_present is None else shape_present
    return TensorSpec(
        key=key, dtype=dtype, shape=shape, shape_present=present, encoding="name", name=name or f"{key}:0"
    )


def signature(*inputs: TensorSpec, key: str = "serving_default", method: str = PREDICT, outputs=()) -> Signature:
    """A signature from TensorSpecs, inputs and outputs sorted by key as the loader sorts them."""
    return Signature(
        key, method, tuple(sorted(inputs, key=lambda t: t.key)), tuple(sorted(outputs, key=lambda t: t.key))
    )


def wired(
    key: str,
    inputs: dict[str, str] | None = None,
    outputs: dict[str, str] | None = None,
    *,
    method: str = PREDICT,
    **dtypes: str,
) -> Signature:
    """A signature wired to graph tensors: inputs/outputs map a key to a tensor name ("node:0");
    dtypes maps a key to its TensorInfo dtype (DT_FLOAT otherwise)."""
    ins = [spec(k, dtypes.get(k, "DT_FLOAT"), name=v) for k, v in (inputs or {}).items()]
    outs = [spec(k, dtypes.get(k, "DT_FLOAT"), name=v) for k, v in (outputs or {}).items()]
    return signature(*ins, key=key, method=method, outputs=outs)


# --- graphs ---------------------------------------------------------------------------------------


def T(dtype: str) -> Attr:
    return Attr("type", dtype)


def types(*dtypes: str) -> Attr:
    return Attr("list_type", tuple(dtypes))


def func(name: str) -> Attr:
    return Attr("func", name)


def node(name: str, op: str, *inputs: str, **attrs: Attr) -> Node:
    return Node(name, op, tuple(inputs), attrs=tuple(sorted(attrs.items())))


def placeholder(name: str, dtype: str = "DT_FLOAT") -> Node:
    return node(name, "Placeholder", dtype=T(dtype))


def const(name: str, dtype: str = "DT_FLOAT") -> Node:
    return node(name, "Const", dtype=T(dtype))


def fn(name: str, inputs, outputs, nodes, ret) -> FunctionGraph:
    """A library function: inputs/outputs as (name, dtype) pairs, ret as {output arg: "node:out:idx"}."""
    return FunctionGraph(
        name=name,
        inputs=tuple(Arg(n, d) for n, d in inputs),
        outputs=tuple(Arg(n, d) for n, d in outputs),
        nodes=tuple(nodes),
        ret=tuple(sorted(ret.items())),
    )


# --- models and what the checks say about them -------------------------------------------------------


def model(*signatures: Signature, tags=("serve",), nodes=None, functions=(), **extra) -> SavedModelInfo:
    """One MetaGraph with these signatures; with nodes (or functions), a graph too. extra overrides
    SavedModelInfo's fields (path, source, version, ...)."""
    graph = Graph(tuple(nodes or ()), tuple(functions)) if nodes is not None or functions else None
    mg = MetaGraph(tags=tuple(tags), signatures=tuple(signatures), graph=graph)
    fields = dict(
        path="m", source="m/1/saved_model.pb", format="saved_model_pb", schema_version=1, meta_graphs=(mg,), version="1"
    )
    fields.update(extra)
    return SavedModelInfo(**fields)


def graph_model(nodes, *signatures: Signature, functions=()) -> SavedModelInfo:
    """One serve MetaGraph with a graph of these nodes (and library functions)."""
    return model(*signatures, nodes=nodes, functions=functions)


# A small valid TF1 graph: y = x * 2, reading no state.
TF1 = [placeholder("x"), const("two"), node("y", "Mul", "x", "two", T=T("DT_FLOAT"))]


def tf2_model(body_nodes, ret, *, outputs=(("identity", "DT_FLOAT"),), tout=("DT_FLOAT",), extra_functions=()):
    """A TF2-style model: serving_default_x -> StatefulPartitionedCall(f) with a captured variable."""
    f = fn(
        "__inference_f_42", [("x", "DT_FLOAT"), ("readvariableop_resource", "DT_RESOURCE")], outputs, body_nodes, ret
    )
    nodes = [
        placeholder("serving_default_x"),
        node("v", "VarHandleOp", dtype=T("DT_FLOAT")),
        node(
            "StatefulPartitionedCall",
            "StatefulPartitionedCall",
            "serving_default_x",
            "v",
            f=func(f.name),
            Tout=types(*tout),
            Tin=types("DT_FLOAT", "DT_RESOURCE"),
        ),
    ]
    outs = {f"out{i}": f"StatefulPartitionedCall:{i}" for i in range(len(outputs))}
    return graph_model(
        nodes, wired("serving_default", {"x": "serving_default_x:0"}, outs), functions=(f, *extra_functions)
    )


def found(info: SavedModelInfo, rule_id: str, **options) -> list[tuple[str, str]]:
    """What one rule's function yields on info: sorted (where, message) pairs."""
    return sorted(RULES[rule_id].func(info, CheckOptions(**options)))


def wheres(info: SavedModelInfo, rule_id: str) -> list[str]:
    return [w for w, _ in found(info, rule_id)]


def findings(info: SavedModelInfo, rule_id: str, **options) -> list:
    """The Findings `check --select RULE` reports on info (through run_checks)."""
    return list(run_checks(info, CheckOptions(**options), select={rule_id}))


# --- protobuf wire bytes -------------------------------------------------------------------------------


def varint(value: int) -> bytes:
    """A base-128 varint. A negative value becomes its low 70 bits: ten bytes, as protobuf writes
    negative int64s, but with the top bits set (a varint only a lenient reader takes)."""
    value &= (1 << 70) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def ld(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return tag(number, 2) + varint(len(payload)) + payload


def vf(number: int, value: int) -> bytes:
    """A varint field."""
    return tag(number, 0) + varint(value)
