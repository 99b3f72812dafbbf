"""compare(old, new): every change between two models that a Serving client could notice, classified.

Only the MetaGraph Serving loads is compared (tags exactly serve, or the tag-set asked for): its
signatures' keys, method names, inputs and outputs (dtype, shape, encoding, tensor name), Serving's
Classify/Regress checks, the tf.Example features each string input is parsed with (when both graphs were
read), the ops (when both op lists were read) and the TensorFlow version that wrote it.
"""

from __future__ import annotations

from sigtool.diff.changes import Change, change, sort_key
from sigtool.diff.features import compare_features
from sigtool.model import (
    CLASSIFY,
    DEFAULT_SIGNATURE,
    REGRESS,
    MetaGraph,
    SavedModelInfo,
    Signature,
    TensorSpec,
    format_shape,
    format_tags,
    signature_order,
)
from sigtool.serving.api import classify_problem, regress_problem

_API = {CLASSIFY: ("Classify", classify_problem), REGRESS: ("Regress", regress_problem)}


def compare(
    old: SavedModelInfo,
    new: SavedModelInfo,
    tags: tuple[str, ...] | None = None,
    *,
    variables: tuple[int | None, int | None] | None = None,
) -> list[Change]:
    """Every change from old to new in the MetaGraph Serving loads, sorted (see changes.sort_key).

    tags: the tag-set to compare (default: the one tagged exactly serve, else old's only MetaGraph).
    variables: (old, new) bytes under variables/, when known.
    """
    old_mg = pick_meta_graph(old, tags)
    label = format_tags(old_mg.tags)
    new_mg = _same_tag_set(new, old_mg.tag_set)
    if new_mg is None:
        found = "; ".join(sorted({format_tags(mg.tag_set) for mg in new.meta_graphs})) or "(none)"
        return [
            change(
                "DIFF001",
                label,
                format_tags(old_mg.tag_set),
                "",
                f"the new model has no MetaGraph tagged "
                f"{format_tags(old_mg.tag_set)!r} (its tag-sets: {found}); Serving cannot load it as before",
            )
        ]
    changes = list(_signatures(label, old_mg, new_mg))
    changes += _ops(label, old_mg, new_mg)
    changes += _tf_version(label, old_mg, new_mg)
    if variables is not None:
        changes += _variables(label, *variables)
    return sorted(set(changes), key=sort_key)


def pick_meta_graph(info: SavedModelInfo, tags: tuple[str, ...] | None) -> MetaGraph:
    """The MetaGraph to compare in the old model: sigtool's one selection policy (SavedModelInfo.pick_meta_graph)."""
    return info.pick_meta_graph(tags)


def _same_tag_set(info: SavedModelInfo, tag_set: tuple[str, ...]) -> MetaGraph | None:
    return next((mg for mg in info.meta_graphs if mg.tag_set == tag_set), None)


# ---------------------------------------------------------------- signatures


def _signatures(label: str, old_mg: MetaGraph, new_mg: MetaGraph):
    old_sigs = {s.key: s for s in old_mg.signatures}
    new_sigs = {s.key: s for s in new_mg.signatures}
    for key in sorted(old_sigs.keys() | new_sigs.keys()):
        where = f"{label}/{key}"
        old, new = old_sigs.get(key), new_sigs.get(key)
        if new is None:
            found = _internal(
                where,
                change(
                    "DIFF003" if key == DEFAULT_SIGNATURE else "DIFF002",
                    where,
                    key,
                    "",
                    f"signature {key} was removed"
                    + (": requests that name no signature fail" if key == DEFAULT_SIGNATURE else ""),
                ),
            )
            yield found
        elif old is None:
            yield _internal(where, change("DIFF202", where, "", key, f"signature {key} was added"))
        else:
            for c in _signature(where, old_mg, new_mg, old, new):
                yield _internal(where, c) if old.internal else c


def _internal(where: str, c: Change) -> Change:
    """Changes in TF's internal signatures are info at most: clients never call them."""
    if not where.split("/")[1].startswith("__"):
        return c
    return change("DIFF209", c.where, c.old, c.new, f"internal signature: {c.message}")


