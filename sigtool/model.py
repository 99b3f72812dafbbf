"""Plain, frozen data describing a SavedModel: what every command works on.

No protobuf, click or rich here. The loader builds these objects, sorted once,
so that rendering and checks can trust the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from sigtool.errors import UsageError

DEFAULT_SIGNATURE = "serving_default"
SERVE_TAG = "serve"

PREDICT = "tensorflow/serving/predict"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"


@dataclass(frozen=True)
class SparseNames:
    """The three tensors of a coo_sparse TensorInfo."""

    values: str
    indices: str
    dense_shape: str


@dataclass(frozen=True)
class CompositeSpec:
    """A composite_tensor TensorInfo (RaggedTensor, SparseTensor, ...): its type spec and flat components."""

    type_spec_class: str  # TypeSpecProto enum name, e.g. "RAGGED_TENSOR_SPEC"
    type_spec_class_name: str  # Python class name recorded by TF, e.g. "RaggedTensorSpec"
    num_flat_components: int
    components: tuple[TensorSpec, ...]


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a signature (a TensorInfo)."""

    key: str  # the signature's key for it, e.g. "x"
    dtype: str  # DataType enum name, e.g. "DT_FLOAT"; "DT_INVALID" when unset
    shape: tuple[int, ...] | None  # None = unknown rank; -1 = unknown dim; () = scalar
    shape_present: bool  # False: TensorInfo has no tensor_shape (TF reads that as a scalar)
    encoding: str  # "name", "coo_sparse", "composite_tensor", or "" when none is set
    name: str = ""  # graph tensor "node:index" (encoding "name")
    sparse: SparseNames | None = None
    composite: CompositeSpec | None = None
    dim_names: tuple[str, ...] = ()  # only when some dimension is named


@dataclass(frozen=True)
class Signature:
    key: str
    method_name: str
    inputs: tuple[TensorSpec, ...]  # sorted by key
    outputs: tuple[TensorSpec, ...]  # sorted by key
    defaults: tuple[str, ...] = ()  # sorted input keys that have a default value (SignatureDef.defaults, TF2)

    @property
    def internal(self) -> bool:
        """TF's own bookkeeping entries such as __saved_model_init_op."""
        return self.key.startswith("__")

    def input(self, key: str) -> TensorSpec | None:
        return next((t for t in self.inputs if t.key == key), None)


@dataclass(frozen=True)
class StructValue:
    """A value from a TF2 function signature (TF's StructuredValue) in plain form.

    kind is one of: none, bool, int, float, str, bytes, list, tuple, dict,
    named_tuple, tensor_spec, bounded_tensor_spec, type_spec, unsupported.
    """

    kind: str
    scalar: bool | int | float | str | None = None  # none/bool/int/float/str/bytes(hex)
    items: tuple[StructValue, ...] = ()  # list/tuple/dict/named_tuple values, in stored order
    keys: tuple[str, ...] = ()  # dict keys / named_tuple fields, parallel to items
    name: str | None = None  # tensor spec name; named_tuple / type spec class name
    shape: tuple[int, ...] | None = None  # tensor spec shape; None = unknown rank
    dtype: str = ""  # tensor spec dtype, DataType enum name


@dataclass(frozen=True)
class ConcreteFunction:
    name: str  # TF's internal name, e.g. "__inference_predict_123"
    args: tuple[StructValue, ...]  # positional arguments
    kwargs: StructValue | None  # a dict, or None
    # Where tf.saved_model.load creates it: its position in the loader's topological sort of the function
    # library (-1: not known). saved_model_cli lists a function's concrete functions by the names that gives.
    load_order: int = -1


@dataclass(frozen=True)
class Function:
    """A tf.function attached to the root object of a TF2 SavedModel."""

    name: str  # attribute name on the root object
    concrete_functions: tuple[ConcreteFunction, ...]  # sorted by name


@dataclass(frozen=True)
class Attr:
    """A node attribute in plain form. Large tensors keep only their dtype and size.

    kind: type, int, float, bool, str, shape, func, tensor, placeholder, or
    list_<kind> (value is then a tuple); "" for an empty value.
    """

    kind: str
    # type/func/str: a name or text; list_*: a tuple; tensor: its flat values when small, else None (Any: by kind)
    value: Any = None
    dtype: str = ""  # tensor attrs: the tensor's dtype
    size: int = 0  # tensor attrs: bytes of tensor content (not decoded)


