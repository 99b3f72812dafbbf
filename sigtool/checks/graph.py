"""Graph consistency: signatures checked against the graph they name, and the tf.function trap.

GRAPH001-003 and GRAPH005 compare each TensorInfo with the nodes it names;
GRAPH004 follows data and control dependencies backwards from each output,
through the main graph and into the functions it calls, to find outputs that
no input can change. Everything here reads the plain Graph (MetaGraph.graph): a model
loaded without graph=True has nothing to check.
"""

from __future__ import annotations

import re
import weakref

from sigtool.checks.rules import Severity, rule, tags_of, where
from sigtool.model import FunctionGraph, Graph, MetaGraph, Node, Signature, TensorSpec

# --- what the graph says about a tensor ------------------------------------------------------

_PLACEHOLDERS = {"Placeholder", "PlaceholderV2", "PlaceholderWithDefault"}
_UNFED_PLACEHOLDERS = {"Placeholder", "PlaceholderV2"}  # without a default: must be fed
_CALL_OPS = {"PartitionedCall", "StatefulPartitionedCall"}
_CONST_OPS = {"Const", "HostConst", "_HostConst"}

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

_INDEX = re.compile(r"[0-9]+")


def parse_tensor_name(name: str) -> tuple[str, int] | None:
    """("node", index) for a TensorInfo name "node:index"; None when it is not one."""
    node, sep, index = name.rpartition(":")
    if not sep or not node or node.startswith("^") or not _INDEX.fullmatch(index):
        return None
    return node, int(index)


def _edge(ref: str) -> tuple[str, int]:
    """A main-graph node input ("x", "x:1") as (node, index)."""
    node, sep, index = ref.rpartition(":")
    if sep and _INDEX.fullmatch(index):
        return node, int(index)
    return ref, 0


def called_function(node: Node, graph: Graph) -> FunctionGraph | str | None:
    """For a call node (PartitionedCall, StatefulPartitionedCall, or an op that is itself a library
    function): the function, or its name when the library lacks it. None for other nodes."""
    if node.op in _CALL_OPS:
        f = node.attr("f")
        if f is None or f.kind != "func" or not f.value:
            return None
        return graph.function(f.value) or f.value
    return graph.function(node.op)


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
            what = f"placeholder {name}" if io == "inputs" and node.op in _PLACEHOLDERS else f"{name} ({node.op})"
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
            if node is None or node.op in _PLACEHOLDERS or node.op == "Identity":
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


# --- GRAPH004/005: following data dependencies backwards --------------------------------------

_STATEFUL_OPS = frozenset(
    """Assign AssignAdd AssignSub DestroyTemporaryVariable EagerPyFunc HostRecv ImmutableConst
    IsVariableInitialized MatchingFiles Multinomial NonDeterministicInts ParameterizedTruncatedNormal
    PyFunc PyFuncStateless ReadFile Recv RngReadAndSkip RngSkip TemporaryVariable Timestamp
    TruncatedNormal VarIsInitializedOp _HostRecv _Recv""".split()  # noqa: SIM905 (a table reads best as words)
)
# Parts of op names that read or create state, randomness, files or queues (a wide net: an op caught
# here only makes an output count as non-constant, never raises a finding).
_STATEFUL_PARTS = (
    "Variable",
    "VarHandle",
    "HashTable",
    "Table",
    "Iterator",
    "Random",
    "Stateful",
    "Queue",
    "Reader",
    "Dataset",
    "File",
    "Resource",
    "TensorArray",
    "Stack",
    "Accumulator",
    "Barrier",
    "Seed",
    "Mutex",
    "Stage",
    "Anonymous",
    "Summary",
)
# Ops that change a variable, table, queue or stack (prefixes); the pure ops among them are excluded.
_UPDATE_PREFIXES = (
    "Assign",
    "Scatter",
    "ResourceScatter",
    "Apply",
    "ResourceApply",
    "SparseApply",
    "ResourceSparseApply",
    "LookupTableInsert",
    "LookupTableImport",
    "LookupTableRemove",
    "InitializeTable",
    "QueueEnqueue",
    "StackPush",
    "TensorArrayWrite",
    "TensorArrayScatter",
    "AccumulatorApply",
    "CountUpTo",
    "BoostedTreesUpdate",
    "RngSkip",
    "RngReadAndSkip",
)
_PURE_UPDATE_LOOKALIKES = frozenset({"ScatterNd", "ScatterNdNonAliasingAdd"})
_STATEFUL_CACHE: dict[str, bool] = {}
_PATH_HEAD = 8  # steps of a long dependency path shown before "…" (the last two are always shown)
BUDGET = 500_000  # node visits per MetaGraph before GRAPH004/005 stop following (and stay silent)
_EMPTY: frozenset = frozenset()


