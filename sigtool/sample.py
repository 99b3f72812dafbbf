"""Synthesized TF Serving REST request bodies for `sigtool run --sample` (pure Python: no TF, numpy or protobuf).

    sample_request(mg, signature, *, batch=1, seed=0, values_per_feature=1) -> dict
        A JSON-able request body for `signature` (TF Serving REST API: row or columnar format). Pass a MetaGraph
        loaded with graph=True: the graph tells which string inputs are serialized tf.Examples and what
        features they need.
    example_spec(mg, tensor) -> ExampleSpec | None
        The tf.Example feature spec read from the ParseExample / ParseExampleV2 / ParseSingleExample op that
        parses the signature input `tensor` (a TensorSpec), or None when none is found.

Bodies
* Example-fed signatures (one DT_STRING input keyed "inputs" that reaches a parse op, and a classify or
  regress method, or a predict method with that single input): `{"signature_name", "examples": [...]}`,
  `batch` examples holding every feature of the spec (those with defaults too). A float feature is always a
  JSON float, so Serving builds a float_list; int64 features are ints, string features words. A dense
  feature of shape [] is a scalar, any other shape a flat list of its element count (unknown dims count 1),
  and it takes the spec's default value when the graph holds one of that size (a value the model expects).
  Sparse and ragged (var-len) features get `values_per_feature` values, 1 by default: tf.Transform-style
  graphs densify a var-len feature to [batch, 1] and fail on a second value.
* Everything else is a predict body. Row format (`"instances"`, `batch` of them; plain values for one input,
  objects keyed by input for several) when every input's shape has a leading -1; else columnar
  (`"inputs": {key: tensor}`) with the declared shapes: an unknown dim is `batch` in dim 0 and 1 elsewhere,
  fixed dims (0 too) are kept, scalars stay scalars, and an unknown rank (or a TensorInfo without a shape)
  becomes [batch] - unless the graph knows better: a Placeholder with a known shape, or one assigned to a
  variable of a known shape (then that shape). A DT_STRING input that reaches a parse op but cannot use
  the examples body (other key, other inputs) gets {"b64": serialized tf.Example} values built from the spec;
  other string inputs get short ASCII words ({"b64": ...} of one when the key ends in "_bytes").
* Values: floats in [0, 1) rounded to 2 decimals, ints 0..9, bools, words; all from random.Random(seed), in
  a fixed order, so one seed always gives one body.

Refused with UsageError (one line naming the signature, the input and why):
* a signature without inputs (TF Serving's REST API cannot call it: nothing to sample);
* coo_sparse / composite_tensor inputs: Serving feeds each input by its TensorInfo name (REST and gRPC
  Predict alike), and these have none, so no Serving request can carry them;
* dtypes the REST API cannot carry (DT_HALF, DT_BFLOAT16, DT_UINT16, complex, quantized, resource, variant,
  DT_INVALID): Serving answers UNIMPLEMENTED for them too.
"""

from __future__ import annotations

import base64
import math
import random
import struct
from collections import deque
from dataclasses import dataclass

from sigtool.errors import UsageError
from sigtool.model import FunctionGraph, MetaGraph, Node, Signature, TensorSpec
from sigtool.ops import PLACEHOLDERS, VARIABLE_OPS, called_function, input_node, is_control
from sigtool.serving.examples import encode_example
from sigtool.serving.values import Feature

__all__ = ["REST_DTYPES", "ExampleSpec", "FeatureSpec", "example_spec", "sample_request"]

# dtypes Serving's JSON codec converts (its json_tensor.cc); everything else is UNIMPLEMENTED there.
_FLOATS = frozenset({"DT_FLOAT", "DT_DOUBLE"})
_INTS = frozenset({"DT_INT8", "DT_INT16", "DT_INT32", "DT_INT64", "DT_UINT8", "DT_UINT32", "DT_UINT64"})
REST_DTYPES = _FLOATS | _INTS | {"DT_BOOL", "DT_STRING"}

