"""Graph consistency: signatures checked against the graph they name, and the tf.function trap.

GRAPH001-003 and GRAPH005 compare each TensorInfo with the nodes it names;
GRAPH004 follows data and control dependencies backwards from each output,
through the main graph and into the functions it calls (dataflow.py, walked once per run
and shared with GRAPH005 through the CheckContext), to find
outputs that no input can change. Everything here reads the plain Graph (MetaGraph.graph): a model
loaded without graph=True has nothing to check.
"""

from __future__ import annotations

from sigtool.checks.context import components
from sigtool.checks.dataflow import render_path
from sigtool.checks.registry import Severity, rule, where
from sigtool.model import FunctionGraph, MetaGraph, Node, Signature, format_tags
from sigtool.ops import PLACEHOLDERS, called_function, num_outputs, output_dtype, parse_tensor_name


def _base(dtype: str) -> str:
    return dtype.removesuffix("_REF")


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
            place = where(format_tags(mg.tags), sig.key, io, t.key)
            for label, name, dtype in components(t):
                yield io, t.key, place, label, name, dtype


def _what(key: str, label: str) -> str:
    return f"{key} ({label})" if label else key


# --- GRAPH001-003: TensorInfos against the graph --------------------------------------------


@rule("GRAPH001", Severity.ERROR)
def tensor_exists(ctx):
    """Every TensorInfo names a tensor that exists in the graph ("node:index", index in range).

    Serving feeds and fetches signature tensors by these names when a request
    arrives: a missing node, a name without ":index" or an output index the
    node does not have fails every request to the signature (TF says "refers
    to a Tensor which does not exist"). The model itself loads fine, so
    nothing catches this before a client does. Where the number of outputs is
    unknown (an op this tool does not know) the index is not checked.
    """
    for mg, sig in _graph_signatures(ctx.info, internal=True):
        graph = mg.graph
        for _io, key, place, label, name, _ in _tensors(mg, sig):
            parsed = parse_tensor_name(name)
            if sig.internal:  # TF writes e.g. "NoOp" here; Serving runs it by node name at load time
                node_name = parsed[0] if parsed else name.lstrip("^")
                if graph.node(node_name) is None:
                    yield (
                        place,
                        f"{_what(key, label)} names node {node_name!r}, which is not in the graph; "
                        "the model does not load",
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
def tensor_dtype_agrees(ctx):
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
    for mg, sig in _graph_signatures(ctx.info):
        graph = mg.graph
        for io, _key, place, label, name, declared in _tensors(mg, sig):
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
def input_is_placeholder(ctx):
    """Every signature input is fed into a placeholder, not into a computed tensor.

    Feeding a tensor that an op computes silently replaces that op's result
    and skips everything upstream of it; graph tools and converters
    (freeze_graph, TF-TRT, tf2onnx) expect signature inputs to be
    placeholders. An Identity is accepted: TF1 exports (TF Serving's own
    half_plus_two) name a fed entry point with one on purpose.
    """
    for mg, sig in _graph_signatures(ctx.info):
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
                f"input {what}, not a placeholder: feeding overrides what {computes}; "
                "point the TensorInfo at a Placeholder",
            )


@rule("GRAPH004", Severity.WARNING)
def output_depends_on_input(ctx):
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
    for o in ctx.traced_outputs:
        sig, t, traced = o.signature, o.output, o.tensors
        if not sig.inputs or not traced or not all(dep is not None and dep.constant for _, dep in traced):
            continue
        tensor, dep = traced[0]
        yield (
            where(format_tags(o.meta_graph.tags), sig.key, "outputs", t.key),
            (
                f"output {t.key} does not depend on any input: {render_path(tensor, dep.path)} "
                f"(a value frozen at trace time?); compute it from the inputs, or drop it"
            ),
        )


@rule("GRAPH005", Severity.ERROR)
def output_needs_only_fed_placeholders(ctx):
    """Every placeholder a signature output needs is one of the signature's inputs.

    Serving feeds only the signature's inputs. An output computed from
    another Placeholder (one without a default) fails every request with
    "You must feed a value for placeholder tensor": typically a TensorInfo
    that points at the wrong input, or an input left out of the signature.
    """
    for o in ctx.traced_outputs:
        sig, t = o.signature, o.output
        unfed = sorted({name for _, dep in o.tensors if dep is not None for name in dep.unfed})
        if unfed:
            names = ", ".join(unfed[:5]) + (f" and {len(unfed) - 5} more" if len(unfed) > 5 else "")
            yield (
                where(format_tags(o.meta_graph.tags), sig.key, "outputs", t.key),
                (
                    f"output {t.key} needs placeholder{'s' * (len(unfed) > 1)} {names}, which {sig.key} does not feed; "
                    f"every request fails: add {'them' if len(unfed) > 1 else 'it'} to the signature's inputs"
                ),
            )
