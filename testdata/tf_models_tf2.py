"""make_tf_models.py's TF2 models (tf.Module and tf.saved_model.save) and Keras exports, one function each.

Each function takes the model directory to create.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf
from tf_model_helpers import predict_log, spec_, write_warmup


def tf2_auto_default_signature(path):
    class M(tf.Module):
        @tf.function(input_signature=[spec_([None], name="x")])
        def double(self, x):
            return x * 3.0

    tf.saved_model.save(M(), str(path))


def tf2_no_signatures(path):
    class M(tf.Module):
        def __init__(self):
            super().__init__()
            self.v = tf.Variable(1.0)

        @tf.function
        def add(self, x):
            return x + self.v

    m = M()
    m.add(tf.constant(1.0))
    tf.saved_model.save(m, str(path), signatures={})


def tf2_denylisted_ops(path):
    class M(tf.Module):
        @tf.function(input_signature=[spec_([None], name="x")])
        def serve(self, x):
            tf.print("x:", x)
            return {"y": x + 1.0}

        @tf.function(input_signature=[spec_([], tf.string, name="filename")])
        def read(self, filename):
            return {"contents": tf.io.read_file(filename)}

        @tf.function(input_signature=[spec_([], tf.string, name="filename"), spec_([], tf.string, name="contents")])
        def write(self, filename, contents):
            tf.io.write_file(filename, contents)
            return {"n_bytes": tf.strings.length(contents)}

    m = M()
    tf.saved_model.save(
        m, str(path), signatures={"serving_default": m.serve, "read_file": m.read, "write_file": m.write}
    )


def tf2_warmup(path):
    class M(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([[1.0], [2.0]])

        @tf.function(input_signature=[spec_([None, 2], name="x")])
        def serve(self, x):
            return {"y": tf.matmul(x, self.w)}

    m = M()
    tf.saved_model.save(m, str(path), signatures={"serving_default": m.serve})
    x = np.array([[1.0, 1.0]], np.float32)
    write_warmup(path, [predict_log("serving_default", {"x": x * (i + 1)}) for i in range(3)])


def tf2_assets_lookup(path):
    workdir = Path(tempfile.mkdtemp())
    vocab = workdir / "vocab.txt"
    vocab.write_text("<pad>\napple\nbanana\ncherry\ndurian\n")

    class M(tf.Module):
        def __init__(self):
            super().__init__()
            self.vocab = tf.saved_model.Asset(str(vocab))
            init = tf.lookup.TextFileInitializer(
                self.vocab, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER
            )
            self.table = tf.lookup.StaticHashTable(init, default_value=-1)

        @tf.function(input_signature=[spec_([None], tf.string, name="words")])
        def serve(self, words):
            return {"ids": self.table.lookup(words), "vocab_size": self.table.size()}

    m = M()
    tf.saved_model.save(m, str(path), signatures={"serving_default": m.serve})
    shutil.rmtree(workdir)
    (path / "assets.extra").mkdir()
    (path / "assets.extra" / "README.txt").write_text("not read by TensorFlow\n")
    (path / "assets.extra" / "labels.txt").write_text("none\nfruit\n")


def tf2_dtypes(path):
    dtypes = {
        "bfloat16": tf.bfloat16,
        "bool": tf.bool,
        "complex128": tf.complex128,
        "complex64": tf.complex64,
        "float16": tf.float16,
        "float32": tf.float32,
        "float64": tf.float64,
        "int16": tf.int16,
        "int32": tf.int32,
        "int64": tf.int64,
        "int8": tf.int8,
        "string": tf.string,
        "uint16": tf.uint16,
        "uint32": tf.uint32,
        "uint64": tf.uint64,
        "uint8": tf.uint8,
    }

    class M(tf.Module):
        @tf.function(input_signature=[{k: spec_([None], d) for k, d in dtypes.items()}])
        def every_dtype(self, t):
            return {f"out_{k}": tf.identity(v) for k, v in t.items()}

        @tf.function(
            input_signature=[
                spec_([2, 3], tf.float32, "fixed_2x3"),
                spec_([None, 1, None, 4], tf.float32, "mixed_4d"),
                spec_([], tf.int32, "scalar_i32"),
                spec_([0], tf.float32, "zero_len"),
                spec_(None, tf.string, "any_rank_str"),
            ]
        )
        def shapes(self, fixed_2x3, mixed_4d, scalar_i32, zero_len, any_rank_str):
            return {
                "fixed_sum": tf.reduce_sum(fixed_2x3),
                "mixed_shape": tf.shape(mixed_4d),
                "scalar": scalar_i32 * 2,
                "zero_len": tf.identity(zero_len),
                "any_rank_str": tf.identity(any_rank_str),
            }

    m = M()
    tf.saved_model.save(m, str(path), signatures={"serving_default": m.every_dtype, "shapes": m.shapes})


def tf2_module_multisig(path):
    class M(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([0.5, -1.0, 2.0])

        @tf.function(
            input_signature=[
                spec_([None, 3], name="x"),
                spec_([None], tf.int64, "ids"),
                spec_([None], tf.string, "text"),
            ]
        )
        def multi(self, x, ids, text):
            return {
                "score": tf.reduce_sum(x * self.w, axis=1) + 0.25,
                "ids_plus_one": ids + 1,
                "text_len": tf.strings.length(text),
            }

        @tf.function(input_signature=[spec_([None], tf.string, "text")])
        def string_in(self, text):
            return {"upper": tf.strings.upper(text), "n_bytes": tf.strings.length(text)}

        @tf.function(input_signature=[spec_([None, 2], tf.int64, "pairs")])
        def int64_in(self, pairs):
            return {"sum": tf.reduce_sum(pairs, axis=1), "product": tf.reduce_prod(pairs, axis=1)}

        @tf.function(input_signature=[spec_(None, name="t")])
        def unknown_rank(self, t):
            return {"doubled": t * 2.0, "rank": tf.rank(t)}

        @tf.function(input_signature=[spec_([], name="s")])
        def scalar(self, s):
            return {"squared": s * s}

        @tf.function(input_signature=[(spec_([None]), spec_([None]))])
        def nested_tuple(self, one_arg):
            return one_arg[0] * one_arg[1]

        @tf.function(input_signature=[{"a": spec_([None]), "b": spec_([None], tf.int32)}])
        def dict_arg(self, d):
            return {"total": d["a"] + tf.cast(d["b"], tf.float32)}

        @tf.function(input_signature=[spec_([None, None, 3], name="images")])
        def tuple_out(self, images):
            return tf.reduce_mean(images, axis=[1, 2]), tf.shape(images, out_type=tf.int32)

        @tf.function(input_signature=[])
        def no_inputs(self):
            return {"w": tf.identity(self.w)}

        @tf.function(input_signature=[spec_([None], name="renamed_by_spec")])
        def named_spec(self, value):
            return {"y": value + 0.25}

    m = M()
    tf.saved_model.save(
        m,
        str(path),
        signatures={
            "serving_default": m.multi,
            "string_in": m.string_in,
            "int64_in": m.int64_in,
            "unknown_rank": m.unknown_rank,
            "scalar": m.scalar,
            "nested_tuple": m.nested_tuple,
            "dict_arg": m.dict_arg,
            "tuple_out": m.tuple_out,
            "no_inputs": m.no_inputs,
            "named_spec": m.named_spec,
            "odd key/with space σ": m.scalar,  # noqa: RUF001 (a non-ASCII key on purpose)
        },
    )


def tf2_pbtxt_converted(path):
    from google.protobuf import text_format
    from tensorflow.core.protobuf import saved_model_pb2

    class M(tf.Module):
        def __init__(self):
            super().__init__()
            self.k = tf.Variable(3.0)

        @tf.function(input_signature=[spec_([None], name="x")])
        def serve(self, x):
            return x * self.k

    m = M()
    tf.saved_model.save(m, str(path), signatures={"serving_default": m.serve})
    message = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
    (path / "saved_model.pbtxt").write_text(text_format.MessageToString(message))
    (path / "saved_model.pb").unlink()


# --- Keras models ----------------------------------------------------------------------------


def _functional():
    import keras

    keras.utils.set_random_seed(0)
    features = keras.Input(shape=(4,), name="features")
    aux = keras.Input(shape=(2,), name="aux")
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(features)
    merged = keras.layers.Concatenate(name="merge")([hidden, aux])
    outputs = {
        "score": keras.layers.Dense(1, name="score")(merged),
        "probs": keras.layers.Dense(3, activation="softmax", name="probs")(merged),
    }
    return keras.Model(inputs=[features, aux], outputs=outputs, name="functional")


def keras_functional_export(path):
    _functional().export(str(path), verbose=False)


def keras_functional_tfsave(path):
    tf.saved_model.save(_functional(), str(path))


def keras_string_lookup(path):
    import keras

    keras.utils.set_random_seed(0)
    tokens = keras.Input(shape=(3,), dtype="string", name="tokens")
    ids = keras.layers.StringLookup(vocabulary=["the", "cat", "sat", "a", "mat"], name="lookup")(tokens)
    embedded = keras.layers.Embedding(6, 2, name="embed")(ids)
    pooled = keras.layers.GlobalAveragePooling1D(name="pool")(embedded)
    out = keras.layers.Dense(1, name="out")(pooled)
    keras.Model(tokens, out, name="string_lookup").export(str(path), verbose=False)
