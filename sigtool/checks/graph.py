"""Graph consistency: signatures checked against the graph they name, and the tf.function trap.

GRAPH001-003 and GRAPH005 compare each TensorInfo with the nodes it names;
GRAPH004 follows data and control dependencies backwards from each output,
through the main graph and into the functions it calls (tracer.py), to find
outputs that no input can change. Everything here reads the plain Graph (MetaGraph.graph): a model
loaded without graph=True has nothing to check.
"""

from __future__ import annotations

import weakref

from sigtool.checks.graphref import PLACEHOLDERS, called_function, parse_tensor_name
from sigtool.checks.rules import Severity, rule, tags_of, where
from sigtool.checks.tracer import Tracer, is_stateful_op, is_update_op, render_path
from sigtool.model import FunctionGraph, Graph, MetaGraph, Node, Signature, TensorSpec

# Re-exported: other modules and tests import these from here.
__all__ = ["Tracer", "called_function", "is_stateful_op", "is_update_op", "parse_tensor_name", "render_path"]

# --- what the graph says about a tensor ------------------------------------------------------


# Ops with exactly one output (the index of a TensorInfo on them must be 0).
_SINGLE_OUTPUT = frozenset(
    """Abs Add AddN AddV2 All Any ArgMax ArgMin AvgPool BatchMatMul BatchMatMulV2 BatchMatMulV3 BiasAdd
    BroadcastTo Cast Ceil CheckNumerics ClipByValue Concat ConcatV2 Const Conv2D Conv3D Cos Cumprod
    Cumsum DepthwiseConv2dNative Div DivNoNan Einsum Elu EnsureShape Equal Erf Exp ExpandDims Fill Floor
    FloorDiv FloorMod GatherNd GatherV2 Greater GreaterEqual Identity IsFinite IsInf IsNan L2Loss
    LeakyRelu Less LessEqual Log Log1p LogSoftmax LogicalAnd LogicalNot LogicalOr MatMul Max MaxPool
    Maximum Mean Min Minimum MirrorPad Mod Mul MulNoNan Neg NotEqual OneHot OnesLike Pack Pad PadV2
    Placeholder PlaceholderWithDefault Pow Prod Range Rank ReadVariableOp RealDiv Reciprocal Relu Relu6
    Reshape ResizeBilinear ReverseV2 Round Rsqrt Select SelectV2 Selu Shape Sigmoid Sign Sin Size Slice
    Snapshot Softmax Softplus Softsign Sqrt Square SquaredDifference Squeeze StopGradient StridedSlice
    StringJoin Sub Sum Tanh Tile Transpose VarHandleOp Variable VariableV2 Where ZerosLike""".split()  # noqa: SIM905 (a table reads best as words)
)
# Ops whose output count is the length of a list attribute (or an int attribute).
_OUTPUT_COUNT_ATTR = {
    "IdentityN": "T",
    "IteratorGetNext": "output_types",
    "IteratorGetNextSync": "output_types",
    "OptionalGetValue": "output_types",
    "RestoreV2": "dtypes",
    "PyFunc": "Tout",
    "PyFuncStateless": "Tout",
    "EagerPyFunc": "Tout",
    "If": "Tout",
    "StatelessIf": "Tout",
    "Case": "Tout",
    "StatelessCase": "Tout",
    "While": "T",
    "StatelessWhile": "T",
    "Unpack": "num",
    "Split": "num_split",
    "SplitV": "num_split",
}
# Ops whose (single) output has the dtype held in an attribute.
_DTYPE_ATTR = {
    "Placeholder": "dtype",
    "PlaceholderV2": "dtype",
    "PlaceholderWithDefault": "dtype",
    "Const": "dtype",
    "ReadVariableOp": "dtype",
    "Cast": "DstT",
    "GatherV2": "Tparams",
    "Gather": "Tparams",
    "ResourceGather": "dtype",
}
_REF_OPS = {"VariableV2", "Variable"}  # output: a reference to a variable of their dtype
_T_OPS = frozenset(
    """Abs Add AddN AddV2 AvgPool BatchMatMul BatchMatMulV2 BiasAdd BroadcastTo CheckNumerics ClipByValue
    Concat ConcatV2 Conv2D Cumprod Cumsum DepthwiseConv2dNative Div DivNoNan Einsum Elu EnsureShape Erf
    Exp ExpandDims Fill Floor FloorDiv FloorMod Identity L2Loss LeakyRelu Log Log1p LogSoftmax MatMul
    Max MaxPool Maximum Mean Min Minimum MirrorPad Mod Mul MulNoNan Neg OnesLike Pack Pad PadV2 Pow Prod
    RealDiv Reciprocal Relu Relu6 Reshape ReverseV2 Round Rsqrt Select SelectV2 Selu Sigmoid Sign Slice
    Snapshot Softmax Softplus Softsign Sqrt Square SquaredDifference Squeeze StopGradient StridedSlice
    Sub Sum Tanh Tile Transpose ZerosLike""".split()  # noqa: SIM905 (a table reads best as words)
)
_BOOL_OPS = frozenset(
    """Equal NotEqual Less LessEqual Greater GreaterEqual LogicalAnd LogicalOr LogicalNot IsNan IsInf
    IsFinite All Any""".split()  # noqa: SIM905 (a table reads best as words)
)
_DEFAULTED_TYPE = {
    "Shape": ("out_type", "DT_INT32"),
    "Size": ("out_type", "DT_INT32"),
    "Rank": (None, "DT_INT32"),
    "ArgMax": ("output_type", "DT_INT64"),
    "ArgMin": ("output_type", "DT_INT64"),
    "Where": (None, "DT_INT64"),
    "VarHandleOp": (None, "DT_RESOURCE"),
    "StringJoin": (None, "DT_STRING"),
}