def _signature(where: str, old_mg: MetaGraph, new_mg: MetaGraph, old: Signature, new: Signature):
    if old.method_name != new.method_name:
        yield change(
            "DIFF004",
            where,
            old.method_name,
            new.method_name,
            f"method name changed from {old.method_name or '(none)'} to {new.method_name or '(none)'}: "
            "clients of the old Serving API fail",
        )
    yield from _tensors(where, "inputs", old.inputs, new.inputs, new.defaults)
    yield from _tensors(where, "outputs", old.outputs, new.outputs)
    api = _API.get(old.method_name)
    if api is not None:
        name, problem = api
        if problem(old, False) is None:
            now = problem(new, False)
            if now is not None:
                yield change(
                    "DIFF013", where, f"passes {name}", f"fails {name}", f"Serving's {name} API would fail: {now}"
                )
    for t in old.inputs:
        other = new.input(t.key)
        if other is not None and t.dtype == other.dtype == "DT_STRING":
            yield from compare_features(f"{where}/inputs/{t.key}", old_mg, t, new_mg, other)


_CODES = {  # io -> (removed, added, dtype, encoding)
    "inputs": ("DIFF005", "DIFF006", "DIFF007", "DIFF009"),
    "outputs": ("DIFF010", "DIFF203", "DIFF011", "DIFF012"),
}


def _tensors(
    where: str, io: str, old: tuple[TensorSpec, ...], new: tuple[TensorSpec, ...], defaults: tuple[str, ...] = ()
):
    removed_code, added_code, dtype_code, encoding_code = _CODES[io]
    noun = io[:-1]
    olds, news = {t.key: t for t in old}, {t.key: t for t in new}
    removed, added = sorted(olds.keys() - news.keys()), sorted(news.keys() - olds.keys())
    for key in removed:
        hint = f" (renamed to {added[0]!r}?)" if len(removed) == len(added) == 1 else ""
        yield change(
            removed_code,
            f"{where}/{io}/{key}",
            key,
            "",
            f"{noun} {key!r} was removed{hint}"
            + (": old requests send it and fail" if io == "inputs" else ": old clients read it"),
        )
    for key in added:
        t = news[key]
        text = f"{t.dtype} {format_shape(t.shape)}"
        if io == "inputs" and key in defaults:
            yield change(
                "DIFF210",
                f"{where}/{io}/{key}",
                "",
                text,
                f"new input {key!r} ({text}) has a default: old requests still work",
            )
            continue
        message = (
            f"new input {key!r} ({text}) has no default: old requests lack it"
            if io == "inputs"
            else f"output {key!r} ({text}) was added"
        )
        yield change(added_code, f"{where}/{io}/{key}", "", text, message)
    for key in sorted(olds.keys() & news.keys()):
        a, b = olds[key], news[key]
        at = f"{where}/{io}/{key}"
        if a.encoding != b.encoding or _composite(a) != _composite(b):
            yield change(
                encoding_code,
                at,
                _encoding(a),
                _encoding(b),
                f"{noun} {key!r} changed encoding from {_encoding(a)} to {_encoding(b)}",
            )
            continue
        if a.dtype != b.dtype:
            yield change(dtype_code, at, a.dtype, b.dtype, f"{noun} {key!r} changed dtype from {a.dtype} to {b.dtype}")
        shape = _shape_change(io, key, a, b)
        if shape is not None:
            code, message = shape
            yield change(code, at, format_shape(_shape(a)), format_shape(_shape(b)), message)
        if _names(a) != _names(b):
            yield change(
                "DIFF201",
                at,
                _names(a),
                _names(b),
                f"{noun} {key!r} now names tensor {_names(b)} instead of {_names(a)}",
            )


def _encoding(t: TensorSpec) -> str:
    if t.composite is not None:
        return f"composite_tensor ({t.composite.type_spec_class_name or t.composite.type_spec_class})"
    return t.encoding or "(none)"


def _composite(t: TensorSpec):
    """A composite spec without its component tensor names (those are DIFF201's)."""
    if t.composite is None:
        return None
    parts = tuple((c.dtype, _shape(c)) for c in t.composite.components)
    return (t.composite.type_spec_class, t.composite.type_spec_class_name, t.composite.num_flat_components, parts)


def _names(t: TensorSpec) -> str:
    if t.sparse is not None:
        return f"{t.sparse.values}, {t.sparse.indices}, {t.sparse.dense_shape}"
    if t.composite is not None:
        return ", ".join(c.name for c in t.composite.components)
    return t.name


def _shape(t: TensorSpec) -> tuple[int, ...] | None:
    """A TensorInfo without a shape reads as a scalar, as TensorFlow reads it."""
    return t.shape if t.shape_present or t.shape is None else ()