@dataclass(frozen=True)
class Node:
    name: str
    op: str
    inputs: tuple[str, ...] = ()  # as written: "x", "x:1", "^ctrl"; inside functions "n:out:0" or "arg"
    device: str = ""
    attrs: tuple[tuple[str, Attr], ...] = ()  # sorted by name

    def attr(self, name: str) -> Attr | None:
        return next((a for k, a in self.attrs if k == name), None)

    @property
    def calls(self) -> tuple[str, ...]:
        """Functions this node runs: its op itself may be one, or attrs such as f/then_branch/body name them."""
        found = [a.value for _, a in self.attrs if a.kind == "func"]
        found += [v for _, a in self.attrs if a.kind == "list_func" for v in a.value]
        return tuple(found)


@dataclass(frozen=True)
class Arg:
    name: str
    dtype: str  # DataType name, or "" when set through an attr
    type_attr: str = ""  # e.g. "T" (the dtype then comes from the function's instantiation)
    number_attr: str = ""
    type_list_attr: str = ""


@dataclass(frozen=True)
class FunctionGraph:
    """A function of the graph's library (FunctionDef)."""

    name: str
    inputs: tuple[Arg, ...]
    outputs: tuple[Arg, ...]
    nodes: tuple[Node, ...]
    ret: tuple[tuple[str, str], ...]  # output arg name -> "node:out_arg:index" or an input arg name
    stateful: bool = False


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    functions: tuple[FunctionGraph, ...]

    def node(self, name: str) -> Node | None:
        return self._nodes.get(name)

    def function(self, name: str) -> FunctionGraph | None:
        return self._functions.get(name)

    @cached_property
    def _nodes(self) -> dict[str, Node]:
        return {n.name: n for n in self.nodes}

    @cached_property
    def _functions(self) -> dict[str, FunctionGraph]:
        return {f.name: f for f in self.functions}


@dataclass(frozen=True)
class AssetFile:
    tensor_name: str
    filename: str


@dataclass(frozen=True)
class MetaGraph:
    tags: tuple[str, ...]  # in stored order; compare as sets (tag_set)
    signatures: tuple[Signature, ...]  # serving_default first, then by key
    tensorflow_version: str = ""
    tensorflow_git_version: str = ""
    stripped_default_attrs: bool = False
    has_object_graph: bool = False  # written by TF2 (tf.saved_model.save)
    asset_files: tuple[AssetFile, ...] = ()
    ops: tuple[str, ...] | None = None  # sorted; None when not read
    functions: tuple[Function, ...] | None = None  # sorted; None when not read or TF1
    graph: Graph | None = None  # nodes and function library; None when not read
    collection_keys: tuple[str, ...] = ()  # sorted
    has_saver: bool = False

    @property
    def tag_set(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.tags)))

    def signature(self, key: str) -> Signature:
        for sig in self.signatures:
            if sig.key == key:
                return sig
        keys = valid_choices("keys", (s.key for s in self.signatures))
        raise UsageError(f"signature {key!r} not found in tag-set {format_tags(self.tags)!r}; {keys}")


@dataclass(frozen=True)
class WarmupRecord:
    index: int  # 0-based position in the file
    log_type: str  # "predict_log", "classify_log", ...; "" when unset
    signature_name: str  # as the request names it ("" = serving_default)
    input_keys: tuple[str, ...] = ()  # predict requests: the inputs map's keys, sorted


@dataclass(frozen=True)
class WarmupFile:
    path: str  # relative to the model directory
    records: tuple[WarmupRecord, ...]
    error: str = ""  # why reading stopped early (framing, CRC, or a record that does not parse)
    more_than_limit: bool = False  # the file holds over 1000 records (only the first 1001 are read)


@dataclass(frozen=True)
class ModelFiles:
    """What lies beside the SavedModel file: variables, assets, Serving's extras."""

    variables: tuple[str, ...] | None  # names in variables/, sorted; None when the directory is missing
    assets: tuple[str, ...]  # paths under assets/, sorted
    assets_extra: tuple[str, ...]  # paths under assets.extra/, sorted
    warmup: WarmupFile | None = None