def num_outputs(node: Node, graph: Graph) -> int | None:
    """How many outputs the node has, where that is knowable; None otherwise."""
    fn = called_function(node, graph)
    if fn is not None:
        tout = node.attr("Tout")
        if tout is not None and tout.kind.startswith("list_"):
            return len(tout.value)
        if isinstance(fn, FunctionGraph) and not any(a.number_attr or a.type_list_attr for a in fn.outputs):
            return len(fn.outputs)
        return None
    count_attr = _OUTPUT_COUNT_ATTR.get(node.op)
    if count_attr:
        a = node.attr(count_attr)
        if a is not None and a.kind == "int":
            return a.value
        if a is not None and a.kind.startswith("list_"):
            return len(a.value)
    shapes = node.attr("_output_shapes")
    if shapes is not None and shapes.kind.startswith("list_"):
        return len(shapes.value)
    if node.op in _SINGLE_OUTPUT:
        return 1
    return None


def output_dtype(node: Node, index: int, graph: Graph) -> str | None:
    """The dtype of output `index` of the node, where that is knowable; None otherwise."""

    def type_attr(name):
        a = node.attr(name)
        return a.value if a is not None and a.kind == "type" and a.value else None

    fn = called_function(node, graph)
    if fn is not None:
        tout = node.attr("Tout")
        if tout is not None and tout.kind == "list_type":
            return tout.value[index] if index < len(tout.value) else None
        outputs = fn.outputs if isinstance(fn, FunctionGraph) else ()
        if index < len(outputs) and not any(a.number_attr or a.type_list_attr for a in outputs[:index]):
            return outputs[index].dtype or None
        return None
    if node.op == "IdentityN":
        t = node.attr("T")
        return t.value[index] if t is not None and t.kind == "list_type" and index < len(t.value) else None
    if index != 0:
        return None
    if node.op in _REF_OPS:
        dtype = type_attr("dtype")
        return dtype and dtype + "_REF"
    if node.op in _DTYPE_ATTR:
        return type_attr(_DTYPE_ATTR[node.op])
    if node.op in _T_OPS:
        return type_attr("T")
    if node.op in _BOOL_OPS:
        return "DT_BOOL"
    if node.op in _DEFAULTED_TYPE:
        name, default = _DEFAULTED_TYPE[node.op]
        return (type_attr(name) if name else None) or default
    return None


