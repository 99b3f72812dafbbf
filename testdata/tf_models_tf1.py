"""make_tf_models.py's TF1 models: graphs exported with SavedModelBuilder, one function each.

Each function takes the model directory to create.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf
from tf_model_helpers import example, examples_log, parse_examples, predict_log, sig, tf1, tf1_export, write_warmup


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
        return {
            "serving_default": sig(
                {"filename": filename, "out_filename": out_filename}, {"contents": contents, "n_bytes": n_bytes}
            )
        }

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
    write_warmup(
        path,
        [
            examples_log("classify", "serving_default", examples),
            examples_log("regress", "regress", examples[:2]),
            predict_log("predict", {"x": np.array([[1.0], [2.0]], np.float32)}),
        ],
    )


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
        return {
            "serving_default": sig({"x": x}, {"y": y}),
            "plus_three": sig({"x": x}, {"y": tf.add(x, 2.0, name="plus")}),
        }

    def gpu():
        g = tf1.get_default_graph()
        x, y = g.get_tensor_by_name("x:0"), g.get_tensor_by_name("y:0")
        return {
            "serving_default": sig({"x": x}, {"y": y}),
            "gpu_only": sig({"x": x}, {"y3": tf.identity(y, name="y3")}),
        }

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
            filename, tf.string, tf1.lookup.TextFileIndex.WHOLE_LINE, tf.int64, tf1.lookup.TextFileIndex.LINE_NUMBER
        )
        table = tf1.lookup.StaticHashTable(init, default_value=-1)
        words = tf1.placeholder(tf.string, [None], name="words")
        ids = tf.identity(table.lookup(words), name="ids")
        return {"serving_default": sig({"words": words}, {"ids": ids})}

    tf1_export(path, build, main_op=tf1.tables_initializer)
    shutil.rmtree(workdir)
    (path / "assets.extra").mkdir()
    (path / "assets.extra" / "notes.txt").write_text("extra files Serving ignores\n")