def is_stateful_op(op: str) -> bool:
    """Ops whose value is not a function of their data inputs: variables, tables, randomness, files."""
    found = _STATEFUL_CACHE.get(op)
    if found is None:
        found = _STATEFUL_CACHE[op] = op in _STATEFUL_OPS or any(part in op for part in _STATEFUL_PARTS)
    return found


def is_update_op(op: str) -> bool:
    """Ops that change state when run (an assignment, a table insert, an optimizer step, an enqueue)."""
    return op.startswith(_UPDATE_PREFIXES) and op not in _PURE_UPDATE_LOOKALIKES


class _Step:
    """One step of a dependency path, linked to the rest (a _Step, a _Join or None)."""

    __slots__ = ("call", "name", "op", "rest")

    def __init__(self, op: str, name: str, call: str, rest):
        self.op, self.name, self.call, self.rest = op, name, call, rest

    @property
    def label(self) -> str:
        if self.call or self.op == self.name:
            return self.name
        return f"{self.op} {self.name}"


class _Join:
    """A function's path, which ends at one of its arguments, continued by the path of the call's input."""

    __slots__ = ("inner", "outer")

    def __init__(self, inner, outer):
        self.inner, self.outer = inner, outer


class _Dep:
    """What a value depends on."""

    __slots__ = ("args", "end_arg", "live", "path", "unfed")

    def __init__(self, live=False, unfed=_EMPTY, args=_EMPTY, path=None, end_arg=None):
        self.live = live  # a fed input, state (variables, tables, randomness, files) or something unknown
        self.unfed = unfed  # main graph: Placeholders reached that the signature does not feed
        self.args = args  # in a function: positions of the arguments it depends on
        self.path = path  # unless live or unfed: how it is built, down to a Const or an argument
        self.end_arg = end_arg  # the path ends at this argument

    @property
    def constant(self) -> bool:
        return not self.live and not self.unfed and not self.args


_LIVE = _Dep(live=True)
_NOTHING = _Dep()  # a control input that changes nothing: ignored


class _Budget(Exception):
    pass


def _data_count(node: Node) -> int:
    return sum(1 for r in node.inputs if r[:1] != "^")


def _with_control(dep: _Dep, control: list[_Dep]) -> _Dep:
    """dep, made live (or needing placeholders or arguments) by what its control inputs depend on.

    The path stays the data path: a Const with ^AssignAdd is not built from the update, only run after it.
    """
    if not control or all(c.constant for c in control):
        return dep
    live = dep.live or any(c.live for c in control)
    unfed = dep.unfed.union(*(c.unfed for c in control))
    args = dep.args.union(*(c.args for c in control))
    if live or unfed:
        return _LIVE if not unfed and not args else _Dep(live=live, unfed=unfed, args=args)
    return _Dep(args=args, path=dep.path, end_arg=dep.end_arg)