def _base(dtype: str) -> str:
    return dtype.removesuffix("_REF")


def _components(t: TensorSpec) -> list[tuple[str, str, str]]:
    """(label, graph tensor name, dtype the TensorInfo declares, or "") for every tensor a TensorInfo names.

    A coo_sparse TensorInfo's dtype is that of its values; composite components carry their own.
    """
    if t.encoding == "coo_sparse" and t.sparse is not None:
        return [
            ("values", t.sparse.values, t.dtype),
            ("indices", t.sparse.indices, ""),
            ("dense_shape", t.sparse.dense_shape, ""),
        ]
    if t.encoding == "composite_tensor" and t.composite is not None:
        found, todo = [], [((i,), c) for i, c in enumerate(t.composite.components)][::-1]
        while todo:  # components nest (a ragged tensor of ragged tensors): no recursion
            at, c = todo.pop()
            if c.encoding == "composite_tensor" and c.composite is not None:
                todo += [(at + (i,), cc) for i, cc in enumerate(c.composite.components)][::-1]
            elif c.encoding == "coo_sparse" and c.sparse is not None:
                found += [(f"{_component(at)} {part}", name, dtype) for part, name, dtype in _components(c)]
            elif c.name:
                found.append((_component(at), c.name, c.dtype))
        return found
    if t.name:
        return [("", t.name, t.dtype)]
    return []


def _component(at: tuple[int, ...]) -> str:
    if len(at) <= 4:
        return "component " + ".".join(map(str, at))
    return f"component {at[0]}.{at[1]}.….{at[-1]} (nested {len(at)} deep)"


def _graph_signatures(info, *, internal: bool = False):
    """(meta graph, signature) for every MetaGraph whose graph was read."""
    for mg in info.meta_graphs:
        if mg.graph is None:
            continue
        for sig in mg.signatures:
            if internal or not sig.internal:
                yield mg, sig


def _tensors(mg: MetaGraph, sig: Signature):
    """(io, key, where, label, tensor name, declared dtype) for every tensor the signature names."""
    for io, specs in (("inputs", sig.inputs), ("outputs", sig.outputs)):
        for t in specs:
            place = where(tags_of(mg), sig.key, io, t.key)
            for label, name, dtype in _components(t):
                yield io, t.key, place, label, name, dtype


def _what(key: str, label: str) -> str:
    return f"{key} ({label})" if label else key


# --- GRAPH001-003: TensorInfos against the graph --------------------------------------------


@rule("GRAPH001", Severity.ERROR)
def tensor_exists(info, options):
    """Every TensorInfo names a tensor that exists in the graph ("node:index", index in range).

    Serving feeds and fetches signature tensors by these names when a request
    arrives: a missing node, a name without ":index" or an output index the
    node does not have fails every request to the signature (TF says "refers
    to a Tensor which does not exist"). The model itself loads fine, so
    nothing catches this before a client does. Where the number of outputs is
    unknown (an op this tool does not know) the index is not checked.
    """
    for mg, sig in _graph_signatures(info, internal=True):
        graph = mg.graph
        for io, key, place, label, name, _ in _tensors(mg, sig):
            parsed = parse_tensor_name(name)
            if sig.internal:  # TF writes e.g. "NoOp" here; Serving runs it by node name at load time
                node_name = parsed[0] if parsed else name.lstrip("^")
                if graph.node(node_name) is None:
                    yield (
                        place,
                        f"{_what(key, label)} names node {node_name!r}, which is not in the graph; the model does not load",
                    )
                continue
            if parsed is None:
                hint = f"; write {name + ':0'!r}" if ":" not in name and graph.node(name) is not None else ""
                yield (
                    place,
                    (
                        f"{_what(key, label)}: TensorInfo name {name!r} is not 'node:index' "
                        f"(TF's Python session fetches an operation, not a tensor, from it){hint}"
                    ),
                )
                continue
            node_name, index = parsed
            node = graph.node(node_name)
            if node is None:
                graph_is = "the graph" if graph.nodes else "the graph, which has no nodes at all"
                yield (
                    place,
                    (
                        f"{_what(key, label)}: tensor {name!r} names node {node_name!r}, which is not in {graph_is}; "
                        f"every request to {sig.key} fails: point the TensorInfo at an existing tensor"
                    ),
                )
                continue
            fn = called_function(node, graph)
            if isinstance(fn, str):
                yield (
                    place,
                    (
                        f"{_what(key, label)}: {node_name} ({node.op}) calls function {fn!r}, which is not in the "
                        f"graph's function library; the model does not load"
                    ),
                )
                continue
            count = num_outputs(node, graph)
            if count is not None and index >= count:
                via = f" (function {fn.name})" if isinstance(fn, FunctionGraph) else ""
                has = f"only {count} output{'s' * (count != 1)}" if count else "no outputs"
                fix = f": use an index below {count}" if count else ""
                yield (
                    place,
                    (
                        f"{_what(key, label)}: tensor {name!r} does not exist: {node_name} ({node.op}){via} has {has}; "
                        f"every request to {sig.key} fails{fix}"
                    ),
                )