_FEATURE_DTYPES = frozenset({"DT_FLOAT", "DT_INT64", "DT_STRING"})  # all a tf.Example can hold
_PARSE_OPS = frozenset({"ParseExample", "ParseExampleV2", "ParseSingleExample"})
_PASS_THROUGH = frozenset(
    {
        "Identity",
        "Reshape",
        "Squeeze",
        "ExpandDims",
        "StopGradient",
        "Snapshot",
        "PreventGradient",
        "EnsureShape",
        "CheckNumerics",
    }
)
_MAX_STEPS = 256  # bound on the graph walk from an input to its parse op (nodes visited)
_BYTES_SUFFIX = "_bytes"
_WORDS = (
    "apple",
    "river",
    "stone",
    "cloud",
    "maple",
    "tiger",
    "piano",
    "lemon",
    "ocean",
    "candle",
    "forest",
    "amber",
    "pixel",
    "comet",
    "harbor",
    "violet",
)


@dataclass(frozen=True)
class FeatureSpec:
    """One feature a parse op reads from each tf.Example."""

    key: str
    kind: str  # "dense", "sparse" or "ragged"
    dtype: str  # DT_FLOAT, DT_INT64 or DT_STRING
    shape: tuple[int, ...] | None = None  # dense only; -1 = variable length (FixedLenSequenceFeature)
    default: tuple | None = None  # dense only: the default's flat values when the graph holds them
    required: bool | None = None  # dense only: True when the default is empty; None when unknown


@dataclass(frozen=True)
class ExampleSpec:
    """The features of the parse op that an input reaches."""

    op: str  # ParseExample, ParseExampleV2 or ParseSingleExample
    node: str  # the op's node name, prefixed with "<function>/" when it lives in a function
    features: tuple[FeatureSpec, ...]  # dense in stored order, then sparse, then ragged

    def feature(self, key: str) -> FeatureSpec | None:
        return next((f for f in self.features if f.key == key), None)


# ---------------------------------------------------------------- the request body


def sample_request(
    mg: MetaGraph, signature: Signature, *, batch: int = 1, seed: int = 0, values_per_feature: int = 1
) -> dict:
    """A JSON-able TF Serving REST request body for this signature."""
    if batch < 1:
        raise UsageError(f"--batch must be at least 1, not {batch}")
    if values_per_feature < 1:
        raise UsageError(f"--values-per-feature must be at least 1, not {values_per_feature}")
    where = f"signature {signature.key!r}"
    if not signature.inputs:
        raise UsageError(
            f"cannot sample {where}: it has no inputs, so there is nothing to send "
            "(TF Serving's REST API cannot call it; run it without --sample)"
        )
    for t in signature.inputs:
        if t.encoding not in ("name", ""):
            raise UsageError(
                f"cannot sample input {t.key!r} of {where}: it is a {t.encoding} tensor, which has no "
                "tensor name, and TF Serving feeds every input by name (REST and gRPC Predict alike), so "
                "no Serving request can carry it; give a dense value with --inputs KEY=FILE.npy (sigtool "
                "feeds its non-zero entries), or export the model with dense inputs"
            )
    bad = [t for t in signature.inputs if t.dtype not in REST_DTYPES]
    if bad:
        listed = ", ".join(f"{t.key!r} ({t.dtype})" for t in bad)
        raise UsageError(
            f"cannot sample {where}: TF Serving's REST API cannot carry the dtype of input(s) {listed} "
            "(Serving answers UNIMPLEMENTED; use gRPC, or --inputs with .npy files)"
        )

    rng = _Sampler(seed, values_per_feature)
    specs = {t.key: example_spec(mg, t) if t.dtype == "DT_STRING" else None for t in signature.inputs}
    only = signature.inputs[0]
    if (
        len(signature.inputs) == 1
        and only.key == "inputs"
        and only.dtype == "DT_STRING"
        and specs["inputs"] is not None
    ):
        # what Serving's classify/regress path takes (one DT_STRING input keyed "inputs"), whatever the method
        # name says: TF2 can only write predict. Without a parse op, even classify/regress get a predict body.
        features = specs["inputs"].features
        return {"signature_name": signature.key, "examples": [_example_json(features, rng) for _ in range(batch)]}

    shapes = {t.key: _input_shape(mg, t) for t in signature.inputs}
    batched = {k: s for k, s in shapes.items() if s is not None and len(s) >= 1 and s[0] < 0}
    if len(batched) == len(shapes):  # every input's shape starts with a batch dimension
        instances = []
        for _ in range(batch):
            row = {t.key: _tensor(t, batched[t.key][1:], specs[t.key], rng) for t in signature.inputs}
            instances.append(row if len(row) > 1 else row[only.key])
        return {"signature_name": signature.key, "instances": instances}
    inputs = {}
    for t in signature.inputs:
        shape = shapes[t.key]
        dims = (
            [batch]
            if shape is None
            else [batch if d < 0 and i == 0 else 1 if d < 0 else d for i, d in enumerate(shape)]
        )
        inputs[t.key] = _tensor(t, dims, specs[t.key], rng)
    return {"signature_name": signature.key, "inputs": inputs}


