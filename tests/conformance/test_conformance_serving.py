"""The serving JSON codec end to end on a corpus model, against TensorFlow's recorded run."""

from __future__ import annotations

import base64
import json

import pytest
from corpus_facts import GEN, facts_of

from sigtool.model import CLASSIFY, Signature, TensorSpec
from sigtool.serving.examples import build_examples
from sigtool.serving.requests import parse_request
from sigtool.serving.responses import format_classify_response
from sigtool.serving.values import Tensor

CLASSIFY_SIG = Signature(
    "serving_default",
    CLASSIFY,
    (TensorSpec(key="inputs", dtype="DT_STRING", shape=None, shape_present=False, encoding="name", name="inputs:0"),),
    (),
)


def test_a_corpus_model_classifies_our_examples_as_tensorflow_recorded():
    # end to end on a model sigtool did not write: JSON examples -> tf.Example bytes -> TF -> classify body
    tf = pytest.importorskip("tensorflow")
    example_pb2 = pytest.importorskip("tensorflow.core.example.example_pb2")
    name = "tf1_classify_regress_predict"
    facts = facts_of(name)
    [run] = [r for d in facts["dirs"].values() for r in d["runs"] if r["signature_name"] == "serving_default"]
    req = parse_request(
        '{"examples": [{"color": "green", "x": 1.0, "x2": 4.0}, {"x": 3.0}, {"color": "blue", "x": -2.0}]}',
        CLASSIFY_SIG,
    )
    blobs = build_examples(req)
    recorded = [base64.b64decode(item["b64"]) for item in run["inputs"]["inputs"]]
    assert [example_pb2.Example.FromString(b) for b in blobs] == [example_pb2.Example.FromString(b) for b in recorded]

    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], str(GEN / name))
        sd = meta.signature_def["serving_default"]
        out = sess.run({k: sd.outputs[k].name for k in ("classes", "scores")}, {sd.inputs["inputs"].name: blobs})
    classes = Tensor("DT_STRING", out["classes"].shape, tuple(out["classes"].flatten().tolist()))
    scores = Tensor("DT_FLOAT", out["scores"].shape, tuple(out["scores"].flatten().tolist()))
    body = format_classify_response(classes, scores, len(blobs))
    assert body.startswith('{\n    "results": [[["red", ') and body.endswith("]]\n    ]\n}")
    want = zip(run["outputs"]["classes"]["value"], run["outputs"]["scores"]["value"])
    for got, (labels, values) in zip(json.loads(body)["results"], want):
        assert [label for label, _ in got] == labels
        assert [score for _, score in got] == pytest.approx(values, rel=1e-6)