class Tracer:
    """Follows data and control inputs backwards, through the main graph and into called functions.

    Keys: ("", node, index) in the main graph, (function, node, index) in a
    function body (index: the output, for call nodes; None for other nodes,
    whose outputs all count alike), and (function, output) for a function's
    result. A function's result is summarized once as the arguments it
    depends on, so nested and repeated calls cost nothing more; main-graph
    answers depend on what the signature feeds and are kept per set of fed
    tensors. The walk keeps its own stack (no Python recursion), and a cycle
    (TF1 while loops, recursive functions) counts as live, never as constant.
    """

    def __init__(self, graph: Graph, budget: int = BUDGET):
        self.graph = graph
        self.budget = budget
        self._nodes = {n.name: n for n in graph.nodes}
        self._functions = {f.name: f for f in graph.functions}
        self._fn_memo: dict = {}
        self._main_memos: dict = {}
        self._fn_nodes: dict[str, dict[str, Node]] = {}
        self._has_state: dict[str, bool] = {}
        self._updates: dict[str, bool] = {}
        self._update_memo: dict[str, dict[str, bool]] = {}

    def trace(self, tensor: str, feeds: set[tuple[str, int]]) -> _Dep | None:
        """What main-graph tensor "node:index" depends on, given the fed tensors; None if unknown."""
        parsed = parse_tensor_name(tensor)
        if parsed is None or self._nodes.get(parsed[0]) is None:
            return None
        need = self._main_edge(f"{parsed[0]}:{parsed[1]}", feeds)
        if isinstance(need, _Dep):
            return need
        try:
            return self._solve(need, feeds, self._main_memos.setdefault(frozenset(feeds), {}))
        except _Budget:
            return None

    # -- edges: what a node input refers to ------------------------------------------------

    def _main_edge(self, ref: str, feeds):
        name, index = _edge(ref) if ":" in ref else (ref, 0)
        if (name, index) in feeds:
            return _LIVE
        node = self._nodes.get(name)
        if node is None:
            return _LIVE
        return ("", name, index if isinstance(self._callee(node), FunctionGraph) else None)

    def _fn_edge(self, fn: FunctionGraph, ref: str, nodes: dict[str, Node]):
        parts = ref.split(":")
        if len(parts) == 1:
            for i, a in enumerate(fn.inputs):
                if a.name == ref:
                    return _Dep(args=frozenset([i]), path=_Step("arg", ref, "", None), end_arg=i)
            return _LIVE
        node = nodes.get(parts[0])
        if node is None:
            return _LIVE
        callee = self._callee(node)
        if not isinstance(callee, FunctionGraph):
            return (fn.name, node.name, None)
        index = int(parts[2]) if len(parts) > 2 and _INDEX.fullmatch(parts[2]) else 0
        if node.op not in _CALL_OPS:  # the op is the function: outputs are named by its output args
            names = [a.name for a in callee.outputs]
            if parts[1] not in names:
                return (fn.name, node.name, None)
            index += names.index(parts[1])
        return (fn.name, node.name, index)

    def _callee(self, node: Node) -> FunctionGraph | str | None:
        if node.op in _CALL_OPS:
            return called_function(node, self.graph)
        return self._functions.get(node.op)

    def _function_nodes(self, fn: FunctionGraph) -> dict[str, Node]:
        nodes = self._fn_nodes.get(fn.name)
        if nodes is None:
            nodes = self._fn_nodes[fn.name] = {n.name: n for n in fn.nodes}
        return nodes

    # -- what a key needs, and how the answers combine ----------------------------------------

    def _needs(self, key, feeds) -> tuple[list, Node | None]:
        if len(key) == 2:  # a function's output
            fn = self._functions.get(key[0])
            if fn is None or key[1] >= len(fn.outputs):
                return [_LIVE], None
            ref = dict(fn.ret).get(fn.outputs[key[1]].name)
            return ([_LIVE] if ref is None else [self._fn_edge(fn, ref, self._function_nodes(fn))]), None
        scope, name, index = key
        if scope:
            fn = self._functions.get(scope)
            nodes = self._function_nodes(fn) if fn else {}
            node = nodes.get(name)
            if node is None:
                return [_LIVE], None
            needs = [self._fn_edge(fn, r, nodes) for r in node.inputs if r[:1] != "^"]
            needs += [self._control_edge(r[1:], nodes, scope) for r in node.inputs if r[:1] == "^"]
        else:
            node = self._nodes.get(name)
            if node is None:
                return [_LIVE], None
            needs = [self._main_edge(r, feeds) for r in node.inputs if r[:1] != "^"]
            needs += [self._control_edge(r[1:], self._nodes, "") for r in node.inputs if r[:1] == "^"]
        if index is not None:  # a call: the callee's summary for this output first, then the call's inputs
            needs.insert(0, (self._callee(node).name, index))
        return needs, node

    def _control_edge(self, name: str, nodes: dict[str, Node], scope: str):
        """A control input "^name" counts when running that op runs a state update: the op itself, anything
        it needs (data or control, transitively), or a function it calls. A TF1 metric's Const value fetched
        with ^AssignAdd (or ^update_op, which reads the updated variables) changes with every request.
        Other control inputs order the run without changing any value; TF2 puts one on every function
        output (^StatefulPartitionedCall), so a function that updates nothing adds nothing.
        """
        if name not in nodes:
            return _LIVE
        return (scope, name, None) if self._runs_update(name, nodes, scope) else _NOTHING

    def _runs_update(self, name: str, nodes: dict[str, Node], scope: str) -> bool:
        """Whether running node `name` runs an update; memoized per scope, one pass over what it needs."""
        memo = self._update_memo.setdefault(scope, {})
        if name in memo:
            return memo[name]
        frames = [[name, None, False]]  # node, iterator over its inputs (None: not started), found
        on_path = {name}
        while frames:
            frame = frames[-1]
            current, inputs, hit = frame
            node = nodes.get(current)
            if inputs is None:
                callees = (node.calls + ((node.op,) if node.op in self._functions else ())) if node else ()
                if node is None or is_update_op(node.op) or any(self._function_updates(f) for f in callees):
                    hit = frame[2] = node is not None
                    inputs = frame[1] = iter(())
                else:
                    inputs = frame[1] = iter(node.inputs)
            pushed = False
            if not hit:
                for ref in inputs:
                    before = ref.lstrip("^").split(":")[0]
                    if before in memo:
                        if memo[before]:
                            hit = frame[2] = True
                            break
                    elif before not in on_path and before in nodes:
                        frames.append([before, None, False])
                        on_path.add(before)
                        pushed = True
                        break
            if pushed:
                continue
            memo[current] = hit
            on_path.discard(current)
            frames.pop()
            if frames and hit:
                frames[-1][2] = True
        return memo[name]

    def _function_updates(self, name: str) -> bool:
        """Whether a library function (or one it calls) updates state; unknown functions count as updating."""
        if name in self._updates:
            return self._updates[name]
        seen, todo, found = {name}, [name], False
        while todo and not found:
            fn = self._functions.get(todo.pop())
            if fn is None:
                found = True
                break
            for n in fn.nodes:
                if is_update_op(n.op):
                    found = True
                    break
                for callee in n.calls + ((n.op,) if n.op in self._functions else ()):
                    if callee not in seen:
                        seen.add(callee)
                        todo.append(callee)
        self._updates[name] = found
        return found

    def _combine(self, key, needs: list, node: Node | None, memo) -> _Dep:
        if len(key) == 2 or node is None:
            return self._answer(needs[0], memo)
        scope, _, index = key
        if index is not None:
            return self._combine_call(node, index, needs, memo)
        op = node.op
        if op in _UNFED_PLACEHOLDERS:  # fed ones were cut off at the edge
            return _Dep(unfed=frozenset([node.name])) if not scope else _LIVE
        data = _data_count(node)
        needs, control = needs[:data], [self._answer(n, memo) for n in needs[data:]]
        if not needs:
            if op not in _CONST_OPS and op != "NoOp":
                return _LIVE
            return _with_control(_Dep(path=_Step(op, node.name, "", None)), control)
        live = is_stateful_op(op) or (bool(node.calls) and self._calls_state(node))
        return _with_control(self._merge(live, [self._answer(n, memo) for n in needs], op, node.name, ""), control)

    def _combine_call(self, node: Node, index: int, needs: list, memo) -> _Dep:
        data = 1 + _data_count(node)
        summary, inputs = self._answer(needs[0], memo), needs[1:data]
        control = [self._answer(n, memo) for n in needs[data:]]
        if any(i >= len(inputs) for i in summary.args):
            return _LIVE
        used = [self._answer(inputs[i], memo) for i in sorted(summary.args)]
        call = f"→ {self._callee(node).name} output {index}"
        dep = self._merge(summary.live, used, node.op, node.name, call)
        if not dep.live and not dep.unfed:
            tail = self._answer(inputs[summary.end_arg], memo) if summary.end_arg is not None else None
            dep.path = _Step(node.op, node.name, call, _Join(summary.path, tail.path if tail else None))
            dep.end_arg = tail.end_arg if tail else None
        return _with_control(dep, control)

    @staticmethod
    def _merge(live: bool, deps: list[_Dep], op: str, name: str, call: str) -> _Dep:
        unfed = args = _EMPTY
        first = None
        for d in deps:
            live = live or d.live
            if d.unfed and d.unfed is not unfed:
                unfed = unfed | d.unfed if unfed else d.unfed
            if d.args and d.args is not args:
                args = args | d.args if args else d.args
            if first is None and d.path is not None:
                first = d
        if live or unfed:
            return _LIVE if not unfed and not args else _Dep(live=live, unfed=unfed, args=args)
        return _Dep(
            args=args,
            path=_Step(op, name, call, first.path if first else None),
            end_arg=first.end_arg if first else None,
        )

    def _calls_state(self, node: Node) -> bool:
        """A control-flow node (If, While, Case, ...) whose functions read state anywhere inside."""
        return any(self._function_has_state(name) for name in node.calls)

    def _function_has_state(self, name: str) -> bool:
        if name in self._has_state:
            return self._has_state[name]
        seen, todo, found = {name}, [name], False
        while todo and not found:
            fn = self._functions.get(todo.pop())
            if fn is None:  # not in the library: unknown, so not a constant
                found = True
                break
            for n in fn.nodes:
                source = not n.inputs and n.op not in _CONST_OPS and n.op != "NoOp" and not n.calls
                if source or is_stateful_op(n.op) or n.op in _UNFED_PLACEHOLDERS:
                    found = True
                    break
                for callee in n.calls + ((n.op,) if self._functions.get(n.op) else ()):
                    if callee not in seen:
                        seen.add(callee)
                        todo.append(callee)
        self._has_state[name] = found
        return found

    # -- the walk ----------------------------------------------------------------------------

    def _memo_of(self, key, memo) -> dict:
        return memo if len(key) == 3 and not key[0] else self._fn_memo

    def _answer(self, need, memo) -> _Dep:
        if type(need) is _Dep:
            return need
        return self._memo_of(need, memo).get(need, _LIVE)  # unanswered: a cycle back to a caller

    def _solve(self, root, feeds, memo) -> _Dep:
        found = self._memo_of(root, memo).get(root)
        if found is not None:
            return found
        stack = [[root, *self._needs(root, feeds), 0]]
        on_path = {root}
        while stack:
            frame = stack[-1]
            key, needs, node, pos = frame
            while pos < len(needs):
                need = needs[pos]
                pos += 1
                if type(need) is _Dep or need in on_path or need in self._memo_of(need, memo):
                    continue
                self.budget -= 1
                if self.budget < 0:
                    raise _Budget
                frame[3] = pos
                stack.append([need, *self._needs(need, feeds), 0])
                on_path.add(need)
                break
            else:
                self._memo_of(key, memo)[key] = self._combine(key, needs, node, memo)
                on_path.discard(key)
                stack.pop()
        return self._memo_of(root, memo)[root]


