"""Warmup files sigtool writes, read back by TensorFlow's TFRecord reader and parsed by the official
tensorflow_serving.apis.prediction_log_pb2 (tensorflow-serving-api, installed --no-deps by the Makefile):
each request equals the REST body it came from.
"""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import REAL, TESTDATA, invoke

from sigtool import loader, sample

tf = pytest.importorskip("tensorflow")
prediction_log_pb2 = pytest.importorskip("tensorflow_serving.apis.prediction_log_pb2")
np = pytest.importorskip("numpy")

CPU = REAL / "saved_model_half_plus_two_cpu"
ROW = {"instances": [[1.0], [2.5]]}
COLUMNAR = {"signature_name": "serving_default", "inputs": {"x": [[3.0], [4.0], [5.0]]}}
CLASSIFY = {
    "signature_name": "classify_x_to_y",
    "context": {"x": 1.5, "tag": "ctx", "ids": [1, 2]},
    "examples": [{"x": 2.0}, {"x": [3.0, 4.5], "word": {"b64": "aGk="}}],
}
REGRESS = {"signature_name": "regress_x_to_y", "examples": [{"x": -1.0}]}


def _records(path) -> list:
    """The file as TensorFlow reads it, each record parsed with TF Serving's own PredictionLog."""
    return [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]


def _features(example) -> dict:
    """A tf.train.Example's features as the JSON a REST body would give them."""
    out = {}
    for key, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        values = list(getattr(feature, kind).value) if kind else []
        if kind == "bytes_list":
            values = [v.decode() if v != b"hi" else {"b64": "aGk="} for v in values]
        out[key] = values
    return out


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _assert_predict(log, body, signature="serving_default"):
    request = log.predict_log.request
    assert log.WhichOneof("log_type") == "predict_log"
    assert request.model_spec.signature_name == signature
    tensors = body.get("inputs")
    if tensors is None:
        instances = body["instances"]
        tensors = (
            {"x": instances}
            if not isinstance(instances[0], dict)
            else {k: [i[k] for i in instances] for k in instances[0]}
        )
    assert sorted(request.inputs) == sorted(tensors)
    for key, value in tensors.items():
        got = tf.make_ndarray(request.inputs[key])
        want = np.array(value, dtype=got.dtype)
        assert got.shape == want.shape and np.array_equal(got, want), (key, got, want)


def _assert_examples(log, body, kind):
    assert log.WhichOneof("log_type") == kind
    request = getattr(log, kind).request
    assert request.model_spec.signature_name == body["signature_name"]
    which = request.input.WhichOneof("kind")
    assert which == ("example_list_with_context" if "context" in body else "example_list")
    examples = getattr(request.input, which)
    assert [_features(e) for e in examples.examples] == [
        {k: _listed(v) for k, v in e.items()} for e in body["examples"]
    ]
    if "context" in body:
        assert _features(examples.context) == {k: _listed(v) for k, v in body["context"].items()}


def test_bodies_read_back_by_tensorflow_and_serving_api(tmp_path):
    model = tmp_path / "m"
    shutil.copytree(CPU, model)
    bodies = [ROW, COLUMNAR, CLASSIFY, REGRESS]
    args = [a for b in bodies for a in ("--input-json", json.dumps(b))]
    result = invoke("warmup", "write", model, "--in-place", *args, "--sample", "--batch", "1", "--batch", "8")
    assert result.exit_code == 0, result.stderr
    path = model / "00000123" / "assets.extra" / "tf_serving_warmup_requests"
    logs = _records(path)
    assert len(logs) == 6
    _assert_predict(logs[0], ROW)
    _assert_predict(logs[1], COLUMNAR)
    _assert_examples(logs[2], CLASSIFY, "classify_log")
    _assert_examples(logs[3], REGRESS, "regress_log")
    info = loader.load(str(model), graph=True)
    mg = info.served_meta_graph
    for log, batch in zip(logs[4:], (1, 8)):
        body = sample.sample_request(mg, mg.signature("serving_default"), batch=batch, seed=0)
        _assert_predict(log, body)
        assert tf.make_ndarray(log.predict_log.request.inputs["x"]).shape[0] == batch
    assert all(log.predict_log.request.model_spec.name == "default" for log in logs[:2])
    check = invoke("check", "--select", "SERVE006", model)
    assert check.exit_code == 0, check.stdout


def test_sample_of_example_model_reads_back(tmp_path):
    """A TF2 model fed tf.Examples: --sample writes examples bodies, which TF's parser can read."""
    model = TESTDATA / "tf" / "tf2_warmup"
    out = tmp_path / "w"
    info = loader.load(str(model), graph=True)
    mg = info.served_meta_graph
    sig = mg.signature("serving_default")
    result = invoke("warmup", "write", model, "-o", out, "--sample", "--batch", "3")
    if result.exit_code != 0:
        pytest.skip(f"tf2_warmup cannot be sampled: {result.stderr}")
    (log,) = _records(out)
    body = sample.sample_request(mg, sig, batch=3, seed=0)
    if "examples" in body:
        kind = log.WhichOneof("log_type")
        _assert_examples(log, body, kind)
    else:
        _assert_predict(log, body)