@rule("GRAPH002", Severity.WARNING)
def tensor_dtype_agrees(info, options):
    """Every TensorInfo's dtype agrees with the tensor it names in the graph.

    Clients build requests from the signature's dtypes (saved_model_cli, the
    REST API's JSON decoding, generated gRPC clients). When a TensorInfo says
    DT_FLOAT for a DT_STRING placeholder, Serving still loads and lists the
    model, and every client that trusts the signature sends the wrong type.
    Inputs are compared with the placeholder's dtype attr; outputs with the
    producing op's dtype where it is knowable (dtype/T/DstT attrs, a call's
    Tout, the called function's output arg). Reference dtypes (DT_FLOAT_REF)
    match their base type.
    """
    for mg, sig in _graph_signatures(info):
        graph = mg.graph
        for io, key, place, label, name, declared in _tensors(mg, sig):
            parsed = parse_tensor_name(name)
            if not declared or declared == "DT_INVALID" or parsed is None:
                continue
            node = graph.node(parsed[0])
            if node is None:
                continue
            actual = output_dtype(node, parsed[1], graph)
            if not actual or _base(actual) == _base(declared):
                continue
            what = f"placeholder {name}" if io == "inputs" and node.op in PLACEHOLDERS else f"{name} ({node.op})"
            verb, effect = ("is", "send") if io == "inputs" else ("produces", "decode")
            yield (
                place,
                (
                    f"TensorInfo{' ' + label if label else ''} says {declared} but {what} {verb} {actual}; "
                    f"clients will {effect} the wrong type: fix the TensorInfo dtype"
                ),
            )


@rule("GRAPH003", Severity.WARNING)
def input_is_placeholder(info, options):
    """Every signature input is fed into a placeholder, not into a computed tensor.

    Feeding a tensor that an op computes silently replaces that op's result
    and skips everything upstream of it; graph tools and converters
    (freeze_graph, TF-TRT, tf2onnx) expect signature inputs to be
    placeholders. An Identity is accepted: TF1 exports (TF Serving's own
    half_plus_two) name a fed entry point with one on purpose.
    """
    for mg, sig in _graph_signatures(info):
        computed: dict[str, tuple[str, list[tuple[str, str, Node]]]] = {}  # one finding per input
        for io, key, place, label, name, _ in _tensors(mg, sig):
            parsed = parse_tensor_name(name) if io == "inputs" else None
            node = mg.graph.node(parsed[0]) if parsed else None
            if node is None or node.op in PLACEHOLDERS or node.op == "Identity":
                continue
            computed.setdefault(key, (place, []))[1].append((label, name, node))
        for key, (place, fed) in computed.items():
            if len(fed) == 1:
                label, name, node = fed[0]
                what = f"{_what(key, label)} is fed into {name}, an output of {node.op} {node.name!r}"
            else:
                parts = ", ".join(f"{label} {name} ({node.op})" for label, name, node in fed[:3])
                more = f" and {len(fed) - 3} more" if len(fed) > 3 else ""
                what = f"{key} is fed into computed tensors: {parts}{more}"
            computes = "those ops compute" if len(fed) > 1 else "that op computes"
            yield (
                place,
                f"input {what}, not a placeholder: feeding overrides what {computes}; point the TensorInfo at a Placeholder",
            )