def render_path(tensor: str, path) -> str:
    """ "y:0 ← Const y" / "StatefulPartitionedCall:0 → f output 0 ← Identity ← Const" from a dependency path."""
    head, tail, count, todo = [], [], 0, [path]
    while todo:
        p = todo.pop()
        if isinstance(p, _Step):
            count += 1
            if len(head) <= _PATH_HEAD:
                head.append(p)
            else:
                tail = [*tail[-1:], p]
            todo.append(p.rest)
        elif isinstance(p, _Join):
            todo += [p.outer, p.inner]
    node = tensor.rpartition(":")[0]
    parts = [tensor]
    for i, s in enumerate(head):
        if i == 0 and s.call and s.name == node:
            parts[0] += f" {s.call}"
        else:
            parts.append(f"{s.label} {s.call}".rstrip())
    if count > len(head) + len(tail):
        parts.append("…")
    parts += [f"{s.label} {s.call}".rstrip() for s in tail]
    return " ← ".join(parts)


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
    The check follows data and control inputs backwards from each output,
    through the graph and into called functions (PartitionedCall,
    StatefulPartitionedCall, nested calls), and reports the path to the
    constant. Outputs that read variables, tables, files or random ops are not
    constants, and neither is a Const with a control input on such an op (a
    TF1 metric's value fetched after its ^AssignAdd update runs). Signatures
    without inputs are not checked.
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
