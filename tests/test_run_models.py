"""testdata/run/: the generator still builds the committed models, and each model still is what it stands for
(TensorFlow, installed in the test environment, is the oracle)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO, TESTDATA, assert_one_error_line, invoke

from sigtool import runner

tf = pytest.importorskip("tensorflow")
np = pytest.importorskip("numpy")

RUN = TESTDATA / "run"
GENERATOR = TESTDATA / "make_run_models.py"
LEGACY = RUN / "legacy_optimizer_slots"
VARLEN = RUN / "varlen_densify"


@pytest.fixture(scope="module", autouse=True)
def _fresh_runner_cache():
    """Models loaded here (a counter's state included) do not leak into other test modules."""
    runner.clear_cache()
    yield
    runner.clear_cache()


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_generator_reproduces_the_committed_models(tmp_path):
    """TF writes these deterministically except fingerprint.pb (it holds a fresh UUID): compare bytes, and what
    `sigtool show --all -f json` reports for each model."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in RUN.iterdir() if p.is_dir())
    for model in sorted(RUN.iterdir()):
        fresh = tmp_path / model.name
        assert _files(fresh) == _files(model), model.name
        for rel in _files(model):
            if rel != "fingerprint.pb":
                assert (fresh / rel).read_bytes() == (model / rel).read_bytes(), f"{model.name}/{rel} differs"
        shown = [invoke("show", path, "--all", "-f", "json") for path in (model, fresh)]
        assert all(r.exit_code == 0 for r in shown)
        committed, rebuilt = (json.loads(r.stdout.replace(str(p), "MODEL")) for r, p in zip(shown, (model, fresh)))
        assert rebuilt == committed


# ---------------------------------------------------------------- legacy_optimizer_slots


def test_tf_saved_model_load_refuses_the_legacy_optimizer_model():
    with pytest.raises(AttributeError, match="'_UserObject' object has no attribute 'add_slot'"):
        tf.saved_model.load(str(LEGACY))


def test_the_session_runs_it_as_serving_would():
    """The default executor restores the checkpoint through the SaverDef: x @ kernel + bias with the saved values."""
    reader = tf.train.load_checkpoint(str(LEGACY / "variables" / "variables"))
    names = {name.split("/")[0]: name for name in reader.get_variable_to_shape_map() if "OPTIMIZER_SLOT" not in name}
    kernel, bias = reader.get_tensor(names["kernel"]), reader.get_tensor(names["bias"])
    x = np.array([[1.0, 1.0], [0.5, -2.0]], dtype=np.float32)
    expected = (x @ kernel + bias).tolist()
    result = invoke("run", LEGACY, "--input-json", json.dumps({"instances": x.tolist()}), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"predictions": expected}
    assert result.stderr == ""


def test_the_function_executor_fails_on_it_with_one_line():
    result = invoke("run", LEGACY, "--executor", "function", "--input-json", '{"instances": [[1.0, 1.0]]}')
    line = assert_one_error_line(result, 5)
    assert "add_slot" in line and "drop --executor function" in line


# ---------------------------------------------------------------- varlen_densify


def _serialized(token: list[int], weight: float | None) -> bytes:
    feature = {"token": tf.train.Feature(int64_list=tf.train.Int64List(value=token))}
    if weight is not None:
        feature["weight"] = tf.train.Feature(float_list=tf.train.FloatList(value=[weight]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_sample_gives_one_value_per_varlen_feature_and_the_dense_default():
    result = invoke("run", VARLEN, "--sample", "--dry-run", "--batch", "3", "--seed", "4")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert len(body["examples"]) == 3
    for example in body["examples"]:
        assert len(example["token"]) == 1 and isinstance(example["token"][0], int)
        assert example["weight"] == [0.25]  # the FixedLenFeature's default_value, read from the graph
    more = json.loads(invoke("run", VARLEN, "--sample", "--dry-run", "--values-per-feature", "3").stdout)
    assert len(more["examples"][0]["token"]) == 3


def test_sample_runs_and_equals_the_request_built_by_hand(tmp_path):
    body = json.loads(invoke("run", VARLEN, "--sample", "--dry-run", "--batch", "2").stdout)
    sampled = invoke("run", VARLEN, "--sample", "--batch", "2", "--outdir", tmp_path / "sampled")
    assert sampled.exit_code == 0, sampled.stderr
    # the same examples, serialized by TensorFlow and fed as the signature's input tensor
    examples = np.array([_serialized(e["token"], e["weight"][0]) for e in body["examples"]], dtype=object)
    np.save(tmp_path / "examples.npy", examples.astype(bytes), allow_pickle=False)
    by_hand = invoke("run", VARLEN, "--inputs", f"inputs={tmp_path / 'examples.npy'}", "--outdir", tmp_path / "hand")
    assert by_hand.exit_code == 0, by_hand.stderr
    sampled_out = np.load(tmp_path / "sampled" / "outputs.npy")
    assert sampled_out.tolist() == np.load(tmp_path / "hand" / "outputs.npy").tolist()
    assert sampled_out.tolist() == [[e["token"][0] * 2.0 + 0.25] for e in body["examples"]]


def test_two_values_in_the_varlen_feature_fail_as_in_the_wild(tmp_path):
    """What `run --sample` used to send: TensorFlow refuses it; the user gets one Error: line, exit 5."""
    result = invoke("run", VARLEN, "--sample", "--values-per-feature", "2")
    line = assert_one_error_line(result, 5)
    assert "out of bounds" in line
    np.save(tmp_path / "two.npy", np.array([_serialized([1, 2], None)]), allow_pickle=False)
    result = invoke("run", VARLEN, "--inputs", f"inputs={tmp_path / 'two.npy'}")
    assert "out of bounds" in assert_one_error_line(result, 5)