@dataclass(frozen=True)
class SavedModelInfo:
    path: str  # what the user typed, never made absolute
    source: str  # the file that was read, relative to the current directory when possible
    format: str  # "saved_model_pb", "saved_model_pbtxt" or "session_bundle"
    schema_version: int
    meta_graphs: tuple[MetaGraph, ...]  # in stored order
    version: str | None = None  # the version directory used, when path is a model base path
    other_versions: tuple[str, ...] = ()
    files: ModelFiles | None = None  # read for check
    notes: tuple[str, ...] = field(default=(), compare=False)  # diagnostics for stderr
    # Paths of string fields that are not valid UTF-8 (shown with replacement characters). TensorFlow and
    # Serving refuse such a file. show finds them in what it decodes; check reads every string field.
    invalid_utf8: tuple[str, ...] = ()

    @property
    def legacy(self) -> bool:
        return self.format == "session_bundle"

    @property
    def served_meta_graph(self) -> MetaGraph | None:
        """The MetaGraph TF Serving loads by default: tags exactly {serve}."""
        return next((mg for mg in self.meta_graphs if set(mg.tags) == {SERVE_TAG}), None)

    def meta_graph(self, tags: tuple[str, ...] | list[str]) -> MetaGraph:
        """The MetaGraph whose tags equal `tags` as a set (the first one, as TF picks)."""
        wanted = set(tags)
        for mg in self.meta_graphs:
            if set(mg.tags) == wanted:
                return mg
        raise UsageError(
            f"no MetaGraph with tag-set {format_tags(tuple(tags))!r}; "  # as typed
            + valid_choices("tag-sets", self.tag_sets, "; ")
        )

    @property
    def tag_sets(self) -> tuple[str, ...]:
        """Every tag-set of the model as users type it, sorted and unique."""
        return tuple(sorted({format_tags(mg.tag_set) for mg in self.meta_graphs}))

    def pick_meta_graph(self, tags: tuple[str, ...] | None = None) -> MetaGraph:
        """The one MetaGraph-selection policy (show --signature, run, diff): the tag-set asked for, else
        the one Serving loads by default (tagged exactly serve), else the only one."""
        if tags is not None:
            return self.meta_graph(tags)
        if self.served_meta_graph is not None:
            return self.served_meta_graph
        if len(self.meta_graphs) == 1:
            return self.meta_graphs[0]
        raise UsageError(
            f"no MetaGraph is tagged 'serve'; pass --tag-set ({valid_choices('tag-sets', self.tag_sets, '; ')})"
        )

    def select(self, tags: tuple[str, ...] | None = None, signature: str | None = None) -> SavedModelInfo:
        """A copy narrowed to one tag-set and/or one signature key (--signature alone: pick_meta_graph's)."""
        meta_graphs = self.meta_graphs
        if tags is not None or signature is not None:
            meta_graphs = (self.pick_meta_graph(tags),)
        if signature is not None:
            mg = meta_graphs[0]
            meta_graphs = (replace(mg, signatures=(mg.signature(signature),)),)
        return replace(self, meta_graphs=meta_graphs)


def format_tags(tags) -> str:
    """A tag-set as users type it: serve,gpu; an empty one says so."""
    return ",".join(tags) if tags else "(no tags)"


def format_shape(shape: tuple[int, ...] | None) -> str:
    """sigtool's one shape notation for people: (?, 1), (3,), () for a scalar, "unknown rank"."""
    if shape is None:
        return "unknown rank"
    dims = ", ".join("?" if d < 0 else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def valid_choices(noun: str, choices, separator: str = ", ") -> str:
    """The one wording for what a user may pick instead: "valid keys: a, b" (sorted, unique).

    Tag-sets hold commas, so they are listed with separator "; ".
    """
    values = sorted(set(choices))
    return f"valid {noun}: {separator.join(values) if values else '(none)'}"


def signature_order(key: str) -> tuple[int, str]:
    """serving_default first, TF's internal entries last, the rest by key."""
    return (0 if key == DEFAULT_SIGNATURE else 2 if key.startswith("__") else 1, key)