def _tensor(t: TensorSpec, dims, spec: ExampleSpec | None, rng: _Sampler):
    """A nested JSON list of shape dims (a bare value when dims is empty)."""
    if not dims:
        return _value(t, spec, rng)
    if dims[0] < 0:
        dims = [1, *dims[1:]]
    return [_tensor(t, dims[1:], spec, rng) for _ in range(dims[0])]


def _value(t: TensorSpec, spec: ExampleSpec | None, rng: _Sampler):
    if spec is not None:  # a serialized tf.Example the graph parses
        example = _example_json(spec.features, rng)
        return {"b64": base64.b64encode(encode_example(_to_features(spec.features, example))).decode("ascii")}
    if t.dtype == "DT_STRING":
        word = rng.choice(_WORDS)
        return {"b64": base64.b64encode(word.encode()).decode("ascii")} if t.key.endswith(_BYTES_SUFFIX) else word
    return _scalar(t.dtype, rng)


def _scalar(dtype: str, rng: random.Random):
    if dtype in _FLOATS:
        return round(rng.random(), 2)  # always a float: json writes it with a '.'
    if dtype in _INTS:
        return rng.randrange(10)
    if dtype == "DT_BOOL":
        return rng.random() < 0.5
    return rng.choice(_WORDS)  # DT_STRING


class _Sampler(random.Random):
    """random.Random(seed) that also carries how many values a var-len feature gets."""

    def __init__(self, seed: int, values_per_feature: int):
        super().__init__(seed)
        self.values_per_feature = values_per_feature


def _example_json(features: tuple[FeatureSpec, ...], rng: _Sampler) -> dict:
    """One example as Serving's JSON: {feature: value or flat list}."""
    example = {}
    for f in features:
        if f.kind == "dense":
            scalar = f.shape is not None and len(f.shape) == 0
            count = 1 if scalar or f.shape is None else math.prod(d if d >= 0 else 1 for d in f.shape)
            default = _default_values(f, count)
            values = default if default is not None else [_scalar(f.dtype, rng) for _ in range(count)]
            example[f.key] = values[0] if scalar else values
        else:
            example[f.key] = [_scalar(f.dtype, rng) for _ in range(rng.values_per_feature)]
    return example


def _default_values(f: FeatureSpec, count: int) -> list | None:
    """The dense feature's default as JSON values, when the graph holds one of `count` values."""
    if not f.default or len(f.default) != count:
        return None
    if f.dtype == "DT_FLOAT":
        if not all(math.isfinite(v) for v in f.default):
            return None  # JSON has no NaN or Infinity literal for Serving to read
        return [_short_float32(float(v)) for v in f.default]
    if f.dtype == "DT_INT64":
        return [int(v) for v in f.default]
    return [v if isinstance(v, str) else bytes(v).decode("utf-8", "replace") for v in f.default]


def _short_float32(x: float) -> float:
    """The shortest decimal that is the same float32 (a float32 default 0.1 reads back as 0.10000000149...)."""
    try:
        target = struct.pack("<f", x)
        for digits in range(1, 10):
            shorter = float(f"{x:.{digits}g}")
            if struct.pack("<f", shorter) == target:
                return shorter
    except OverflowError:
        pass
    return x