def _feeds(sig: Signature) -> set[tuple[str, int]]:
    found = set()
    for t in sig.inputs:
        for _, name, _ in _components(t):
            parsed = parse_tensor_name(name)
            if parsed:
                found.add(parsed)
    return found


_LAST_TRACED: list = []  # [(weak reference to the info, its traced outputs)]: GRAPH004 and 005 share one walk


def _forget_dead() -> None:
    if _LAST_TRACED and _LAST_TRACED[0][0]() is None:
        _LAST_TRACED.clear()


def _traced_outputs(info) -> list:
    """(meta graph, signature, output spec, [(tensor, dep or None)]) for every output of every API signature.

    dep is None where the tensor is not in the graph or the walk ran out of budget.
    """
    if _LAST_TRACED and _LAST_TRACED[0][0]() is info:
        return _LAST_TRACED[0][1]
    found = []
    for mg in info.meta_graphs:
        if mg.graph is None:
            continue
        tracer = Tracer(mg.graph)
        for sig in mg.signatures:
            if sig.internal:
                continue
            feeds = _feeds(sig)
            for t in sig.outputs:
                found.append((mg, sig, t, [(name, tracer.trace(name, feeds)) for _, name, _ in _components(t)]))
    _LAST_TRACED[:] = [(weakref.ref(info), found)]
    weakref.finalize(info, _forget_dead)  # keep no graph alive once its model is gone
    return found


@rule("GRAPH004", Severity.WARNING)
def output_depends_on_input(info, options):
    """Every signature output depends on an input or on state: none is a constant frozen at trace time.

    The tf.function trap: a Python branch, a numpy call or a Python value is
    evaluated once when the function is traced, and its result is saved as a
    constant. The signature then answers every request with the same value.
    The check follows data inputs backwards from each output, through the
    graph and into called functions (PartitionedCall, StatefulPartitionedCall,
    nested calls), and reports the path to the constant. Outputs that read
    variables, tables, files or random ops are not constants, and neither is
    one whose control inputs run a state update (a TF1 metric's Const value,
    fetched after its ^AssignAdd update runs). Other control inputs only order
    the run (TF2 puts ^StatefulPartitionedCall on every function output), so
    they do not count. Signatures without inputs are not checked.
    """
    for mg, sig, t, traced in _traced_outputs(info):
        if not sig.inputs or not traced or not all(dep is not None and dep.constant for _, dep in traced):
            continue
        tensor, dep = traced[0]
        yield (
            where(tags_of(mg), sig.key, "outputs", t.key),
            (
                f"output {t.key} does not depend on any input: {render_path(tensor, dep.path)} "
                f"(a value frozen at trace time?); compute it from the inputs, or drop it"
            ),
        )


@rule("GRAPH005", Severity.ERROR)
def output_needs_only_fed_placeholders(info, options):
    """Every placeholder a signature output needs is one of the signature's inputs.

    Serving feeds only the signature's inputs. An output computed from
    another Placeholder (one without a default) fails every request with
    "You must feed a value for placeholder tensor": typically a TensorInfo
    that points at the wrong input, or an input left out of the signature.
    """
    for mg, sig, t, traced in _traced_outputs(info):
        unfed = sorted({name for _, dep in traced if dep is not None for name in dep.unfed})
        if unfed:
            names = ", ".join(unfed[:5]) + (f" and {len(unfed) - 5} more" if len(unfed) > 5 else "")
            yield (
                where(tags_of(mg), sig.key, "outputs", t.key),
                (
                    f"output {t.key} needs placeholder{'s' * (len(unfed) > 1)} {names}, which {sig.key} does not feed; "
                    f"every request fails: add {'them' if len(unfed) > 1 else 'it'} to the signature's inputs"
                ),
            )
