"""Ops TensorFlow may not run: removed ops, custom-op libraries, ops newer than an old Serving.

The facts come from sigtool/data/tf_ops.json (tools/gen_registered_ops.py):
for each TensorFlow release installed when it was generated, which ops are
registered and which have a CPU kernel, plus the ops tensorflow-text
registers. It is read on first use, so only `check` (and `run`'s error
hints) pay for it, never `show`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sigtool.checks.registry import Severity, rule
from sigtool.model import format_tags

DATA = Path(__file__).resolve().parents[1] / "data" / "tf_ops.json"

# Custom-op libraries known by their op names. tensorflow-text's own list comes from the data file
# (its newer ops are namespaced "TFText>"). tensorflow_model_server links tensorflow-text and the
# TF Decision Forests inference ops (SUPPORTED_TENSORFLOW_OPS in Serving's model_servers/BUILD);
# the others need a custom Serving build.
_LIBRARY_PREFIXES = (
    ("TFText>", "tensorflow-text"),
    ("SimpleML", "tensorflow-decision-forests"),
    ("IO>", "tensorflow-io"),
    ("Addons>", "tensorflow-addons"),
    ("Sentencepiece", "sentencepiece (tf_sentencepiece)"),
)
SERVING_LINKS = frozenset({"tensorflow-text", "tensorflow-decision-forests"})
_IMPORT = {
    "tensorflow-text": "import tensorflow_text",
    "tensorflow-decision-forests": "import tensorflow_decision_forests",
    "tensorflow-io": "import tensorflow_io",
    "tensorflow-addons": "import tensorflow_addons",
    "sentencepiece (tf_sentencepiece)": "import tf_sentencepiece",
}


# Ops without a CPU kernel in the tensorflow-cpu wheels that are not broken: GPU or TPU/XLA kernels
# only (a GPU/TPU build runs them, and TF swaps CudnnRNN functions for CPU ones), or replaced by a graph
# pass before anything runs (AccumulateNV2, _Mkl*, _FusedBatchNormGradEx).
_DEVICE_ONLY = re.compile(
    r"Cudnn|Nccl|TPU|Tpu|^_?Xla|DTensor|^Infeed|^Outfeed|^Prelinearize|SparseCore|Dedup|Minibatch"
    r"|^(CollectivePermute|CrossReplicaSum|AllToAll|Relayout|RelayoutLike|CopyToMesh|CopyToMeshGrad"
    r"|GlobalIterId|UpdateTaskIdAndGlobalCoreArray|ConvertToCooTensor|TopKUnique|TopKWithUnique|MakeUnique"
    r"|KthOrderStatistic|Segment(Sum|Prod|Max|Min)V2|SparseMatrix(Add|Mul|Softmax|SoftmaxGrad|Zeros)"
    r"|MaxPoolGradGradWithArgmax|GenerateBoundingBoxProposals|CTCLossV2|Conv2DBackprop(Filter|Input)V2"
    r"|I?R?FFTND|AccumulateNV2|_Mkl\w*|_FusedBatchNormGradEx|MlirPassthroughOp)$"
)


def device_only(op: str) -> bool:
    """Ops the CPU wheels lack kernels for on purpose (GPU/TPU ops, ops a graph pass replaces)."""
    return bool(_DEVICE_ONLY.search(op))


@dataclass(frozen=True)
class OpData:
    releases: tuple[str, ...]  # oldest first
    ops: dict  # op -> one character per release: "k" kernel, "r" registered without a CPU kernel, "-" absent
    libraries: dict  # library -> frozenset of op names
    library_versions: dict  # library -> the version its list came from


class OpDataError(Exception):
    """The op data file is missing or unreadable (a broken install)."""


@lru_cache(maxsize=1)
def op_data() -> OpData:
    try:
        raw = json.loads(DATA.read_text(encoding="utf-8"))
        libraries = {name: frozenset(lib["ops"]) for name, lib in raw["libraries"].items()}
        versions = {name: lib["version"] for name, lib in raw["libraries"].items()}
        data = OpData(tuple(raw["releases"]), dict(raw["ops"]), libraries, versions)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise OpDataError(f"sigtool's op data {DATA} cannot be read ({type(e).__name__}: {e})") from None
    if not data.releases or any(len(row) != len(data.releases) for row in data.ops.values()):
        raise OpDataError(f"sigtool's op data {DATA} is malformed")
    return data


@dataclass(frozen=True)
class OpProblem:
    op: str
    kind: str  # "removed", "no_kernel", "library", "served_library", "unknown", "newer"
    reason: str
    library: str = ""


def library_of(op: str, data: OpData | None = None) -> str:
    """The custom-op library an op comes from, by the data's lists and known name patterns; "" if none."""
    data = data or op_data()
    for name, ops in data.libraries.items():
        if op in ops:
            return name
    for prefix, name in _LIBRARY_PREFIXES:
        if op.startswith(prefix):
            return name
    return ""


