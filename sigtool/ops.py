"""What sigtool knows about TensorFlow ops, in one place: facts, not rules.

Which ops call functions, feed a graph, hold variables or state, touch the
outside world (the unsafe list), how many outputs an op has and of what dtype,
and how tensor names and node inputs are written. Used by the loader, the
checks and `run --sample`; imports nothing from sigtool but the model.

Tensor names, the three forms TensorFlow writes:
    TensorInfo name      "node:index"            parse_tensor_name
    main-graph input     "node", "node:index"    graph_input  (and "^node", a control input)
    function-body input  "arg", "node:out:index" function_input
input_node(ref) names the node of any of them.
"""

from __future__ import annotations

import re

from sigtool.model import FunctionGraph, Graph, Node

# --- ops by role -------------------------------------------------------------------------------

CALL_OPS = frozenset({"PartitionedCall", "StatefulPartitionedCall"})  # call the function in attr "f"
PLACEHOLDERS = frozenset({"Placeholder", "PlaceholderV2", "PlaceholderWithDefault"})
UNFED_PLACEHOLDERS = frozenset({"Placeholder", "PlaceholderV2"})  # without a default: must be fed
CONST_OPS = frozenset({"Const", "HostConst", "_HostConst"})
REF_VARIABLE_OPS = frozenset({"VariableV2", "Variable"})  # output: a reference to a variable of their dtype
VARIABLE_OPS = REF_VARIABLE_OPS | {"VarHandleOp", "AutoReloadVariable", "_VarHandlesOp"}

# --- unsafe ops: a SavedModel is code, and these touch files, processes or the network ----------

# saved_model_cli scan's list, then a wider default. Checkpoint ops (Save,
# SaveSlices, SaveV2, RestoreV2, MergeV2Checkpoints, ShardedFilename) are in
# every model's saver and asset-table initializers read the model's own assets:
# neither is listed.
SCAN_DEFAULT = frozenset({"ReadFile", "WriteFile", "PrintV2"})
UNSAFE_OPS: dict[str, str] = {
    **{
        op: "reads or writes files"
        for op in (
            "ReadFile",
            "WriteFile",
            "MatchingFiles",
            "ImmutableConst",
            "WholeFileReader",
            "WholeFileReaderV2",
            "TextLineReader",
            "TextLineReaderV2",
            "FixedLengthRecordReader",
            "FixedLengthRecordReaderV2",
            "TFRecordReader",
            "TFRecordReaderV2",
            "LMDBReader",
            "LoadAndRemapMatrix",
            "TextLineDataset",
            "TFRecordDataset",
            "TFRecordDatasetV2",
            "FixedLengthRecordDataset",
            "FixedLengthRecordDatasetV2",
            "LMDBDataset",
            "ExperimentalLMDBDataset",
            "DatasetToTFRecord",
            "ExperimentalDatasetToTFRecord",
            "SaveDataset",
            "SaveDatasetV2",
            "LoadDataset",
            "SnapshotDataset",
            "SnapshotDatasetV2",
            "CreateSummaryFileWriter",
            "WriteSummary",
            "WriteRawProtoSummary",
        )
    },
    **{op: "prints to the server's logs or a file" for op in ("PrintV2", "Print")},
    **{op: "runs Python code" for op in ("PyFunc", "PyFuncStateless", "EagerPyFunc")},
    **{
        op: "talks to the network"
        for op in (
            "Rpc",
            "TryRpc",
            "RpcClient",
            "RpcServer",
            "RpcCall",
            "RpcServerStart",
            "RpcServerRegister",
            "DataServiceDataset",
            "DataServiceDatasetV2",
            "DataServiceDatasetV3",
            "DataServiceDatasetV4",
            "DebugIdentityV2",
            "DebugIdentityV3",
            "DebugIdentity",
            "DebugNanCount",
            "DebugNumericSummary",
        )
    },
}

# --- state: ops whose value is not a function of their data inputs -------------------------------

