"""Build one ~1 GiB SavedModel for bench/bench.py. Imports TensorFlow, so bench.py runs it as a subprocess.

    python bench/build_models.py {v1|tf2} OUT_DIR

Both models embed four 256 MiB float32 constants (64 Mi elements each) in saved_model.pb, the kind of
model on which saved_model_cli must parse the whole file, behind a half_plus_two-like `serving_default`
signature (x: float32 [None, 1] -> y). OUT_DIR must not exist yet.
bench.py rebuilds the models whenever this file's contents change (it stamps them with its hash).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

N_CONSTS, ELEMENTS = 4, 64 * 1024 * 1024  # 4 x 256 MiB of float32


def blob(i: int) -> np.ndarray:
    # Random, so that TensorFlow cannot compress the TensorProto (it does for repeated values: 12 KiB instead of 1 GiB).
    return np.random.default_rng(i).random(ELEMENTS, dtype=np.float32)


def build_v1(out: str) -> None:
    """TF1 graph saved with tf.compat.v1.saved_model.Builder: the constants are Const nodes of the graph."""
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph, v1.Session(graph=graph) as sess:
        x = v1.placeholder(tf.float32, [None, 1], name="x")
        consts = [tf.constant(blob(i), name=f"big_{i}") for i in range(N_CONSTS)]
        bias = tf.add_n([c[0] for c in consts]) * 0.0
        y = tf.add(x * 0.5 + 2.0, bias, name="y")
        signature = v1.saved_model.predict_signature_def(inputs={"x": x}, outputs={"y": y})
        builder = v1.saved_model.Builder(out)
        builder.add_meta_graph_and_variables(
            sess, [v1.saved_model.tag_constants.SERVING], signature_def_map={"serving_default": signature}
        )
        builder.save()


def build_tf2(out: str) -> None:
    """tf.Module whose tf.function captures four eager constants: saved as Const nodes in the function library."""
    module = tf.Module()
    module.consts = [tf.constant(blob(i)) for i in range(N_CONSTS)]

    @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32, name="x")])
    def serve(x):
        bias = tf.add_n([c[0] for c in module.consts]) * 0.0
        return {"y": x * 0.5 + 2.0 + bias}

    module.serve = serve
    tf.saved_model.save(module, out, signatures={"serving_default": serve})


if __name__ == "__main__":
    kind, out = sys.argv[1:]
    {"v1": build_v1, "tf2": build_tf2}[kind](out)
