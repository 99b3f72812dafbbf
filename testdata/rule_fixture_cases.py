"""The rule fixtures themselves: for each rule make_rule_fixtures.py owns, what must fire and on what.

CASES: the protobuf-built rules, one function each returning (triggers files, clean files or None),
paths relative to the fixture directory. TF_CASES: the rules whose models TensorFlow writes
(make_rule_fixtures.build_tf). Imported by make_rule_fixtures.py, which sets up sys.path first.
"""

from __future__ import annotations

from dataclasses import dataclass

import make_testdata as mt
from google.protobuf import text_format
from make_testdata import DT, PREDICT, const, node, placeholder, serialize
from rule_fixture_graphs import PB, classify_model, pb, predict_model, regress_model, tfrecord

from sigtool._proto import manifest_pb2, meta_graph_pb2, prediction_log_pb2


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
