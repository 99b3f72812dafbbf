"""tf.Example features: what a string input's ParseExample op reads, compared between two models.

The spec comes from the graph (sigtool.sample.example_spec, what `run --sample` reads), so both
MetaGraphs must have been loaded with their graphs; a metadata response has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sigtool.diff.changes import change
from sigtool.model import MetaGraph, TensorSpec, format_shape

if TYPE_CHECKING:
    from sigtool.sample import FeatureSpec


def compare_features(where: str, old_mg: MetaGraph, old_t: TensorSpec, new_mg: MetaGraph, new_t: TensorSpec):
    """Changes between the features old_t and new_t are parsed with; where is the input's place."""
    if old_mg.graph is None or new_mg.graph is None:
        return  # a metadata response has no graph: the command says the features were not compared
    from sigtool.sample import example_spec  # only when both graphs were read

    old_spec, new_spec = example_spec(old_mg, old_t), example_spec(new_mg, new_t)
    if old_spec is None and new_spec is None:
        return
    old_features = {f.key: f for f in old_spec.features} if old_spec else {}
    new_features = {f.key: f for f in new_spec.features} if new_spec else {}
    for key in sorted(old_features.keys() | new_features.keys()):
        at = f"{where}/features/{key}"
        a, b = old_features.get(key), new_features.get(key)
        if b is None:
            yield change(
                "DIFF017",
                at,
                describe(old_features[key]),
                "",
                f"tf.Example feature {key!r} is no longer parsed: old clients may still send it and rely on it",
            )
        elif a is None:
            if b.kind == "dense" and b.required:
                yield change(
                    "DIFF014",
                    at,
                    "",
                    describe(b),
                    f"new tf.Example feature {key!r} is required (no "
                    "default): examples from old clients lack it and fail to parse",
                )
            else:
                why = (
                    "its default is not a constant sigtool can read"
                    if b.kind == "dense" and b.required is None
                    else "with a default"
                    if b.kind == "dense"
                    else f"{b.kind}: may be absent"
                )
                yield change("DIFF208", at, "", describe(b), f"new tf.Example feature {key!r} ({why})")
        else:
            yield from _feature(at, key, a, b)


def _feature(at: str, key: str, a: FeatureSpec, b: FeatureSpec):
    if a.kind != b.kind or (a.kind == "dense" and a.shape != b.shape):
        yield change(
            "DIFF016",
            at,
            describe(a),
            describe(b),
            f"tf.Example feature {key!r} changed from {describe(a)} to {describe(b)}",
        )
    if a.dtype != b.dtype:
        yield change(
            "DIFF015", at, a.dtype, b.dtype, f"tf.Example feature {key!r} changed dtype from {a.dtype} to {b.dtype}"
        )
    if a.kind == b.kind == "dense":
        if a.required is False and b.required:
            yield change(
                "DIFF018",
                at,
                "default",
                "required",
                f"tf.Example feature {key!r} lost its default: examples without it now fail to parse",
            )
        elif a.required and b.required is False:
            yield change("DIFF208", at, "required", "default", f"tf.Example feature {key!r} gained a default")


def describe(f: FeatureSpec) -> str:
    """A feature as one short text: 'dense DT_FLOAT (1,) required', 'sparse DT_INT64'."""
    if f.kind != "dense":
        return f"{f.kind} {f.dtype}"
    default = " required" if f.required else " default" if f.required is False else ""
    return f"dense {f.dtype} {format_shape(f.shape)}{default}"
