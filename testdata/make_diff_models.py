#!/usr/bin/env python3
"""Build the model pairs `sigtool diff` is tested on into testdata/diff/<case>/{old,new}/ (needs TensorFlow).

One pair per kind of change (issue 11), each a tiny TF1 graph without variables written by
tf.compat.v1.saved_model.Builder: TensorFlow writes the same bytes every time except fingerprint.pb,
so tests/test_diff_models.py rebuilds them, compares bytes, and diffs the rebuilt pairs.

    python testdata/make_diff_models.py              # rewrite testdata/diff/ in place
    python testdata/make_diff_models.py --out DIR    # write DIR/<case>/{old,new}/ instead

Every model has a serving_default predict signature x (float32 [?, 1]) -> y (float32 [?, 1]) unless its
case changes it; CASES below says what each pair changes, and the change sigtool must report.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONHASHSEED", "0")

import tensorflow as tf

tf1 = tf.compat.v1
HERE = Path(__file__).resolve().parent
PREDICT, CLASSIFY, REGRESS = "tensorflow/serving/predict", "tensorflow/serving/classify", "tensorflow/serving/regress"
F32, F64, I64, STR = tf.float32, tf.float64, tf.int64, tf.string


@dataclass(frozen=True)
class Feature:
    dtype: object
    shape: tuple = (1,)
    default: object = None  # None: required (FixedLenFeature without default)
    kind: str = "dense"  # or "sparse" (VarLenFeature)


@dataclass(frozen=True)
class Sig:
    method: str = PREDICT
    inputs: dict = field(default_factory=lambda: {"x": (F32, (None, 1))})
    outputs: dict = field(default_factory=lambda: {"y": (F32, (None, 1))})
    features: dict | None = None  # then one input "inputs" (serialized tf.Examples) parsed with these


@dataclass(frozen=True)
class Model:
    signatures: dict
    tags: tuple = ("serve",)
    prefix: str = ""  # prepended to every node name: changes tensor names only


BASE = Model({"serving_default": Sig()})
EXAMPLE = Sig(
    REGRESS,
    inputs={},
    outputs={"outputs": (F32, (None, 1))},
    features={"a": Feature(F32, (1,), default=0.0), "b": Feature(F32, (1,), default=0.0)},
)
EXAMPLE_MODEL = Model({"serving_default": Sig(), "regress": EXAMPLE})


def _sig(**changes) -> Sig:
    return replace(Sig(), **changes)


def _example(**features) -> Model:
    merged = {k: v for k, v in {**EXAMPLE.features, **features}.items() if v is not None}
    return Model({"serving_default": Sig(), "regress": replace(EXAMPLE, features=merged)})


# case -> (old, new, the expected change code); the tests read the expectations from their own table.
CASES = {
    "identical": (BASE, BASE),
    "tensor_names": (BASE, replace(BASE, prefix="v2_")),
    "signature_removed": (Model({"serving_default": Sig(), "extra": Sig()}), BASE),
    "serving_default_removed": (Model({"serving_default": Sig(), "extra": Sig()}), Model({"extra": Sig()})),
    "input_renamed": (BASE, Model({"serving_default": _sig(inputs={"x_new": (F32, (None, 1))})})),
    "input_added": (BASE, Model({"serving_default": _sig(inputs={"x": (F32, (None, 1)), "z": (F32, (None, 1))})})),
    "input_dtype": (BASE, Model({"serving_default": _sig(inputs={"x": (F64, (None, 1))})})),
    "input_free_dim_fixed": (BASE, Model({"serving_default": _sig(inputs={"x": (F32, (8, 1))})})),
    "input_size_changed": (
        Model({"serving_default": _sig(inputs={"x": (F32, (None, 3))})}),
        Model({"serving_default": _sig(inputs={"x": (F32, (None, 4))})}),
    ),
    "input_rank_changed": (BASE, Model({"serving_default": _sig(inputs={"x": (F32, (None, 1, 1))})})),
    "output_dtype": (BASE, Model({"serving_default": _sig(outputs={"y": (I64, (None, 1))})})),
    "output_widened": (Model({"serving_default": _sig(outputs={"y": (F32, (8, 1))})}), BASE),
    "method_name": (BASE, Model({"serving_default": _sig(method=REGRESS)})),
    "tag_set_gone": (BASE, replace(BASE, tags=("serve", "gpu"))),
    "classify_fails": (
        Model(
            {
                "serving_default": Sig(),
                "classify": replace(EXAMPLE, method=CLASSIFY, outputs={"scores": (F32, (None, 1))}),
            }
        ),
        Model(
            {
                "serving_default": Sig(),
                "classify": replace(EXAMPLE, method=CLASSIFY, outputs={"probabilities": (F32, (None, 1))}),
            }
        ),
    ),
    "feature_added_required": (EXAMPLE_MODEL, _example(c=Feature(F32, (1,)))),
    "feature_dtype": (EXAMPLE_MODEL, _example(b=Feature(I64, (1,), default=0))),
    "feature_shape": (EXAMPLE_MODEL, _example(b=Feature(F32, (2,), default=[0.0, 0.0]))),
    "feature_removed": (EXAMPLE_MODEL, _example(b=None)),
}


def _output(name: str, dtype, shape, source):
    """An output tensor of exactly this dtype and static shape that depends on `source`."""
    concrete = [1 if d is None else d for d in shape]
    value = tf.reshape(tf.cast(tf.reduce_sum(source), dtype), [1] * len(concrete))
    value = tf.tile(value, concrete) if concrete else tf.reshape(value, [])
    return tf1.placeholder_with_default(value, shape, name=name)


def _parsed(features: dict):
    serialized = tf1.placeholder(STR, [None], name="tf_example")
    spec = {}
    for key, f in features.items():
        if f.kind == "sparse":
            spec[key] = tf1.io.VarLenFeature(f.dtype)
        else:
            spec[key] = tf1.io.FixedLenFeature(list(f.shape), f.dtype, default_value=f.default)
    parsed = tf1.io.parse_example(serialized, spec)
    dense = [tf.reduce_sum(tf.cast(parsed[k], F32)) for k in sorted(parsed) if features[k].kind == "dense"]
    return serialized, tf.add_n(dense) if dense else tf.constant(0.0)


def build(path: Path, model: Model) -> None:
    graph = tf.Graph()
    with graph.as_default():
        defs = {}
        for key, sig in model.signatures.items():
            with tf.name_scope(model.prefix + key):
                if sig.features is not None:
                    serialized, source = _parsed(sig.features)
                    inputs = {"inputs": serialized}
                else:
                    inputs = {k: tf1.placeholder(d, s, name=k) for k, (d, s) in sig.inputs.items()}
                    source = tf.add_n([tf.reduce_sum(tf.cast(t, F32)) for t in inputs.values()])
                outputs = {k: _output(k, d, s, source) for k, (d, s) in sig.outputs.items()}
            defs[key] = tf1.saved_model.signature_def_utils.build_signature_def(
                {k: tf1.saved_model.utils.build_tensor_info(t) for k, t in inputs.items()},
                {k: tf1.saved_model.utils.build_tensor_info(t) for k, t in outputs.items()},
                sig.method,
            )
        with tf1.Session(graph=graph) as sess:
            builder = tf1.saved_model.Builder(str(path))
            builder.add_meta_graph_and_variables(
                sess, list(model.tags), signature_def_map=defs, strip_default_attrs=True
            )
            builder.save()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "diff", help="output directory (default testdata/diff)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for stale in sorted(p for p in args.out.iterdir() if p.is_dir() and p.name not in CASES):
        shutil.rmtree(stale)
    for name, (old, new) in CASES.items():
        target = args.out / name
        shutil.rmtree(target, ignore_errors=True)
        for side, model in (("old", old), ("new", new)):
            build(target / side, model)
        for empty in sorted((p for p in target.rglob("*") if p.is_dir() and not any(p.iterdir())), reverse=True):
            empty.rmdir()  # git keeps no empty directories; TensorFlow loads the models without them
        for fingerprint in target.rglob("fingerprint.pb"):
            fingerprint.unlink()  # holds a fresh random id each time; nothing here reads it
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{len(CASES)} pairs, {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