def _to_features(features: tuple[FeatureSpec, ...], example: dict) -> dict[str, Feature]:
    out = {}
    for f in features:
        value = example[f.key]
        values = value if isinstance(value, list) else [value]
        if f.dtype == "DT_FLOAT":
            out[f.key] = Feature("float_list", tuple(float(v) for v in values))
        elif f.dtype == "DT_INT64":
            out[f.key] = Feature("int64_list", tuple(values))
        else:
            out[f.key] = Feature("bytes_list", tuple(v.encode() for v in values))
    return out


# ---------------------------------------------------------------- shapes from the graph


def _input_shape(mg: MetaGraph, t: TensorSpec) -> tuple[int, ...] | None:
    """The declared shape; for an unknown rank, what the graph's placeholder tells (None: still unknown)."""
    if t.shape_present and t.shape is not None:
        return t.shape
    graph = mg.graph
    if graph is None or not t.name:
        return None
    node = graph.node(input_node(t.name))
    if node is None or node.op not in PLACEHOLDERS:
        return None
    attr = node.attr("shape")
    if attr is not None and attr.kind == "shape" and attr.value:  # () in old graphs meant "any shape"
        return tuple(attr.value)
    return _assigned_variable_shape(graph.nodes, node.name)


_ASSIGN_REF = frozenset({"Assign", "AssignAdd", "AssignSub"})
_ASSIGN_RESOURCE = frozenset({"AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp"})


def _assigned_variable_shape(nodes: tuple[Node, ...], name: str) -> tuple[int, ...] | None:
    """The shape of a variable this placeholder's value is assigned to (or added to), when the graph knows it."""
    index = {n.name: n for n in nodes}
    for n in nodes:
        if n.op in _ASSIGN_REF | _ASSIGN_RESOURCE and len(n.inputs) > 1 and input_node(n.inputs[1]) == name:
            var = index.get(input_node(n.inputs[0]))
            shape = var.attr("shape") if var is not None and var.op in VARIABLE_OPS else None
            if shape is not None and shape.kind == "shape" and shape.value is not None:
                return tuple(shape.value)
    return None


# ---------------------------------------------------------------- finding the parse op


class _Scope:
    """The main graph or one library function: nodes by name and who consumes what."""

    def __init__(self, label: str, nodes: tuple[Node, ...], fn: FunctionGraph | None = None):
        self.label, self.fn = label, fn
        self.nodes = {n.name: n for n in nodes}
        self.consumers: dict[str, list[tuple[Node, int]]] = {}
        for n in nodes:
            for pos, ref in enumerate(n.inputs):
                if not is_control(ref):
                    self.consumers.setdefault(input_node(ref), []).append((n, pos))

    def const(self, ref: str, steps: int = 8):
        """The flat values of the Const that ref names (through Identity/Reshape), or None."""
        node = self.nodes.get(input_node(ref))
        while node is not None and node.op in _PASS_THROUGH and node.inputs and steps > 0:
            node, steps = self.nodes.get(input_node(node.inputs[0])), steps - 1
        if node is None or node.op != "Const":
            return None
        attr = node.attr("value")
        return attr.value if attr is not None and attr.kind == "tensor" else None


def example_spec(mg: MetaGraph, tensor: TensorSpec) -> ExampleSpec | None:
    """The feature spec of the parse op that `tensor` (a signature input) feeds, following it through
    Identity/Reshape-like nodes and into called functions (TF2 signatures); None when none is found."""
    graph = mg.graph
    if graph is None or not tensor.name or tensor.encoding not in ("name", ""):
        return None
    main = _Scope("", graph.nodes)
    scopes: dict[str, _Scope | None] = {"": main}  # None: no such function

    def scope_of(fname: str) -> _Scope | None:
        if fname not in scopes:
            fn = graph.function(fname)
            scopes[fname] = _Scope(fname, fn.nodes, fn) if fn is not None else None
        return scopes[fname]

    start = input_node(tensor.name)
    if start not in main.nodes:
        return None
    queue, seen, steps = deque([("", start)]), {("", start)}, 0
    while queue and steps < _MAX_STEPS:
        label, name = queue.popleft()
        scope = scopes[label]
        assert scope is not None  # only found scopes are queued
        for node, pos in scope.consumers.get(name, ()):
            steps += 1
            nxt: list[tuple[str, str]] = []
            if node.op in _PARSE_OPS and pos == 0:
                spec = _read_parse_op(scope, node)
                if spec is not None:
                    return spec
            elif node.op in _PASS_THROUGH and pos == 0:
                nxt.append((label, node.name))
            else:
                fn = called_function(node, graph)
                callee = fn.name if isinstance(fn, FunctionGraph) else ""
                inner = scope_of(callee) if callee else None
                if (
                    inner is not None
                    and inner.fn is not None  # always, for a function's scope
                    and all(not (a.number_attr or a.type_list_attr) for a in inner.fn.inputs)
                    and pos < len(inner.fn.inputs)
                ):
                    nxt.append((callee, inner.fn.inputs[pos].name))
            for item in nxt:
                if item not in seen:
                    seen.add(item)
                    queue.append(item)
    return None