def _release_key(version: str) -> tuple[int, ...]:
    parts = []
    for p in version.split(".")[:3]:
        digits = "".join(c for c in p if c.isdigit()) or "0"  # "0-rc1" -> 0
        parts.append(int(digits))
    return tuple(parts)


def release_index(data: OpData, tf_version: str | None) -> int:
    """The column to judge against: tf_version's release, else the newest one not newer than it."""
    if not tf_version:
        return len(data.releases) - 1
    if tf_version in data.releases:
        return data.releases.index(tf_version)
    want = _release_key(tf_version)
    older = [i for i, r in enumerate(data.releases) if _release_key(r) <= want]
    return older[-1] if older else 0


def classify(op: str, tf_version: str | None = None, writer: str = "", data: OpData | None = None) -> OpProblem | None:
    """Why TensorFlow `tf_version` (default: the newest release in the data) cannot run op; None if it can.

    writer: the TensorFlow version that wrote the model, for ops newer than every release in the data.
    Ops without a CPU kernel that are GPU/TPU ops or replaced by a graph pass (device_only) are not
    judged: a GPU or TPU build runs them, and TF swaps CudnnRNN functions for CPU ones.
    """
    data = data or op_data()
    at = release_index(data, tf_version)
    release = data.releases[at]
    row = data.ops.get(op)
    if row is not None and row[at] == "k":
        return None
    library = library_of(op, data)
    if library and (row is None or row[at] == "-"):
        how = _IMPORT.get(library, "")
        load = f"TensorFlow needs `{how}` before loading it" if how else "TensorFlow needs that library loaded"
        if library in SERVING_LINKS:
            return OpProblem(
                op,
                "served_library",
                (
                    f"op {op} comes from {library}: the standard tensorflow_model_server links it, but {load} "
                    f"(sigtool run, saved_model_cli)"
                ),
                library,
            )
        return OpProblem(
            op, "library", (f"op {op} comes from {library}: Serving needs a build with {library}, and {load}"), library
        )
    if row is None:
        span = f"{data.releases[0]} to {data.releases[-1]}" if len(data.releases) > 1 else data.releases[0]
        if writer and _release_key(writer) > _release_key(data.releases[-1]):
            return OpProblem(
                op,
                "newer",
                (
                    f"op {op} is not in TensorFlow {data.releases[-1]}; the model was written by TensorFlow {writer}: "
                    f"needs TF >= {writer}, or it is a custom op"
                ),
            )
        return OpProblem(
            op,
            "unknown",
            (
                f"op {op} is registered by no TensorFlow from {span}: a custom op (Serving needs a build with the "
                f"library that defines it) or one removed before {data.releases[0]}"
            ),
        )
    if row[at] == "-":
        later = [i for i in range(at + 1, len(row)) if row[i] != "-"]
        if later:
            first = data.releases[later[0]]
            return OpProblem(op, "newer", f"op {op} is not in TensorFlow {release}: needs TF >= {first}")
        last = max(i for i in range(at) if row[i] != "-")
        removed = data.releases[last + 1]
        return OpProblem(
            op,
            "removed",
            (
                f"op {op} was removed in TF {removed} ({data.releases[last]} still has it): TensorFlow and Serving "
                f"{release} refuse the model ('Op type not registered'); serve it with TF <= {data.releases[last]} "
                f"or re-export without it"
            ),
        )
    # Registered, but no CPU kernel here.
    had = [i for i in range(len(row)) if row[i] == "k"]
    if not had:
        if device_only(op):
            return None
        span = f"{data.releases[0]} to {data.releases[-1]}" if len(data.releases) > 1 else data.releases[0]
        return OpProblem(
            op,
            "no_kernel",
            (
                f"op {op} has no CPU kernel in any TensorFlow from {span} (the op is still registered): every run "
                f"fails with 'No OpKernel was registered to support Op'; re-export the model without it"
            ),
        )
    before = [i for i in had if i < at]
    if before:
        last = before[-1]
        removed = data.releases[min(i for i in range(last + 1, len(row)) if row[i] != "k")]
        return OpProblem(
            op,
            "removed",
            (
                f"op {op} lost its CPU kernel in TF {removed} ({data.releases[last]} still has it): every run on "
                f"TensorFlow or Serving {release} fails with 'No OpKernel was registered to support Op'; serve it "
                f"with TF <= {data.releases[last]} or re-export without it"
            ),
        )
    first = data.releases[had[0]]
    return OpProblem(op, "newer", f"op {op} has no CPU kernel in TensorFlow {release}: needs TF >= {first}")