def relation(old: tuple[int, ...] | None, new: tuple[int, ...] | None) -> str:
    """How new's shape relates to old's: same, wider (accepts more), narrower (accepts less), or changed
    (a fixed size or the rank differs, or some dims widen while others narrow)."""
    if old == new:
        return "same"
    if new is None:
        return "wider"
    if old is None:
        return "narrower"
    if len(old) != len(new):
        return "changed"
    kinds = set()
    for a, b in zip(old, new):
        if a == b or (a < 0 and b < 0):
            continue
        kinds.add("wider" if b < 0 else "narrower" if a < 0 else "changed")
    if not kinds:
        return "same"
    return kinds.pop() if len(kinds) == 1 else "changed"


def _shape_change(io: str, key: str, a: TensorSpec, b: TensorSpec) -> tuple[str, str] | None:
    old, new = _shape(a), _shape(b)
    how = relation(old, new)
    if how == "same":
        return None
    shapes = f"{format_shape(old)} -> {format_shape(new)}"
    if io == "inputs":
        if how == "wider":
            return "DIFF204", f"input {key!r} accepts more shapes: {shapes}"
        what = (
            "rank changed"
            if how == "changed" and _rank_changed(old, new)
            else ("a fixed size changed" if how == "changed" else "narrowed")
        )
        return "DIFF008", f"input {key!r} shape {what}: {shapes}; old requests may not fit"
    if how == "wider":
        return "DIFF101", f"output {key!r} shape widened: {shapes}; clients relying on the fixed size may break"
    if how == "narrower":
        return "DIFF205", f"output {key!r} shape narrowed: {shapes}"
    return "DIFF102", f"output {key!r} shape changed: {shapes}"


def _rank_changed(old, new) -> bool:
    return old is None or new is None or len(old) != len(new)


# ---------------------------------------------------------------- ops, TF version, variables


def _ops(label: str, old_mg: MetaGraph, new_mg: MetaGraph):
    if old_mg.ops is None or new_mg.ops is None:
        return []
    added = sorted(set(new_mg.ops) - set(old_mg.ops))
    if not added:
        return []
    from sigtool.checks.op_support import OpDataError, op_data  # the op data: read only when there are new ops

    try:
        data = op_data()
    except OpDataError:
        return []

    def first(op: str) -> int | None:
        row = data.ops.get(op)
        return next((i for i, c in enumerate(row) if c != "-"), None) if row else None

    old_need = max((i for i in map(first, old_mg.ops) if i is not None), default=0)
    found = []
    for op in added:
        at = first(op)
        if at is not None and at > old_need:
            old_text, new_text = f"TF >= {data.releases[old_need]}", f"TF >= {data.releases[at]}"
            found.append(
                change(
                    "DIFF103",
                    label,
                    old_text,
                    new_text,
                    f"new op {op} first appears in TensorFlow {data.releases[at]}; the old model's ops "
                    f"run on TensorFlow {data.releases[old_need]}: older Serving refuses the new model",
                )
            )
    return found


def _major_minor(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]), int(parts[1])


def _tf_version(label: str, old_mg: MetaGraph, new_mg: MetaGraph):
    a, b = old_mg.tensorflow_version, new_mg.tensorflow_version
    if not a or not b or a == b:
        return []
    old_mm, new_mm = _major_minor(a), _major_minor(b)
    if old_mm is not None and new_mm is not None and new_mm > old_mm:
        return [
            change(
                "DIFF104",
                label,
                a,
                b,
                f"written by TensorFlow {b}, the old model by {a}: a Serving "
                f"older than {new_mm[0]}.{new_mm[1]} may refuse it",
            )
        ]
    return [change("DIFF206", label, a, b, f"written by TensorFlow {b}, the old model by {a}")]


def _variables(label: str, old: int | None, new: int | None):
    if old is None or new is None or old == new:
        return []
    return [
        change(
            "DIFF207",
            label,
            f"{old:,} bytes",
            f"{new:,} bytes",
            f"variables/ holds {new:,} bytes, {'more' if new > old else 'less'} than the old model's {old:,}",
        )
    ]


def compared_signatures(
    old: SavedModelInfo, new: SavedModelInfo, tags: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    """The signature keys compare() looks at (old's and new's), serving_default first."""
    old_mg = pick_meta_graph(old, tags)
    new_mg = _same_tag_set(new, old_mg.tag_set)
    keys = {s.key for s in old_mg.signatures} | ({s.key for s in new_mg.signatures} if new_mg else set())
    return tuple(sorted(keys, key=signature_order))


def string_inputs(info: SavedModelInfo, tags: tuple[str, ...] | None = None) -> bool:
    """Whether a signature clients call has a DT_STRING input (maybe serialized tf.Examples: a graph is needed)."""
    mg = pick_meta_graph(info, tags)
    return any(t.dtype == "DT_STRING" for s in mg.signatures if not s.internal for t in s.inputs)
