#!/usr/bin/env python3
"""Build one model that triggers each `sigtool check` rule, and one that does not.

Every rule this script owns (CASES) gets testdata/rules/<RULE>/ holding:

    triggers/    a model directory or model base path on which the rule fires
    clean/       the same model with the one thing fixed (absent for a rule that fires on every model;
                 unconditional.txt then says why)
    args.txt     the check options both are checked with (may be empty), e.g. --method-check
    expect.txt   text each triggering finding list must contain, one per line ("where  message")

tests/test_rules.py reads these; testdata/rules/README.md describes the layout. Most models are
built from protobuf messages with testdata/make_testdata.py's helpers and are byte-for-byte
reproducible. A few (TF_CASES) are written by TensorFlow itself, because the point is what
tf.saved_model.save really writes (functions, checkpoint shards); those need TensorFlow here.

    python testdata/make_rule_fixtures.py                # rewrite testdata/rules/<RULE>/ for every owned rule
    python testdata/make_rule_fixtures.py --out DIR      # write DIR/<RULE>/ instead
    python testdata/make_rule_fixtures.py --no-tf        # only the protobuf-built rules (no TensorFlow needed)
    python testdata/make_rule_fixtures.py --tf-only      # only the TensorFlow-built rules

The script deletes and rewrites only the rule directories it owns (OWNED), so fixtures other
scripts or people add under testdata/rules/ are left alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # make_testdata, whatever the current directory
sys.path.insert(0, str(HERE.parent))  # this checkout's sigtool._proto

import make_testdata as mt
from google.protobuf import text_format
from make_testdata import CLASSIFY, DT, PREDICT, REGRESS, const, node, placeholder, serialize

from sigtool._proto import attr_value_pb2, manifest_pb2, meta_graph_pb2, prediction_log_pb2

RULES_DIR = HERE / "rules"
PB = "1/saved_model.pb"  # most fixtures are model base paths holding version 1, as Serving wants


@dataclass(frozen=True)
class Case:
    expect: tuple[str, ...]  # each must appear in some finding of the rule on triggers/
    args: str = ""  # check options for both fixtures
    unconditional: str = ""  # no clean/ can exist: why


CASES: dict[str, tuple[Case, object]] = {}  # rule id -> (case, function returning (triggers, clean) files)


def case(rule_id: str, *expect: str, args: str = "", unconditional: str = ""):
    """Register the function below as the fixture builder for rule_id."""

    def register(make):
        CASES[rule_id] = (Case(expect, args, unconditional), make)
        return make

    return register


# --- graph pieces -------------------------------------------------------------------------------


def list_attr(n, key: str, *, types=(), ints=(), shapes=None):
    """Set a list attribute (make_testdata's node() sets only scalars)."""
    value = attr_value_pb2.AttrValue()
    value.list.SetInParent()
    value.list.type.extend(types)
    value.list.i.extend(ints)
    for shape in shapes or ():
        value.list.shape.add().CopyFrom(mt.shape_proto(shape))
    n.attr[key].CopyFrom(value)
    return n


def int_attr(n, key: str, value: int):
    n.attr[key].i = value
    return n


X_PARSED = "ParseExample/ParseExampleV2"  # its output 0: x, float [batch, 1]
EXAMPLES = mt.tensor_info("tf_example:0", DT.DT_STRING, (-1,))


def parse_example_nodes() -> list:
    """tf_example (a [batch] vector of serialized Examples) -> ParseExampleV2 -> dense feature x, [batch, 1]."""
    parts = ("names", "sparse_keys", "dense_keys", "ragged_keys", "dense_default")
    parse = node(X_PARSED, "ParseExampleV2", ["tf_example"] + [f"ParseExample/{p}" for p in parts])
    list_attr(parse, "Tdense", types=[DT.DT_FLOAT])
    list_attr(parse, "dense_shapes", shapes=[(1,)])
    int_attr(parse, "num_sparse", 0)
    for key in ("sparse_types", "ragged_value_types", "ragged_split_types"):
        list_attr(parse, key)
    return [
        placeholder("tf_example", DT.DT_STRING, (-1,)),
        const("ParseExample/names", DT.DT_STRING, (0,)),
        const("ParseExample/sparse_keys", DT.DT_STRING, (0,)),
        const("ParseExample/dense_keys", DT.DT_STRING, (1,), string_val=[b"x"]),
        const("ParseExample/ragged_keys", DT.DT_STRING, (0,)),
        const("ParseExample/dense_default", DT.DT_FLOAT, (1,), float_val=[0.0]),
        parse,
    ]


def regressor_nodes() -> list:
    """Examples -> x -> x * 0.5 + 2 = y, float [batch, 1]."""
    return parse_example_nodes() + [
        const("a", DT.DT_FLOAT, float_val=[0.5]),
        const("b", DT.DT_FLOAT, float_val=[2.0]),
        node("Mul", "Mul", [X_PARSED, "a"], T=DT.DT_FLOAT),
        node("Add", "Add", ["Mul", "b"], T=DT.DT_FLOAT),
        node("y", "Identity", ["Add"], T=DT.DT_FLOAT),
    ]


def classifier_nodes(*, classes: str) -> list:
    """Examples -> x -> two-class softmax `probabilities` [batch, 2] and `class_ids` int64 [batch, 1].

    classes="ids": no string classes; "names": `classes` = AsString(class_ids), string [batch, 1].
    """
    weights = const("weights", DT.DT_FLOAT, (1, 2), float_val=[-1.0, 1.0])
    nodes = parse_example_nodes() + [
        weights,
        node("logits", "MatMul", [X_PARSED, "weights"], T=DT.DT_FLOAT),
        node("probabilities", "Softmax", ["logits"], T=DT.DT_FLOAT),
        const("argmax_axis", DT.DT_INT32, int_val=[1]),
        node(
            "argmax",
            "ArgMax",
            ["probabilities", "argmax_axis"],
            T=DT.DT_FLOAT,
            Tidx=DT.DT_INT32,
            output_type=DT.DT_INT64,
        ),
        const("expand_axis", DT.DT_INT32, int_val=[-1]),
        node("class_ids", "ExpandDims", ["argmax", "expand_axis"], T=DT.DT_INT64, Tdim=DT.DT_INT32),
    ]
    if classes == "names":
        nodes.append(node("classes", "AsString", ["class_ids"], T=DT.DT_INT64))
    return nodes


def predict_model(signatures=None, nodes=None, **meta_info):
    """One {serve} MetaGraph; by default TF1 half_plus_two, serving_default x -> y (make_testdata's minimal)."""
    mg = mt.meta_graph(
        ["serve"], signatures or {"serving_default": mt.predict_x_to_y()}, nodes or mt.half_plus_two_nodes()
    )
    for key, value in meta_info.items():
        setattr(mg.meta_info_def, key, value)
    return mt.saved_model(mg)


def classify_model(*, input_key="inputs", classes="names", top_score_only=False):
    """A classify signature over Examples; top_score_only: scores is the winning probability, [batch]."""
    nodes = classifier_nodes(classes=classes)
    scores = mt.tensor_info("probabilities:0", DT.DT_FLOAT, (-1, 2))
    if top_score_only:
        nodes.append(node("top_score", "Max", ["probabilities", "argmax_axis"], T=DT.DT_FLOAT, Tidx=DT.DT_INT32))
        scores = mt.tensor_info("top_score:0", DT.DT_FLOAT, (-1,))
    outputs = {"scores": scores}
    if classes == "names":
        outputs["classes"] = mt.tensor_info("classes:0", DT.DT_STRING, (-1, 1))
    else:
        outputs["classes"] = mt.tensor_info("class_ids:0", DT.DT_INT64, (-1, 1))
    return predict_model({"serving_default": mt.signature_def(CLASSIFY, {input_key: EXAMPLES}, outputs)}, nodes)


def regress_model(*, method=REGRESS, output_key="outputs"):
    sig = mt.signature_def(method, {"inputs": EXAMPLES}, {output_key: mt.tensor_info("y:0", DT.DT_FLOAT, (-1, 1))})
    return predict_model({"serving_default": sig}, regressor_nodes())


def pb(message) -> dict[str, bytes]:
    return {PB: serialize(message)}


# --- one function per rule: (triggers files, clean files or None), paths relative to the fixture ----


@case(
    "FMT001",
    "serve  written by TensorFlow 1.15.5",
    unconditional="FMT001 notes the writer's TensorFlow version for every MetaGraph, and every readable model "
    "has one: no model can be clean.",
)
def fmt001():
    # Written by an old TF; there is no clean model: every MetaGraph gets this note.
    return pb(predict_model(tensorflow_version="1.15.5")), None


@case("FMT002", "default attrs stripped")
def fmt002():
    return pb(predict_model(stripped_default_attrs=True)), pb(predict_model())


@case("FMT003", "saved_model_schema_version is 2, not 1")
def fmt003():
    future = predict_model()
    future.saved_model_schema_version = 2
    return pb(future), pb(predict_model())


@case("FMT004", "text format (saved_model.pbtxt)")
def fmt004():
    return {"1/saved_model.pbtxt": text_format.MessageToString(predict_model()).encode()}, pb(predict_model())


@case(
    "GRAPH001",
    "tensor 'probs:0' names node 'probs', which is not in the graph",
    "tensor 'y:1' does not exist: y (Identity) has only 1 output",
)
def graph001():
    # The signature still names tensors of the graph before it was pruned and its nodes renamed.
    stale = mt.signature_def(
        PREDICT,
        {"x": mt.tensor_info("x:0", DT.DT_FLOAT, (-1, 1))},
        {"y": mt.tensor_info("y:1", DT.DT_FLOAT, (-1, 1)), "probs": mt.tensor_info("probs:0", DT.DT_FLOAT, (-1, 1))},
    )
    return pb(predict_model({"serving_default": stale})), pb(predict_model())


@case("GRAPH002", "TensorInfo says DT_DOUBLE but placeholder x:0 is DT_FLOAT")
def graph002():
    wrong = mt.signature_def(
        PREDICT, {"x": mt.tensor_info("x:0", DT.DT_DOUBLE, (-1, 1))}, {"y": mt.tensor_info("y:0", DT.DT_FLOAT, (-1, 1))}
    )
    return pb(predict_model({"serving_default": wrong})), pb(predict_model())


@case("GRAPH003", "input x is fed into x_float:0, an output of Cast 'x_float', not a placeholder")
def graph003():
    # x (int64) -> Identity x_in -> Cast x_float -> half_plus_two; the TF1 entry-point Identity is fine.
    nodes = [
        placeholder("x", DT.DT_INT64, (-1, 1)),
        node("x_in", "Identity", ["x"], T=DT.DT_INT64),
        node("x_float", "Cast", ["x_in"], SrcT=DT.DT_INT64, DstT=DT.DT_FLOAT),
        const("a", DT.DT_FLOAT, float_val=[0.5]),
        const("b", DT.DT_FLOAT, float_val=[2.0]),
        node("Mul", "Mul", ["x_float", "a"], T=DT.DT_FLOAT),
        node("Add", "Add", ["Mul", "b"], T=DT.DT_FLOAT),
        node("y", "Identity", ["Add"], T=DT.DT_FLOAT),
    ]
    y = {"y": mt.tensor_info("y:0", DT.DT_FLOAT, (-1, 1))}

    def model(name, dtype):
        return predict_model(
            {"serving_default": mt.signature_def(PREDICT, {"x": mt.tensor_info(name, dtype, (-1, 1))}, y)}, nodes
        )

    return pb(model("x_float:0", DT.DT_FLOAT)), pb(model("x_in:0", DT.DT_INT64))


@case("GRAPH005", "output y needs placeholder keep_prob, which serving_default does not feed")
def graph005():
    # TF1 dropout: y is scaled by keep_prob, which the signature does not feed.
    def model(*keep_prob):
        nodes = mt.half_plus_two_nodes()[:-1] + [
            *keep_prob,
            node("dropout/mul", "Mul", ["Add", "keep_prob"], T=DT.DT_FLOAT),
            node("y", "Identity", ["dropout/mul"], T=DT.DT_FLOAT),
        ]
        return predict_model(nodes=nodes)

    unfed = placeholder("keep_prob", DT.DT_FLOAT, ())
    default = const("keep_prob/default", DT.DT_FLOAT, float_val=[1.0])
    defaulted = node("keep_prob", "PlaceholderWithDefault", ["keep_prob/default"], dtype=DT.DT_FLOAT, shape=())
    return pb(model(unfed)), pb(model(default, defaulted))


@case("SERVE001", "no MetaGraph is tagged exactly 'serve' (tag-sets: gpu,serve)", "--saved_model_tags=gpu,serve")
def serve001():
    gpu_only = predict_model()
    gpu_only.meta_graphs[0].meta_info_def.tags.append("gpu")
    return pb(gpu_only), pb(predict_model())


@case("SERVE002", "no serving_default signature (signatures: predict)")
def serve002():
    only_named = predict_model({"predict": mt.predict_x_to_y()})
    return pb(only_named), pb(predict_model())


@case("SERVE005", "not in a numbered version directory")
def serve005():
    return {"saved_model.pb": serialize(predict_model())}, pb(predict_model())


@case(
    "SERVE006",
    "#2  requests signature 'predict', which the model does not have",
    "#3  inputs do not match serving_default: unknown ['inputs'], missing ['x']",
)
def serve006():
    def predict_log(signature="", **inputs):
        log = prediction_log_pb2.PredictionLog()
        request = log.predict_log.request
        request.model_spec.name = "half_plus_two"
        request.model_spec.signature_name = signature
        for key, value in inputs.items():
            tensor = request.inputs[key]
            tensor.dtype = DT.DT_FLOAT
            tensor.tensor_shape.CopyFrom(mt.shape_proto((1, 1)))
            tensor.float_val.append(value)
        return serialize(log)

    warmup = "1/assets.extra/tf_serving_warmup_requests"
    good = [predict_log(x=1.0), predict_log("serving_default", x=2.0)]
    bad = [predict_log(x=1.0), predict_log("predict", x=2.0), predict_log(inputs=3.0)]
    model = serialize(predict_model())
    return {PB: model, warmup: tfrecord(bad)}, {PB: model, warmup: tfrecord(good)}


@case("SERVE007", "00000001/export.meta  legacy SessionBundle export: current Serving refuses it")
def serve007():
    """A legacy SessionBundle export (export.meta), and the same model re-exported as a SavedModel."""
    mg = meta_graph_pb2.MetaGraphDef()
    mg.meta_info_def.meta_graph_version = "v0.12.0"
    mg.meta_info_def.tensorflow_version = "0.12.1"
    mg.graph_def.CopyFrom(mt.graph(*mt.half_plus_two_nodes()))
    signatures = manifest_pb2.Signatures()
    signatures.named_signatures["inputs"].generic_signature.map["x"].tensor_name = "x:0"
    signatures.named_signatures["outputs"].generic_signature.map["y"].tensor_name = "y:0"
    mg.collection_def["serving_signatures"].any_list.value.add(  # add(): Any of sigtool._proto's own pool
        type_url="type.googleapis.com/tensorflow.serving.Signatures", value=serialize(signatures)
    )
    return {"00000001/export.meta": serialize(mg)}, {"00000001/saved_model.pb": serialize(predict_model())}


@case("SERVE008", "not served by default (Serving loads tags 'serve')", "--saved_model_tags=gpu,serve")
def serve008():
    both = predict_model()
    gpu = both.meta_graphs.add()
    gpu.CopyFrom(both.meta_graphs[0])
    gpu.meta_info_def.tags.append("gpu")
    for n in gpu.graph_def.node:
        n.device = "/device:GPU:0"
    return pb(both), pb(predict_model())


@case("SHAPE001", "serve/serving_default/outputs/scores  scores shape (?,) is not rank 2")
def shape001():
    rank_one = classify_model(top_score_only=True)
    return pb(rank_one), pb(classify_model())


@case("SRV001", "Serving's Classify API would fail: No classification inputs found in SignatureDef")
def srv001():
    return pb(classify_model(input_key="examples")), pb(classify_model())


@case("SRV002", "Serving's Regress API would fail: No regression outputs found in SignatureDef")
def srv002():
    return pb(regress_model(output_key="scores")), pb(regress_model())


@case("SRV003", "Expected prediction signature method_name to be one of", "Was: predict", args="--method-check")
def srv003():
    def model(method):
        sig = mt.predict_x_to_y()
        sig.method_name = method
        return predict_model({"serving_default": sig})

    return pb(model("predict")), pb(model(PREDICT))


@case("SRV004", "keys fit Serving's Regress API but method_name is tensorflow/serving/predict", args="--method-check")
def srv004():
    # What tf.saved_model.save writes for a regression model: the keys fit Regress, the method says predict.
    return pb(regress_model(method=PREDICT)), pb(regress_model())


@case("SRV005", "serve/model_info  no inputs: gRPC Predict serves it, but REST fails")
def srv005():
    info = mt.signature_def(PREDICT, {}, {"version": mt.tensor_info("model_version:0", DT.DT_STRING, ())})
    nodes = mt.half_plus_two_nodes() + [const("model_version", DT.DT_STRING, string_val=[b"2026-12-01"])]
    with_info = predict_model({"serving_default": mt.predict_x_to_y(), "model_info": info}, nodes)
    return pb(with_info), pb(predict_model())


@case("TYPE001", "serve/serving_default/outputs/classes  classes is DT_INT64; TF's is_valid_signature wants DT_STRING")
def type001():
    return pb(classify_model(classes="ids")), pb(classify_model())


# Rules whose fixtures TensorFlow writes (see build_tf).
TF_CASES: dict[str, Case] = {
    "GRAPH004": Case(
        (
            "serve/serving_default/outputs/noise  output noise does not depend on any input",
            "← Const (a value frozen at trace time?)",
        )
    ),
    "SEC001": Case(
        ("op ReadFile reads or writes files (at __inference_serve_", "op Timestamp on the --deny-op list"),
        args="--deny-op Timestamp --allow-op PrintV2",
    ),
    "SERVE003": Case(("variables/variables.data-00000-of-00002  missing data shard",)),
    "SERVE004": Case(("serve/assets/vocab.txt  assets/vocab.txt is missing (fed to ",)),
}

OWNED = tuple(sorted({*CASES, *TF_CASES}))


# --- TFRecord (warmup requests) -------------------------------------------------------------------


def _crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> bytes:
    crc = _crc32c(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


def tfrecord(records: list[bytes]) -> bytes:
    """length, masked CRC32C of the length, data, masked CRC32C of the data: one TFRecord each."""
    out = b""
    for data in records:
        length = struct.pack("<Q", len(data))
        out += length + _masked(length) + data + _masked(data)
    return out


# --- building -----------------------------------------------------------------------------------


def meta_files(case: Case) -> dict[str, bytes]:
    files = {"args.txt": (case.args + "\n").encode(), "expect.txt": "".join(e + "\n" for e in case.expect).encode()}
    if case.unconditional:
        files["unconditional.txt"] = (case.unconditional + "\n").encode()
    return files


def build() -> dict[str, bytes]:
    """Every file of the protobuf-built rules, and the option files of all: path under the rules dir -> bytes."""
    files: dict[str, bytes] = {}
    for rule_id, (case, make) in CASES.items():
        triggers, clean = make()
        for kind, tree in (("triggers", triggers), ("clean", clean or {})):
            files.update({f"{rule_id}/{kind}/{rel}": data for rel, data in tree.items()})
    for rule_id, case in {**{r: c for r, (c, _) in CASES.items()}, **TF_CASES}.items():
        files.update({f"{rule_id}/{rel}": data for rel, data in meta_files(case).items()})
    return files


def build_tf(out: Path) -> None:
    """Write the TensorFlow-built fixtures of TF_CASES under out/<RULE>/ (models only)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf

    x_spec = tf.TensorSpec([None, 1], tf.float32, name="x")

    def save(module, path: Path, *, shard_bytes: int | None = None) -> None:
        options = None
        if shard_bytes:  # several variables.data-*-of-* files, as a large model has
            policy = tf.train.experimental.MaxShardSizePolicy(max_shard_size=shard_bytes)
            options = tf.saved_model.SaveOptions(experimental_sharding_callback=policy)
        with tempfile.TemporaryDirectory() as tmp:
            tf.saved_model.save(module, tmp, signatures={"serving_default": module.serve}, options=options)
            os.remove(os.path.join(tmp, "fingerprint.pb"))  # holds a random id; nothing here reads it
            shutil.copytree(tmp, path)

    class Noisy(tf.Module):
        """y reads a variable, so TF ties every output to the reads with a control edge (^NoOp)."""

        def __init__(self, frozen: bool):
            self.frozen = frozen
            self.scale = tf.Variable(0.5)

        @tf.function(input_signature=[x_spec])
        def serve(self, x):
            if self.frozen:  # the tf.function trap: numpy draws once, while tracing; a constant is saved
                noise = tf.constant(np.random.default_rng(0).normal(), tf.float32)
            else:
                noise = tf.random.normal([])
            return {"y": x * self.scale + 2.0, "noise": noise}

    class Logging(tf.Module):
        """Reads a file and stamps the time on every request (unsafe), and prints (allowed by args.txt)."""

        def __init__(self, unsafe: bool):
            self.unsafe = unsafe
            self.scale = tf.Variable(0.5)

        @tf.function(input_signature=[x_spec])
        def serve(self, x):
            outputs = {"y": x * self.scale + 2.0}
            if self.unsafe:
                tf.print("request at", tf.timestamp())
                outputs["labels"] = tf.io.read_file("/srv/models/half_plus_two/labels.txt")
            else:
                tf.print("request")
            return outputs

    class Regressor(tf.Module):
        def __init__(self):
            self.w = tf.Variable([[0.5]], name="w")
            self.b = tf.Variable([2.0], name="b")

        @tf.function(input_signature=[x_spec])
        def serve(self, x):
            return {"y": tf.matmul(x, self.w) + self.b}

    class Vocabulary(tf.Module):
        """Maps words to ids with a table that TensorFlow fills from assets/vocab.txt when the model loads."""

        def __init__(self, path: str):
            init = tf.lookup.TextFileInitializer(
                path, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER
            )
            self.table = tf.lookup.StaticHashTable(init, default_value=-1)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="words")])
        def serve(self, words):
            return {"ids": self.table.lookup(words)}

    # Always all of them, in this order: TF numbers its functions per process.
    save(Noisy(frozen=True), out / "GRAPH004" / "triggers" / "1")
    save(Noisy(frozen=False), out / "GRAPH004" / "clean" / "1")
    save(Logging(unsafe=True), out / "SEC001" / "triggers" / "1")
    save(Logging(unsafe=False), out / "SEC001" / "clean" / "1")
    save(Regressor(), out / "SERVE003" / "triggers" / "1", shard_bytes=4)
    save(Regressor(), out / "SERVE003" / "clean" / "1", shard_bytes=4)
    # Copied without its first data shard.
    os.remove(out / "SERVE003" / "triggers" / "1" / "variables" / "variables.data-00000-of-00002")
    # The table's shared_name holds the vocabulary's path as given: a relative one keeps the bytes the same.
    out, cwd = out.resolve(), os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            Path("vocab.txt").write_text("apple\nbanana\ncherry\n")
            save(Vocabulary("vocab.txt"), out / "SERVE004" / "triggers" / "1")
            save(Vocabulary("vocab.txt"), out / "SERVE004" / "clean" / "1")
        finally:
            os.chdir(cwd)
    # Copied without its assets/: the table's initializer cannot read its vocabulary when the model loads.
    os.remove(out / "SERVE004" / "triggers" / "1" / "assets" / "vocab.txt")
    os.rmdir(out / "SERVE004" / "triggers" / "1" / "assets")


def write(out: Path, *, proto: bool = True, tf: bool = True) -> list[Path]:
    owned = [r for r in OWNED if (proto and r in CASES) or (tf and r in TF_CASES)]
    out.mkdir(parents=True, exist_ok=True)
    for rule_id in owned:
        target = out / rule_id
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif os.path.lexists(target):
            target.unlink()
    for rel, data in sorted(build().items()):
        if rel.split("/")[0] in owned:
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    if tf:
        build_tf(out)
    return sorted(p for r in owned for p in (out / r).rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=RULES_DIR, help="output directory (default: testdata/rules/)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--no-tf", action="store_true", help="only the protobuf-built rules")
    which.add_argument("--tf-only", action="store_true", help="only the TensorFlow-built rules")
    args = parser.parse_args(argv)
    written = write(args.out, proto=not args.tf_only, tf=not args.no_tf)
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} files ({total} bytes) under {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
