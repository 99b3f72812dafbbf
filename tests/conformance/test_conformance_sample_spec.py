"""sigtool.sample's tf.Example feature specs, read from the graphs, against the corpus's facts.

The specs must match MANIFEST.json's feature specs and the Examples TensorFlow was run with (expected/).
Synthetic graphs for what the corpus lacks (sparse and ragged features, nested calls, ParseExample v1,
ParseSingleExample, unreadable keys, call cycles) are tested in tests/test_sample.py. No TensorFlow is needed.
"""

from __future__ import annotations

import base64
import json
from functools import cache

import pytest
from corpus_facts import CORPUS

from sigtool.loader import load
from sigtool.model import PREDICT, MetaGraph, Signature, TensorSpec
from sigtool.sample import example_spec, sample_request

MANIFEST = json.loads((CORPUS / "generated" / "MANIFEST.json").read_text())


@cache
def loaded(rel: str):
    return load(str(CORPUS / rel), graph=True)


def example_features(serialized: bytes) -> dict[str, str]:
    """feature key -> kind of a serialized tf.Example (a tiny wire reader: the facts come from TF's runs)."""

    def fields(buf: bytes):
        i = 0
        while i < len(buf):
            tag, i = varint(buf, i)
            assert tag & 7 == 2
            size, i = varint(buf, i)
            yield tag >> 3, buf[i : i + size]
            i += size

    def varint(buf: bytes, i: int):
        shift = value = 0
        while True:
            b = buf[i]
            value |= (b & 0x7F) << shift
            i, shift = i + 1, shift + 7
            if b < 0x80:
                return value, i

    out = {}
    for _, features in fields(serialized):
        for _, entry in fields(features):
            parts = dict(fields(entry))
            number = next(n for n, _ in fields(parts[2])) if parts.get(2) else 0
            out[parts[1].decode()] = {1: "DT_STRING", 2: "DT_FLOAT", 3: "DT_INT64"}.get(number, "")
    return out


def recorded_example_features(rel: str, key: str) -> dict[str, str]:
    """The features (union) of the Examples TF was run with for this signature (expected/<name>.json)."""
    name = rel.split("/")[1]
    facts = json.loads((CORPUS / "expected" / f"{name}.json").read_text())["dirs"][rel]
    found = {}
    for run in facts.get("runs", []):
        if run["signature_name"] == key and "error" not in run:
            for value in run["inputs"]["inputs"]:
                found.update(example_features(base64.b64decode(value["b64"])))
    return found


@pytest.mark.parametrize(
    "rel", ["real/saved_model_half_plus_two_cpu/00000123", "real/saved_model_half_plus_two_tf2_cpu/00000123"]
)
@pytest.mark.parametrize("key", ["classify_x_to_y", "regress_x_to_y", "regress_x_to_y2"])
def test_half_plus_two_example_spec(rel, key):
    mg = loaded(rel).meta_graphs[0]
    spec = example_spec(mg, mg.signature(key).inputs[0])
    assert spec is not None
    recorded = recorded_example_features(rel, key)
    assert recorded == {"x": "DT_FLOAT", "x2": "DT_FLOAT"}
    assert {f.key: f.dtype for f in spec.features} == recorded
    x, x2 = spec.feature("x"), spec.feature("x2")
    assert (x.kind, x.shape, x.required) == ("dense", (1,), True)  # tf.io.FixedLenFeature([1], tf.float32)
    assert (x2.kind, x2.shape, x2.default, x2.required) == ("dense", (1,), (0.0,), False)  # default_value=[0.0]
    if mg.has_object_graph:  # TF2: found inside the function the signature's StatefulPartitionedCall runs
        assert spec.op == "ParseExampleV2" and "/" in spec.node and spec.node.startswith("__inference_")
        assert not loaded(rel).meta_graphs[0].graph.node(spec.node.split("/", 1)[1])
    else:
        assert spec.op == "ParseExample" and mg.graph.node(spec.node).op == "ParseExample"


MANIFEST_DTYPES = {"float32": "DT_FLOAT", "int64": "DT_INT64", "string": "DT_STRING"}


@pytest.mark.parametrize(
    "model,keys",
    [
        (
            "tf1_classify_regress_predict",
            [
                "serving_default",
                "classify",
                "classify_classes_only",
                "classify_scores_only",
                "regress",
                "predict_examples",
            ],
        ),
        ("tf1_pbtxt", ["regress"]),
    ],
)
def test_generated_example_spec_matches_manifest(model, keys):
    wanted = MANIFEST[model]["feature_spec"]
    mg = loaded(f"generated/{model}").meta_graphs[0]
    for key in keys:
        spec = example_spec(mg, mg.signature(key).inputs[0])
        assert spec is not None and spec.op == "ParseExampleV2", key
        assert sorted(f.key for f in spec.features) == sorted(wanted)
        for f in spec.features:
            facts = wanted[f.key]
            assert facts["type"] == "FixedLenFeature" and f.kind == "dense"
            assert f.dtype == MANIFEST_DTYPES[facts["dtype"]]
            assert list(f.shape) == facts["shape"]
            assert f.required == (facts["default_value"] is None)
            if facts["default_value"] is not None:
                assert list(f.default) == facts["default_value"]


def test_no_spec_where_nothing_parses_examples():
    mg = loaded("generated/tf1_invalid_classify").meta_graphs[0]
    for key in ("classify_valid", "classify_wrong_input_key", "classify_two_inputs"):
        sig = mg.signature(key)
        assert all(example_spec(mg, t) is None for t in sig.inputs)
        body = sample_request(mg, sig)
        assert "instances" in body  # a predict body with plain words
    mg = loaded("generated/tf2_assets_lookup").meta_graphs[0]
    assert example_spec(mg, mg.signature("serving_default").inputs[0]) is None
    info = load(str(CORPUS / "real/saved_model_half_plus_two_cpu/00000123"))  # no graph read: nothing to follow
    mg = info.meta_graphs[0]
    assert example_spec(mg, mg.signature("classify_x_to_y").inputs[0]) is None
    assert sample_request(mg, mg.signature("classify_x_to_y"))["inputs"]["inputs"][0] in sample_words()


def sample_words() -> set[str]:
    mg = MetaGraph(("serve",), ())
    sig = Signature("s", PREDICT, (TensorSpec("w", "DT_STRING", (-1,), True, "name", "w:0"),), ())
    return {w for seed in range(5) for w in sample_request(mg, sig, batch=50, seed=seed)["instances"]}


def test_predict_signature_fed_examples_gets_serialized_examples():
    """predict_examples: key "examples", not "inputs", so a predict body whose strings are serialized Examples."""
    mg = loaded("generated/tf1_classify_regress_predict").meta_graphs[0]
    body = sample_request(mg, mg.signature("predict_examples"), batch=3, seed=2)
    assert set(body) == {"signature_name", "instances"} and len(body["instances"]) == 3
    wanted = {
        k: MANIFEST_DTYPES[v["dtype"]] for k, v in MANIFEST["tf1_classify_regress_predict"]["feature_spec"].items()
    }
    for value in body["instances"]:
        assert example_features(base64.b64decode(value["b64"])) == wanted