def graph_ops(meta_graph) -> dict[str, list[str]]:
    """{op: [places]} for every op in the graph and its function library; calls of library functions
    by name are not ops."""
    graph = meta_graph.graph
    found: dict[str, list[str]] = {}
    if graph is None:
        return found
    functions = {f.name for f in graph.functions}
    for node in graph.nodes:
        if node.op not in functions:
            found.setdefault(node.op, []).append(node.name)
    for fn in graph.functions:
        for node in fn.nodes:
            if node.op not in functions:
                found.setdefault(node.op, []).append(f"{fn.name}/{node.name}")
    return found


def unregistered_ops(meta_graph, tf_version: str | None = None) -> list[tuple[str, str]]:
    """(op, reason) for every op of the MetaGraph that TensorFlow tf_version cannot run, sorted by op.

    tf_version: the TensorFlow that will run it (e.g. tf.__version__); None means the newest release in
    the data. A version between two known releases is judged by the older one. Ops from libraries
    (tensorflow-text) are included: plain TensorFlow needs the library imported. Without the op data
    (a broken install) the list is empty.
    """
    try:
        data = op_data()
    except OpDataError:
        return []
    problems = []
    for op in sorted(graph_ops(meta_graph)):
        p = classify(op, tf_version, meta_graph.tensorflow_version, data)
        if p is not None:
            problems.append((op, p.reason))
    return problems


def _places(places: list[str]) -> str:
    shown = sorted(places)
    return ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")


def _problems(info, kinds, data: OpData):
    for mg in info.meta_graphs:
        for op, places in sorted(graph_ops(mg).items()):
            p = classify(op, None, mg.tensorflow_version, data)
            if p is not None and p.kind in kinds:
                yield mg, p, places


@rule("OPS001", Severity.ERROR)
def ops_registered(ctx):
    """Every op, in the graph or any library function, is one that current TensorFlow and Serving can run.

    TF and Serving refuse a graph with an op they do not register ("Op type
    not registered") and fail every run of an op without a kernel ("No
    OpKernel was registered"). The rule judges against the newest TensorFlow
    release in sigtool's op data (tools/gen_registered_ops.py), says when an
    op was removed, and names custom-op libraries (tensorflow-io,
    tensorflow-addons, sentencepiece, unknown ones) that Serving must be built
    with. GPU/TPU-only ops are not judged.
    """
    try:
        data = op_data()
    except OpDataError as e:
        yield "", f"{e}: the op rules did not run; reinstall sigtool"
        return
    for mg, p, places in _problems(ctx.info, ("removed", "no_kernel", "library", "unknown", "newer"), data):
        yield format_tags(mg.tags), f"{p.reason} (at {_places(places)})"


@rule("OPS002", Severity.INFO)
def ops_from_served_libraries(ctx):
    """Ops from tensorflow-text or TF Decision Forests: stock Serving runs them, TensorFlow alone does not.

    tensorflow_model_server links these libraries, so Serving loads the
    model; saved_model_cli, `sigtool run` and plain TensorFlow Python need the
    library imported first, or they fail with "Op type not registered".
    """
    try:
        data = op_data()
    except OpDataError:
        return  # OPS001 reports it
    for mg, p, places in _problems(ctx.info, ("served_library",), data):
        yield format_tags(mg.tags), f"{p.reason} (at {_places(places)})"


@rule("OPS003", Severity.INFO)
def ops_need_recent_tensorflow(ctx):
    """Ops that the oldest TensorFlow release in sigtool's op data does not run: older Serving refuses them.

    Serving must be at least as new as the ops the model uses. This names
    each op that the oldest release in the data lacks, and the first release
    known to run it.
    """
    try:
        data = op_data()
    except OpDataError:
        return  # OPS001 reports it
    oldest = data.releases[0]
    for mg in ctx.info.meta_graphs:
        needs = {}
        for op, places in graph_ops(mg).items():
            if classify(op, None, mg.tensorflow_version, data) is not None:
                continue  # OPS001/OPS002 report it
            p = classify(op, oldest, mg.tensorflow_version, data)
            if p is not None and p.kind == "newer":
                needs[op] = (p, places)
        for _op, (p, places) in sorted(needs.items()):
            yield format_tags(mg.tags), f"{p.reason} (at {_places(places)})"
