"""`sigtool run --executor session|function` and run's messages: both executors agree where both work, the session
(the default, as TF Serving) runs what tf.saved_model.load cannot, and run stops early with a clear line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO, TESTDATA, assert_one_error_line, invoke

from sigtool import loader, runner
from sigtool.errors import SigtoolError

tf = pytest.importorskip("tensorflow")
np = pytest.importorskip("numpy")

HALF_PLUS_TWO = TESTDATA / "real" / "saved_model_half_plus_two_cpu"
KERAS_TFSAVE = TESTDATA / "tf" / "keras_functional_tfsave"
COMPOSITE = TESTDATA / "tf" / "tf1_composite_tensors"


@pytest.fixture(scope="module", autouse=True)
def _fresh_runner_cache():
    """Models loaded here (a counter's state included) do not leak into other test modules."""
    runner.clear_cache()
    yield
    runner.clear_cache()


def _models():
    """Every readable testdata model (Serving's, TensorFlow-written, run's) with the served MetaGraph's signatures."""
    cases = []
    for group in ("real", "tf", "run"):
        for path in sorted((TESTDATA / group).iterdir()):
            if not path.is_dir():
                continue
            try:
                mg = loader.load(str(path)).served_meta_graph
            except SigtoolError:
                mg = None  # unreadable on purpose (bad_half_plus_two...): other tests cover those
            if mg is not None:
                cases += [(path, s.key, mg.has_object_graph) for s in mg.signatures if not s.internal]
    return cases


def test_both_executors_agree_where_both_run():
    """--sample requests through both executors: the same body whenever the function path runs, and the session
    path (Serving's) runs whatever the function path runs - it only fails where TF Serving would fail too."""
    compared, function_only_fails = 0, []
    for path, key, tf2 in _models():
        results = {
            ex: invoke("run", path, "--signature", key, "--sample", "--seed", "3", "-f", "json", "--executor", ex)
            for ex in ("session", "function")
        }
        session, function = results["session"], results["function"]
        if function.exit_code == 0:
            assert session.exit_code == 0, (path.name, key, session.stderr)
            assert session.stdout == function.stdout, (path.name, key)
            compared += 1
        elif session.exit_code == 0:
            function_only_fails.append((path.name, key, tf2))
        else:  # both refuse: the same line (a sampling or Serving-format refusal, before or after TensorFlow)
            assert session.exit_code == function.exit_code, (path.name, key, session.stderr, function.stderr)
    assert compared >= 40
    assert ("legacy_optimizer_slots", "serving_default", True) in function_only_fails
    # otherwise only TF1 graphs, which tf.saved_model.load prunes into functions more strictly than a session runs
    assert all(not tf2 for name, _, tf2 in function_only_fails if name != "legacy_optimizer_slots"), function_only_fails


def test_unrestored_variables_fall_back_with_a_warning():
    feeds = {"instances": [{"inputs": [0.1, 0.2, 0.3, 0.4], "inputs_1": [1.0, 0.0]}]}
    result = invoke("run", KERAS_TFSAVE, "--input-json", json.dumps(feeds), "-f", "json")
    assert result.exit_code == 0, result.stderr
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("Warning: "), result.stderr
    assert "saver does not restore" in warnings[0] and "TF Serving" in warnings[0]
    function = invoke("run", KERAS_TFSAVE, "--input-json", json.dumps(feeds), "-f", "json", "--executor", "function")
    assert function.exit_code == 0 and function.stderr == ""
    assert function.stdout == result.stdout


# ---------------------------------------------------------------- messages


def test_no_input_lists_the_input_options():
    line = assert_one_error_line(invoke("run", HALF_PLUS_TWO), 2)
    assert "no input given" in line
    assert all(option in line for option in ("--input-json", "--inputs KEY=FILE", "--sample"))


def test_dir_is_an_alias_of_the_model_argument():
    body = '{"instances": [[1.0]]}'
    by_dir = invoke(
        "run",
        "--dir",
        HALF_PLUS_TWO,
        "--tag_set",
        "serve",
        "--signature_def",
        "serving_default",
        "--input-json",
        body,
        "-f",
        "json",
    )
    assert by_dir.exit_code == 0, by_dir.stderr
    assert by_dir.stdout == invoke("run", HALF_PLUS_TWO, "--input-json", body, "-f", "json").stdout
    assert "once" in assert_one_error_line(
        invoke("run", HALF_PLUS_TWO, "--dir", HALF_PLUS_TWO, "--input-json", body), 2
    )
    assert "--dir" in assert_one_error_line(invoke("run", "--input-json", body), 2)


def test_sample_only_options_need_sample():
    line = assert_one_error_line(invoke("run", HALF_PLUS_TWO, "--values-per-feature", "2", "--input-json", "{}"), 2)
    assert "--values-per-feature" in line


def test_missing_data_shard_stops_before_tensorflow(tmp_path):
    """SERVE003's finding, in a process where importing TensorFlow would fail: run never got that far."""
    model = tmp_path / "model"
    shutil.copytree(HALF_PLUS_TWO, model)
    (next(model.glob("*/variables")) / "variables.data-00000-of-00001").unlink()
    (finding,) = json.loads(invoke("check", model, "--select", "SERVE003", "-f", "json").stdout)["models"][0][
        "findings"
    ]
    code = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "tensorflow" or name.startswith("tensorflow."):
                    raise ImportError("blocked for the test")
        sys.meta_path.insert(0, Block())
        from sigtool.cli import main
        sys.argv = ["sigtool", "run", {str(model)!r}, "--input-json", '{{"instances": [[1.0]]}}']
        main()
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120, check=False
    )
    assert result.returncode == 3, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"Error: {finding['where']}: {finding['message']} (SERVE003)")


def test_sparse_input_advice_is_what_works(tmp_path):
    """A coo_sparse input has no tensor name, so no Serving request (REST or gRPC) can feed it; the advice points to
    --inputs with a dense array, and that runs."""
    line = assert_one_error_line(invoke("run", COMPOSITE, "--signature", "sparse_only", "--sample"), 2)
    assert "gRPC" in line and "no tensor name" in line and "--inputs" in line
    np.save(tmp_path / "sp.npy", np.array([[1.0, 0.0, 0.0, 2.0], [0.0, 0.0, 0.5, 0.0]], dtype=np.float32))
    result = invoke(
        "run", COMPOSITE, "--signature", "sparse_only", "--inputs", f"sp={tmp_path / 'sp.npy'}", "-f", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"outputs": [3.0, 0.5]}


def test_a_broken_tensorflow_install_is_one_error_line(tmp_path):
    """TensorFlow that fails while importing (here a stand-in package that logs to fd 2 and raises, as TF does beside
    an incompatible protobuf): its log stays captured, and the user gets one Error: line with the substance, exit 5."""
    fake = tmp_path / "site" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        textwrap.dedent("""
        import os
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
        os.write(2, b"E0000 00:00:1.0 1 descriptor.cc:1] File already exists in database: tensor.proto\\n")
        raise AttributeError("'MessageFactory' object has no attribute 'GetPrototype'")
    """)
    )
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TF_")}, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(
        [sys.executable, "-m", "sigtool", "run", str(HALF_PLUS_TWO), "--input-json", '{"instances": [[1.0]]}'],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 5, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("Note: ")]  # the version picked
    assert len(lines) == 1 and lines[0].startswith("Error: importing TensorFlow failed: AttributeError: "), lines
    assert "GetPrototype" in lines[0] and "File already exists in database" in lines[0]