STATEFUL_OPS = frozenset(
    """Assign AssignAdd AssignSub DestroyTemporaryVariable EagerPyFunc HostRecv ImmutableConst
    IsVariableInitialized MatchingFiles Multinomial NonDeterministicInts ParameterizedTruncatedNormal
    PyFunc PyFuncStateless ReadFile Recv RngReadAndSkip RngSkip TemporaryVariable Timestamp
    TruncatedNormal VarIsInitializedOp _HostRecv _Recv""".split()  # noqa: SIM905 (a table reads best as words)
)
# Parts of op names that read or create state, randomness, files or queues (a wide net: an op caught
# here only makes an output count as non-constant, never raises a finding).
STATEFUL_PARTS = (
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
UPDATE_PREFIXES = (
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
PURE_UPDATE_LOOKALIKES = frozenset({"ScatterNd", "ScatterNdNonAliasingAdd"})


def is_stateful_op(op: str) -> bool:
    """Ops whose value is not a function of their data inputs: variables, tables, randomness, files."""
    return op in STATEFUL_OPS or any(part in op for part in STATEFUL_PARTS)


def is_update_op(op: str) -> bool:
    """Ops that change state when run (an assignment, a table insert, an optimizer step, an enqueue)."""
    return op.startswith(UPDATE_PREFIXES) and op not in PURE_UPDATE_LOOKALIKES


# --- tensor names -----------------------------------------------------------------------------

_INDEX = re.compile(r"[0-9]+")


def parse_tensor_name(name: str) -> tuple[str, int] | None:
    """("node", index) for a TensorInfo name "node:index"; None when it is not one (no index, "^node")."""
    node, sep, index = name.rpartition(":")
    if not sep or not node or node.startswith("^") or not _INDEX.fullmatch(index):
        return None
    return node, int(index)


def is_control(ref: str) -> bool:
    """A control input, "^node": it orders the run and carries no value."""
    return ref[:1] == "^"


def graph_input(ref: str) -> tuple[str, int]:
    """A main-graph data input ("x", "x:1") as (node, output index); no index means output 0."""
    node, sep, index = ref.rpartition(":")
    if sep and _INDEX.fullmatch(index):
        return node, int(index)
    return ref, 0


def function_input(ref: str) -> tuple[str, str, int]:
    """A function-body data input as (node, output arg, index): "n:out:1" -> ("n", "out", 1).

    A name without ":" is one of the function's arguments: ("arg", "", 0). A missing or non-numeric
    index counts as 0.
    """
    parts = ref.split(":")
    if len(parts) == 1:
        return ref, "", 0
    index = int(parts[2]) if len(parts) > 2 and _INDEX.fullmatch(parts[2]) else 0
    return parts[0], parts[1], index


def input_node(ref: str) -> str:
    """The node any reference names: "n", "n:1", "n:output:0" and "^n" all name n."""
    return ref.lstrip("^").split(":", 1)[0]


# --- calls ----------------------------------------------------------------------------------------


def called_function(node: Node, graph: Graph) -> FunctionGraph | str | None:
    """For a call node (PartitionedCall, StatefulPartitionedCall, or an op that is itself a library
    function): the function, or its name when the library lacks it. None for other nodes."""
    if node.op in CALL_OPS:
        f = node.attr("f")
        if f is None or f.kind != "func" or not f.value:
            return None
        return graph.function(f.value) or f.value
    return graph.function(node.op)


# --- outputs: how many, and of which dtype ------------------------------------------------------

# Ops with exactly one output (the index of a TensorInfo on them must be 0).
SINGLE_OUTPUT = frozenset(
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
OUTPUT_COUNT_ATTR = {
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
DTYPE_ATTR = {
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
# Ops whose output has the dtype of their "T" attribute.
T_OPS = frozenset(
    """Abs Add AddN AddV2 AvgPool BatchMatMul BatchMatMulV2 BiasAdd BroadcastTo CheckNumerics ClipByValue
    Concat ConcatV2 Conv2D Cumprod Cumsum DepthwiseConv2dNative Div DivNoNan Einsum Elu EnsureShape Erf
    Exp ExpandDims Fill Floor FloorDiv FloorMod Identity L2Loss LeakyRelu Log Log1p LogSoftmax MatMul
    Max MaxPool Maximum Mean Min Minimum MirrorPad Mod Mul MulNoNan Neg OnesLike Pack Pad PadV2 Pow Prod
    RealDiv Reciprocal Relu Relu6 Reshape ReverseV2 Round Rsqrt Select SelectV2 Selu Sigmoid Sign Slice
    Snapshot Softmax Softplus Softsign Sqrt Square SquaredDifference Squeeze StopGradient StridedSlice
    Sub Sum Tanh Tile Transpose ZerosLike""".split()  # noqa: SIM905 (a table reads best as words)
)
BOOL_OPS = frozenset(
    """Equal NotEqual Less LessEqual Greater GreaterEqual LogicalAnd LogicalOr LogicalNot IsNan IsInf
    IsFinite All Any""".split()  # noqa: SIM905 (a table reads best as words)
)
# op -> (attribute that may override the dtype, or None; the dtype otherwise)
DEFAULTED_TYPE = {
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
    count_attr = OUTPUT_COUNT_ATTR.get(node.op)
    if count_attr:
        a = node.attr(count_attr)
        if a is not None and a.kind == "int":
            return a.value
        if a is not None and a.kind.startswith("list_"):
            return len(a.value)
    shapes = node.attr("_output_shapes")
    if shapes is not None and shapes.kind.startswith("list_"):
        return len(shapes.value)
    if node.op in SINGLE_OUTPUT:
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
    if node.op in REF_VARIABLE_OPS:
        dtype = type_attr("dtype")
        return dtype and dtype + "_REF"
    if node.op in DTYPE_ATTR:
        return type_attr(DTYPE_ATTR[node.op])
    if node.op in T_OPS:
        return type_attr("T")
    if node.op in BOOL_OPS:
        return "DT_BOOL"
    if node.op in DEFAULTED_TYPE:
        name, default = DEFAULTED_TYPE[node.op]
        return (type_attr(name) if name else None) or default
    return None
