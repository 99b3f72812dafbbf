#!/usr/bin/env python3
"""Build the models `sigtool run` is tested on into testdata/run/ (needs TensorFlow).

Each model reproduces, at toy size, a kind of real SavedModel that broke `run`
(issue 9): TensorFlow writes them, so the bytes are not reproducible (fingerprints,
checkpoint layout); tests/test_run_models.py rebuilds them and compares what
`sigtool show --all -f json` reports with the committed copies.

    python testdata/make_run_models.py              # rewrite testdata/run/ in place
    python testdata/make_run_models.py --out DIR    # write DIR/<name>/ instead

legacy_optimizer_slots
    A TF2 object graph whose variables carry optimizer slot variables, the way a
    TF 2.3/2.4 Keras model saved with its optimizer does. The optimizer's class is
    not registered for revival, so tf.saved_model.load rebuilds it as a plain
    user object and fails with "'_UserObject' object has no attribute 'add_slot'".
    A TF1 session (TF Serving, saved_model_cli run) never revives objects: it
    restores the checkpoint through the SaverDef and runs serving_default.
    y = x @ kernel + bias, kernel [[1, 2], [3, 4]], bias [0.5, -0.5].

varlen_densify
    A TF1 tf.Transform-style graph: ParseExampleV2 with a VarLenFeature "token"
    (int64) densified to [batch, 1] (the sparse tensor's shape is reset to
    [batch, 1], then made dense, as tft's sparse-to-dense helpers do) and a dense
    "weight" (float, shape [1], default 0.25). A serialized tf.Example with
    one token runs; two tokens fail ("indices[1] = [0,1] is out of bounds").
    serving_default (regress): inputs -> outputs = token * 2 + weight, [batch, 1].
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONHASHSEED", "0")

import tensorflow as tf

tf1 = tf.compat.v1
HERE = Path(__file__).resolve().parent


# --- legacy_optimizer_slots --------------------------------------------------------------


class _SlotOptimizer(tf.Module):
    """Keeps one "momentum" slot per variable and answers get_slot_names/get_slot, as Keras's OptimizerV2 did;
    the checkpoint code records those slots in the object graph."""

    def __init__(self, variables):
        super().__init__(name="optimizer")
        self.iterations = tf.Variable(7, dtype=tf.int64, name="iter")
        slots = {id(v): tf.Variable(tf.fill(v.shape, 0.5), name="momentum") for v in variables}
        object.__setattr__(self, "_slots", slots)  # untracked: slots are saved as slot variables, not children

    def get_slot_names(self):
        return ["momentum"]

    def get_slot(self, var, slot_name):
        return self._slots[id(var)] if slot_name == "momentum" else None


class _Dense(tf.Module):
    def __init__(self):
        super().__init__(name="dense")
        self.kernel = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="kernel")
        self.bias = tf.Variable([0.5, -0.5], name="bias")
        self.optimizer = _SlotOptimizer([self.kernel, self.bias])

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="dense_input")])
    def serve(self, dense_input):
        return {"dense": tf.matmul(dense_input, self.kernel) + self.bias}


def legacy_optimizer_slots(path: Path) -> None:
    model = _Dense()
    tf.saved_model.save(model, str(path), signatures={"serving_default": model.serve})


# --- varlen_densify ----------------------------------------------------------------------


def varlen_densify(path: Path) -> None:
    graph = tf.Graph()
    with graph.as_default():
        serialized = tf1.placeholder(tf.string, [None], name="input_example_tensor")
        features = tf1.io.parse_example(
            serialized,
            {
                "token": tf1.io.VarLenFeature(tf.int64),
                "weight": tf1.io.FixedLenFeature([1], tf.float32, default_value=[0.25]),
            },
        )
        token = features["token"]
        batch = tf.shape(token, out_type=tf.int64)[0]
        token = tf.SparseTensor(token.indices, token.values, tf.stack([batch, tf.constant(1, tf.int64)]))
        dense = tf.reshape(tf.sparse.to_dense(token), [-1, 1])
        outputs = tf.identity(tf.cast(dense, tf.float32) * 2.0 + features["weight"], name="outputs")
        signature = tf1.saved_model.signature_def_utils.build_signature_def(
            {"inputs": tf1.saved_model.utils.build_tensor_info(serialized)},
            {"outputs": tf1.saved_model.utils.build_tensor_info(outputs)},
            "tensorflow/serving/regress",
        )
        with tf1.Session(graph=graph) as sess:
            builder = tf1.saved_model.Builder(str(path))
            builder.add_meta_graph_and_variables(
                sess, ["serve"], signature_def_map={"serving_default": signature}, strip_default_attrs=True
            )
            builder.save()


MODELS = {"legacy_optimizer_slots": legacy_optimizer_slots, "varlen_densify": varlen_densify}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "run", help="output directory (default testdata/run)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in MODELS.items():
        target = args.out / name
        shutil.rmtree(target, ignore_errors=True)
        build(target)
        for empty in sorted((p for p in target.rglob("*") if p.is_dir() and not any(p.iterdir())), reverse=True):
            empty.rmdir()  # git keeps no empty directories; TensorFlow loads the model without them
        print(f"{name}: {sum(p.stat().st_size for p in target.rglob('*') if p.is_file())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