def _list(node: Node, name: str) -> tuple:
    attr = node.attr(name)
    return tuple(attr.value) if attr is not None and isinstance(attr.value, tuple) else ()


def _int(node: Node, name: str) -> int:
    attr = node.attr(name)
    return attr.value if attr is not None and isinstance(attr.value, int) else 0


def _read_parse_op(scope: _Scope, node: Node) -> ExampleSpec | None:
    """Keys, dtypes, shapes and defaults from one parse op; None when a key is not a readable constant."""
    tdense, shapes = _list(node, "Tdense"), _list(node, "dense_shapes")
    sparse_types = _list(node, "sparse_types")
    ragged_types: tuple = ()
    inputs = node.inputs
    if node.op == "ParseExampleV2":
        # serialized, names, sparse_keys, dense_keys, ragged_keys, dense_defaults...
        if len(inputs) < 5 + len(tdense):
            return None
        sparse_keys, dense_keys, ragged_keys = (scope.const(inputs[i]) for i in (2, 3, 4))
        defaults = [scope.const(r) for r in inputs[5 : 5 + len(tdense)]]
        ragged_types = _list(node, "ragged_value_types")
    elif node.op == "ParseExample":
        # serialized, names, sparse_keys[Nsparse], dense_keys[Ndense], dense_defaults[Ndense]
        ns, nd = _int(node, "Nsparse"), _int(node, "Ndense")
        if len(inputs) < 2 + ns + 2 * nd:
            return None
        keys = [scope.const(r) for r in inputs[2 : 2 + ns + nd]]
        if any(k is None or len(k) != 1 for k in keys):
            return None
        sparse_keys = tuple(k[0] for k in keys[:ns])
        dense_keys = tuple(k[0] for k in keys[ns:])
        ragged_keys = ()
        defaults = [scope.const(r) for r in inputs[2 + ns + nd : 2 + ns + 2 * nd]]
    else:  # ParseSingleExample: keys are attrs; serialized, dense_defaults...
        sparse_keys, dense_keys, ragged_keys = _list(node, "sparse_keys"), _list(node, "dense_keys"), ()
        defaults = [scope.const(r) for r in inputs[1 : 1 + len(tdense)]]
    if sparse_keys is None or dense_keys is None or ragged_keys is None:
        return None
    if len(dense_keys) != len(tdense) or len(sparse_keys) != len(sparse_types) or len(ragged_keys) != len(ragged_types):
        return None
    features = []
    for i, (key, dtype) in enumerate(zip(dense_keys, tdense)):
        shape = shapes[i] if i < len(shapes) else None
        default = defaults[i] if i < len(defaults) else None
        features.append(
            FeatureSpec(
                str(key),
                "dense",
                dtype,
                None if shape is None else tuple(shape),
                default,
                None if default is None else len(default) == 0,
            )
        )
    features += [FeatureSpec(str(k), "sparse", d) for k, d in zip(sparse_keys, sparse_types)]
    features += [FeatureSpec(str(k), "ragged", d) for k, d in zip(ragged_keys, ragged_types)]
    if any(f.dtype not in _FEATURE_DTYPES for f in features):
        return None
    label = f"{scope.label}/{node.name}" if scope.label else node.name
    return ExampleSpec(node.op, label, tuple(features))
