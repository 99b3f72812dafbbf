#!/usr/bin/env python3
"""Build sigtool's TensorFlow-written test models into testdata/tf/ (needs TensorFlow + Keras).

testdata/make_testdata.py builds byte-exact models from protobuf messages; this script builds
the models only TensorFlow itself can write faithfully: TF1 SavedModelBuilder exports, TF2
object graphs, Keras exports, warmup files. TensorFlow's output is not byte-for-byte
reproducible (fingerprints, checkpoint layout), so tests/test_tf_models.py compares what
`sigtool show --all -f json` reports for a fresh build with the committed one.

    python testdata/make_tf_models.py                   # rewrite testdata/tf/ in place
    python testdata/make_tf_models.py --out DIR         # write DIR/<name>/ instead
    python testdata/make_tf_models.py --only tf1_pbtxt  # one model

Each model is a SavedModel directory named for what it exercises (MODELS below). Empty
variables/ and assets/ directories are not kept: git cannot store them, and TensorFlow
loads such models without them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONHASHSEED", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf1 = tf.compat.v1
HERE = Path(__file__).resolve().parent
SERVE = [tf1.saved_model.tag_constants.SERVING]
WARMUP = "tf_serving_warmup_requests"


# --- helpers -----------------------------------------------------------------------------


def info(t):
    return tf1.saved_model.utils.build_tensor_info(t)


def sig(inputs: dict, outputs: dict, method: str = "tensorflow/serving/predict"):
    return tf1.saved_model.signature_def_utils.build_signature_def(
        {k: info(v) for k, v in inputs.items()}, {k: info(v) for k, v in outputs.items()}, method)


def tf1_export(path: Path, build, *, as_text=False, main_op=None, extra_graphs=()):
    """Build a TF1 graph with `build()` -> {key: SignatureDef}, export it under {serve}.

    extra_graphs: (tags, build) pairs added as further MetaGraphs of the same variables.
    """
    graph = tf.Graph()
    with graph.as_default():
        tf1.set_random_seed(0)
        signatures = build()
        extra = [(tags, make()) for tags, make in extra_graphs]
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            builder = tf1.saved_model.Builder(str(path))
            op = main_op() if main_op else None
            builder.add_meta_graph_and_variables(
                sess, SERVE, signature_def_map=signatures, main_op=op, strip_default_attrs=True,
                assets_collection=tf1.get_collection(tf1.GraphKeys.ASSET_FILEPATHS) or None)
            for tags, sigs in extra:
                builder.add_meta_graph(tags, signature_def_map=sigs, strip_default_attrs=True)
            builder.save(as_text=as_text)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def model_spec(name: str, signature: str) -> bytes:
    return field(1, name.encode()) + field(3, signature.encode())  # ModelSpec.name, .signature_name


def predict_log(signature: str, inputs: dict) -> bytes:
    """PredictionLog{predict_log{request: PredictRequest{model_spec, inputs}}}."""
    request = field(1, model_spec("m", signature))
    for key, value in inputs.items():
        entry = field(1, key.encode()) + field(2, tf.make_tensor_proto(value).SerializeToString())
        request += field(2, entry)  # map<string, TensorProto> inputs = 2
    return field(6, field(1, request))


def examples_log(kind: str, signature: str, examples: list) -> bytes:
    """PredictionLog{classify_log|regress_log{request{model_spec, input{example_list}}}}."""
    example_list = b"".join(field(1, e.SerializeToString()) for e in examples)
    request = field(1, model_spec("m", signature)) + field(2, field(1, example_list))
    return field({"classify": 2, "regress": 3}[kind], field(1, request))


def write_warmup(model: Path, records: list) -> None:
    (model / "assets.extra").mkdir(exist_ok=True)
    with tf.io.TFRecordWriter(str(model / "assets.extra" / WARMUP)) as writer:
        for record in records:
            writer.write(record)


def example(**features) -> tf.train.Example:
    feats = {}
    for key, value in features.items():
        if isinstance(value, str):
            feats[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
        else:
            feats[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
    return tf.train.Example(features=tf.train.Features(feature=feats))


def parse_examples(spec: dict):
    serialized = tf1.placeholder(tf.string, [None], name="tf_example")
    return serialized, tf1.io.parse_example(serialized, spec)


# --- TF1 models ----------------------------------------------------------------------------


def tf1_constant_output(path):
    def build():
        x = tf1.placeholder(tf.float32, [None, 2], name="x")
        y = tf.constant([[0.5, 0.5]], name="y")  # does not depend on x
        x_sum = tf.reduce_sum(x, axis=1, name="x_sum")
        return {"serving_default": sig({"x": x}, {"y": y, "x_sum": x_sum})}

    tf1_export(path, build)


def tf1_denylisted_ops(path):
    def build():
        filename = tf1.placeholder(tf.string, [], name="filename")
        out_filename = tf1.placeholder(tf.string, [], name="out_filename")
        contents = tf.io.read_file(filename, name="read")
        write = tf.io.write_file(out_filename, contents, name="write")
        printed = tf.print("copied", filename, name="print")
        with tf.control_dependencies([write, printed]):
            n_bytes = tf.strings.length(contents, name="n_bytes")
        return {"serving_default": sig({"filename": filename, "out_filename": out_filename},
                                       {"contents": contents, "n_bytes": n_bytes})}

    tf1_export(path, build)


def tf1_invalid_classify(path):
    C = "tensorflow/serving/classify"

    def build():
        s = tf1.placeholder(tf.string, [None], name="examples")
        f = tf1.placeholder(tf.float32, [None, 1], name="xf")
        scores = tf.identity(tf.ones([tf.shape(s)[0], 2]), name="scores")
        classes = tf.identity(tf.fill([tf.shape(s)[0], 2], "c"), name="classes")
        int_scores = tf.cast(scores, tf.int32, name="int_scores")
        float_classes = tf.identity(scores, name="float_classes")
        first_score = tf.identity(scores[:, 0], name="first_score")  # 1-D: not [batch, classes]
        return {
            "classify_valid": sig({"inputs": s}, {"classes": classes, "scores": scores}, C),
            "classify_no_outputs": sig({"inputs": s}, {"probabilities": scores}, C),
            "classify_empty_outputs": sig({"inputs": s}, {}, C),
            "classify_scores_int32": sig({"inputs": s}, {"classes": classes, "scores": int_scores}, C),
            "classify_classes_float": sig({"inputs": s}, {"classes": float_classes}, C),
            "classify_input_float": sig({"inputs": f}, {"scores": first_score}, C),
            "classify_extra_output": sig({"inputs": s}, {"scores": scores, "logits": scores * 2.0}, C),
            "classify_two_inputs": sig({"inputs": s, "x": f}, {"scores": scores}, C),
            "classify_wrong_input_key": sig({"examples": s}, {"scores": scores}, C),
        }

    tf1_export(path, build)


def tf1_missing_tensor(path):
    from tensorflow.core.protobuf import meta_graph_pb2

    def build():
        x = tf1.placeholder(tf.float32, [None, 1], name="x")
        y = tf.identity(x * 3.0, name="y")
        ok = sig({"x": x}, {"y": y})
        signatures = {"valid": ok}
        for key, (in_name, out_name) in {
            "serving_default": ("x:0", "no_such_node:0"),
            "missing_input": ("no_such_input:0", "y:0"),
            "bad_output_index": ("x:0", "y:5"),
            "name_without_index": ("x:0", "y"),
        }.items():
            s = meta_graph_pb2.SignatureDef()
            s.CopyFrom(ok)
            s.inputs["x"].name, s.outputs["y"].name = in_name, out_name
            signatures[key] = s
        return signatures

    tf1_export(path, build)


def tf1_classify_regress_predict(path):
    spec = {
        "x": tf.io.FixedLenFeature([1], tf.float32),
        "x2": tf.io.FixedLenFeature([1], tf.float32, default_value=[0.0]),
        "color": tf.io.FixedLenFeature([1], tf.string, default_value=["red"]),
    }
    utils = tf1.saved_model.signature_def_utils

    def build():
        serialized, feats = parse_examples(spec)
        w = tf1.get_variable("w", initializer=tf.constant([[0.5, -1.0, 0.25], [2.0, 0.0, -0.5]]))
        colors = tf.cast(tf.equal(feats["color"], "green"), tf.float32)
        xs = tf.concat([feats["x"], feats["x2"]], axis=1)
        scores = tf.nn.softmax(tf.matmul(xs, w) + colors, name="scores")
        n = tf.shape(serialized)[0]
        classes = tf.identity(tf.tile(tf.constant([["red", "green", "blue"]]), [n, 1]), name="classes")
        value = tf.identity(feats["x"] * 0.5 + 2.0, name="value")
        x = tf1.placeholder(tf.float32, [None, 1], name="x")
        y = tf.identity(x * 0.5 + 2.0, name="y")
        classify = utils.classification_signature_def(serialized, classes, scores)
        return {
            "serving_default": classify,
            "classify": classify,
            "classify_scores_only": utils.classification_signature_def(serialized, None, scores),
            "classify_classes_only": utils.classification_signature_def(serialized, classes, None),
            "regress": utils.regression_signature_def(serialized, value),
            "predict": utils.predict_signature_def({"x": x}, {"y": y}),
            "predict_examples": utils.predict_signature_def({"examples": serialized}, {"scores": scores, "y": value}),
        }

    tf1_export(path, build)
    examples = [example(x=1.0, x2=4.0, color="green"), example(x=3.0), example(x=-2.0, color="blue")]
    write_warmup(path, [
        examples_log("classify", "serving_default", examples),
        examples_log("regress", "regress", examples[:2]),
        predict_log("predict", {"x": np.array([[1.0], [2.0]], np.float32)}),
    ])


def tf1_pbtxt(path):
    spec = {"x": tf.io.FixedLenFeature([1], tf.float32)}
    utils = tf1.saved_model.signature_def_utils

    def build():
        serialized, feats = parse_examples(spec)
        a = tf1.get_variable("a", initializer=tf.constant(0.5))
        b = tf1.get_variable("b", initializer=tf.constant(2.0))
        x = tf1.placeholder(tf.float32, [None, 1], name="x")
        y = tf.add(a * x, b, name="y")
        value = tf.add(a * feats["x"], b, name="value")
        return {
            "serving_default": utils.predict_signature_def({"x": x}, {"y": y}),
            "regress": utils.regression_signature_def(serialized, value),
        }

    tf1_export(path, build, as_text=True)


def tf1_multi_metagraph(path):
    def build():
        x = tf1.placeholder(tf.float32, [None, 1], name="x")
        w = tf1.get_variable("w", initializer=tf.constant(2.0))
        y = tf.identity(w * x, name="y")
        return {"serving_default": sig({"x": x}, {"y": y}), "plus_three": sig({"x": x}, {"y": tf.add(x, 2.0, name="plus")})}

    def gpu():
        g = tf1.get_default_graph()
        x, y = g.get_tensor_by_name("x:0"), g.get_tensor_by_name("y:0")
        return {"serving_default": sig({"x": x}, {"y": y}), "gpu_only": sig({"x": x}, {"y3": tf.identity(y, name="y3")})}

    def train():
        g = tf1.get_default_graph()
        x, y = g.get_tensor_by_name("x:0"), g.get_tensor_by_name("y:0")
        label = tf1.placeholder(tf.float32, [None, 1], name="label")
        loss = tf.reduce_mean(tf.square(y + 1.0 - label), name="loss")
        return {"train_loss": sig({"x": x, "label": label}, {"loss": loss})}

    tf1_export(path, build, extra_graphs=((["serve", "gpu"], gpu), (["train"], train)))


def tf1_composite_tensors(path):
    def build():
        sp = tf1.sparse_placeholder(tf.float32, shape=[None, 4], name="sp")
        dense = tf.sparse.to_dense(sp)
        row_sum = tf.reduce_sum(dense, axis=1, name="row_sum")
        ragged = tf.RaggedTensor.from_tensor(dense, name="ragged_out")
        rt = tf1.ragged.placeholder(tf.int32, ragged_rank=1, value_shape=[], name="rt")
        lengths = tf.cast(rt.row_lengths(), tf.int32, name="lengths")
        return {
            "serving_default": sig({"sp": sp}, {"ragged_out": ragged, "row_sum": row_sum}),
            "sparse_only": sig({"sp": sp}, {"row_sum": row_sum}),
            "ragged_in": sig({"rt": rt}, {"doubled": rt * 2, "lengths": lengths}),
        }

    tf1_export(path, build)


def tf1_assets_vocab_table(path):
    workdir = Path(tempfile.mkdtemp())
    vocab = workdir / "vocab.txt"
    vocab.write_text("apple\nbanana\ncherry\ndurian\n")

    def build():
        filename = tf.constant(str(vocab), name="vocab_filename")
        tf1.add_to_collection(tf1.GraphKeys.ASSET_FILEPATHS, filename)
        init = tf1.lookup.TextFileInitializer(
            filename, tf.string, tf1.lookup.TextFileIndex.WHOLE_LINE, tf.int64, tf1.lookup.TextFileIndex.LINE_NUMBER)
        table = tf1.lookup.StaticHashTable(init, default_value=-1)
        words = tf1.placeholder(tf.string, [None], name="words")
        ids = tf.identity(table.lookup(words), name="ids")
        return {"serving_default": sig({"words": words}, {"ids": ids})}

    tf1_export(path, build, main_op=tf1.tables_initializer)
    shutil.rmtree(workdir)
    (path / "assets.extra").mkdir()
    (path / "assets.extra" / "notes.txt").write_text("extra files Serving ignores\n")


# --- TF2 models ----------------------------------------------------------------------------

def spec_(shape, dtype=tf.float32, name=None):
    return tf.TensorSpec(shape, dtype, name=name)


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
    tf.saved_model.save(m, str(path), signatures={"serving_default": m.serve, "read_file": m.read, "write_file": m.write})


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
                self.vocab, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER)
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
        "bfloat16": tf.bfloat16, "bool": tf.bool, "complex128": tf.complex128, "complex64": tf.complex64,
        "float16": tf.float16, "float32": tf.float32, "float64": tf.float64, "int16": tf.int16,
        "int32": tf.int32, "int64": tf.int64, "int8": tf.int8, "string": tf.string, "uint16": tf.uint16,
        "uint32": tf.uint32, "uint64": tf.uint64, "uint8": tf.uint8,
    }

    class M(tf.Module):
        @tf.function(input_signature=[{k: spec_([None], d) for k, d in dtypes.items()}])
        def every_dtype(self, t):
            return {f"out_{k}": tf.identity(v) for k, v in t.items()}

        @tf.function(input_signature=[
            spec_([2, 3], tf.float32, "fixed_2x3"), spec_([None, 1, None, 4], tf.float32, "mixed_4d"),
            spec_([], tf.int32, "scalar_i32"), spec_([0], tf.float32, "zero_len"), spec_(None, tf.string, "any_rank_str")])
        def shapes(self, fixed_2x3, mixed_4d, scalar_i32, zero_len, any_rank_str):
            return {"fixed_sum": tf.reduce_sum(fixed_2x3), "mixed_shape": tf.shape(mixed_4d), "scalar": scalar_i32 * 2,
                    "zero_len": tf.identity(zero_len), "any_rank_str": tf.identity(any_rank_str)}

    m = M()
    tf.saved_model.save(m, str(path), signatures={"serving_default": m.every_dtype, "shapes": m.shapes})


def tf2_module_multisig(path):
    class M(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([0.5, -1.0, 2.0])

        @tf.function(input_signature=[spec_([None, 3], name="x"), spec_([None], tf.int64, "ids"), spec_([None], tf.string, "text")])
        def multi(self, x, ids, text):
            return {"score": tf.reduce_sum(x * self.w, axis=1) + 0.25, "ids_plus_one": ids + 1,
                    "text_len": tf.strings.length(text)}

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
    tf.saved_model.save(m, str(path), signatures={
        "serving_default": m.multi, "string_in": m.string_in, "int64_in": m.int64_in, "unknown_rank": m.unknown_rank,
        "scalar": m.scalar, "nested_tuple": m.nested_tuple, "dict_arg": m.dict_arg, "tuple_out": m.tuple_out,
        "no_inputs": m.no_inputs, "named_spec": m.named_spec, "odd key/with space σ": m.scalar})


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
    outputs = {"score": keras.layers.Dense(1, name="score")(merged),
               "probs": keras.layers.Dense(3, activation="softmax", name="probs")(merged)}
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


MODELS = {f.__name__: f for f in (
    tf1_constant_output, tf1_denylisted_ops, tf1_invalid_classify, tf1_missing_tensor, tf1_classify_regress_predict,
    tf1_pbtxt, tf1_multi_metagraph, tf1_composite_tensors, tf1_assets_vocab_table,
    tf2_auto_default_signature, tf2_no_signatures, tf2_denylisted_ops, tf2_warmup, tf2_assets_lookup, tf2_dtypes,
    tf2_module_multisig, tf2_pbtxt_converted,
    keras_functional_export, keras_functional_tfsave, keras_string_lookup,
)}


def drop_empty_dirs(root: Path) -> None:
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            d.rmdir()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "tf", help="output directory (default testdata/tf)")
    parser.add_argument("--only", action="append", choices=sorted(MODELS), help="build only this model (repeatable)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or MODELS:
        target = args.out / name
        shutil.rmtree(target, ignore_errors=True)
        MODELS[name](target)
        drop_empty_dirs(target)
        print(f"{name}: {sum(p.stat().st_size for p in target.rglob('*') if p.is_file())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
