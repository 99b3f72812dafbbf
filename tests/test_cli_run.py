"""`sigtool run` end to end: TF Serving's REST goldens, input checks before TensorFlow, files written only on
request."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import malformed
import pytest
from conftest import GEN, REAL, REPO, assert_one_error_line, invoke

TWO = REAL / "saved_model_half_plus_two_2_versions"
CPU = REAL / "saved_model_half_plus_two_cpu"
TF2 = REAL / "saved_model_half_plus_two_tf2_cpu"


def needs_tf(test):
    """Runs TensorFlow: marked tf (not in `make test-fast`), skipped where TensorFlow is not installed."""
    installed = importlib.util.find_spec("tensorflow") is not None
    return pytest.mark.tf(pytest.mark.skipif(not installed, reason="TensorFlow is not installed")(test))


def compact(body: str) -> str:
    """Serving's bodies compared the way its docker test does: whitespace stripped."""
    return "".join(body.split())


# TF Serving's end-to-end REST cases: (model, extra args, request) -> response
REST_GOLDENS = [
    (TWO, ["--version", "123"], '{"instances": [[1.0, 2.0], [3.0, 4.0]]}', '{"predictions": [[2.5, 3.0], [3.5, 4.0]]}'),
    (TWO, ["--version", "123"], '{"instances": [1.0, 2.0]}', '{"predictions": [2.5, 3.0]}'),
    (
        TWO,
        ["--version", "123"],
        '{"signature_name": "serving_default", "instances": [3.0, 4.0]}',
        '{"predictions": [3.5, 4.0]}',
    ),
    (
        TWO,
        ["--version", "123"],
        '{"signature_name": "serving_default", "inputs": [3.0, 4.0]}',
        '{"outputs": [3.5, 4.0]}',
    ),
    (
        TWO,
        ["--version", "123"],
        '{"signature_name": "regress_x_to_y", "examples": [ { "x": 80.0 } ] }',
        '{"results": [42.0]}',
    ),
    (
        TWO,
        ["--version", "123"],
        '{"signature_name": "classify_x_to_y", "examples": [ { "x": 20.0 } ] }',
        '{"results": [[["", 12.0]]]}',
    ),
    (
        TWO,
        ["--version", "123"],
        '{"signature_name": "classify_x_to_y", "examples": [ { "x": 10.0 } ] }',
        '{"results": [[["", 7.0]]]}',
    ),
    (CPU, [], '{"instances": [2.0, 3.0, 4.0]}', '{"predictions": [3.0, 3.5, 4.0]}'),
    (CPU, [], '{"inputs": [2.0, 3.0, 4.0]}', '{"outputs": [3.0, 3.5, 4.0]}'),
    (CPU, [], '{"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}', '{"results": [[["", 3.0]]]}'),
    (CPU, [], '{"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}', '{"results": [3.0]}'),
    (CPU, [], '{"instances": [1.0,2.0,5.0]}', '{"predictions":[2.5,3.0,4.5]}'),
]


@needs_tf
@pytest.mark.parametrize(
    "model,extra,request_body,response", REST_GOLDENS, ids=[f"{m.name}:{r[:40]}" for m, _, r, _ in REST_GOLDENS]
)
def test_rest_goldens(model, extra, request_body, response):
    result = invoke("run", model, *extra, "--input-json", request_body, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert compact(result.stdout) == compact(response)
    assert "Traceback" not in result.stderr


@needs_tf
def test_response_layout_is_servings_byte_for_byte():
    result = invoke("run", CPU, "--input-json", '{"instances": [2.0, 3.0, 4.0]}', "-f", "json")
    assert result.stdout == '{\n    "predictions": [3.0, 3.5, 4.0\n    ]\n}\n'
    result = invoke("run", CPU, "--input-json", '{"inputs": [2.0, 3.0, 4.0]}', "-f", "json")
    assert result.stdout == '{\n    "outputs": [\n        3.0,\n        3.5,\n        4.0\n    ]\n}\n'


@needs_tf
def test_input_sources(tmp_path):
    request = tmp_path / "req.json"
    request.write_text('{"instances": [[1.0]]}')
    from_file = invoke("run", CPU, "--input-json", f"@{request}", "-f", "json")
    from_stdin = invoke("run", CPU, "--input-json", "-", "-f", "json", input='{"instances": [[1.0]]}')
    assert from_file.stdout == from_stdin.stdout
    assert compact(from_file.stdout) == '{"predictions":[[2.5]]}'

    import numpy as np

    np.save(tmp_path / "x.npy", np.array([[1.0], [2.0]], dtype=np.float32))
    np.savez(tmp_path / "xs.npz", a=np.array([[3.0]], dtype=np.float32), b=np.array([[5.0]], dtype=np.float32))
    npy = invoke("run", CPU, "--inputs", f"x={tmp_path / 'x.npy'}", "-f", "json")
    assert compact(npy.stdout) == '{"outputs":[[2.5],[3.0]]}', npy.stderr
    npz = invoke("run", CPU, "--inputs", f"x={tmp_path / 'xs.npz'}[b]", "-f", "json")
    assert compact(npz.stdout) == '{"outputs":[[4.5]]}', npz.stderr


@needs_tf
def test_zero_input_signature_runs_without_input():
    result = invoke("run", REAL / "saved_model_counter", "--signature", "get_counter", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert compact(result.stdout) == '{"outputs":0.0}'


@needs_tf
def test_outdir_writes_npy_and_refuses_to_overwrite(tmp_path):
    import numpy as np

    out = tmp_path / "out"
    first = invoke("run", CPU, "--input-json", '{"instances": [[1.0]]}', "--outdir", out)
    assert first.exit_code == 0, first.stderr
    assert np.load(out / "y.npy").tolist() == [[2.5]]
    again = invoke("run", CPU, "--input-json", '{"instances": [[3.0]]}', "--outdir", out)
    assert "--overwrite" in assert_one_error_line(again, 2)
    assert np.load(out / "y.npy").tolist() == [[2.5]]  # nothing was touched
    forced = invoke("run", CPU, "--input-json", '{"instances": [[3.0]]}', "--outdir", out, "--overwrite")
    assert forced.exit_code == 0 and np.load(out / "y.npy").tolist() == [[3.5]]


@needs_tf
def test_summary_on_a_terminal_lists_each_output():
    result = invoke("run", TF2, "--input-json", '{"instances": [[1.0]]}', "--signature", "serving_default")
    assert result.exit_code in (0, 5)


@needs_tf
def test_sample_runs_classify_on_serialized_examples():
    result = invoke("run", TF2, "--signature", "classify_x_to_y", "--sample", "--batch", "2", "-f", "json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert len(body["results"]) == 2 and body["results"][0][0][0] == ""


@pytest.mark.slow
def test_sample_dry_run_prints_the_request_without_tensorflow():
    code = (
        "import sys\nfrom sigtool.cli import cli\n"
        "try:\n"
        f"    cli(['run', {str(CPU)!r}, '--signature', 'regress_x_to_y', '--sample', '--dry-run', '--batch', '2'])\n"
        "except SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "assert 'tensorflow' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["signature_name"] == "regress_x_to_y" and len(body["examples"]) == 2


# --- everything is checked before TensorFlow is imported ----------------------------------

BAD_REQUESTS = [
    ("", "document is empty"),
    ("instances = [1, 2]", "Invalid value"),
    ('{"instances": ["x", "y"]}', "not of expected type: float"),
    ('{ "signature_name": 100 }', "must be a string value"),
    ('{"instances": [1], "inputs": [1]}', "only one of 'inputs' or 'instances'"),
    ('{"instances": []}', "No values in 'instances' array"),
    ('{"foo": 1}', "Missing 'inputs' or 'instances' key"),
    ('{"instances": [[1.0], [[2.0]]]}', "Expecting shape"),
    ('{"signature_name": "nope", "instances": [1.0]}', "not found in signature def"),
    ('{"inputs": {"q": [1.0]}}', "Missing named input: x"),
    ('{"signature_name": "classify_x_to_y", "examples": [{"x": [1, null]}]}', "unexpected JSON type: Null"),
]


@pytest.mark.slow
@pytest.mark.parametrize("body,expected", BAD_REQUESTS, ids=[b[:30] or "empty" for b, _ in BAD_REQUESTS])
def test_bad_requests_fail_before_tensorflow(body, expected):
    code = (
        "import sys\nfrom sigtool.cli import cli\n"
        "try:\n"
        f"    cli(['run', {str(CPU)!r}, '--input-json', {body!r}])\n"
        "except SystemExit as e:\n    print('exit', e.code)\n"
        "print('tensorflow' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.stdout.split() == ["exit", "2", "False"], result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_strict_shapes_refuses_what_serving_would_send():
    message = assert_one_error_line(invoke("run", CPU, "--input-json", '{"instances": [1.0]}', "--strict-shapes"), 2)
    assert "declares [-1,1]" in message


def test_unknown_npy_key_lists_the_expected_ones(tmp_path):
    message = assert_one_error_line(invoke("run", CPU, "--inputs", f"q={tmp_path / 'q.npy'}"), 2)
    assert "unknown key(s) q" in message and "expected: x" in message


def test_one_input_source_only():
    assert_one_error_line(invoke("run", CPU, "--sample", "--input-json", "{}"), 2)
    assert_one_error_line(invoke("run", CPU, "--dry-run"), 2)


def test_unsafe_models_are_refused_before_loading():
    message = assert_one_error_line(
        invoke("run", GEN / "tf1_denylisted_ops", "--input-json", '{"instances": [1.0]}'), 1
    )
    assert "--allow-unsafe-ops" in message


@pytest.mark.slow
def test_tensorflow_missing_is_one_line_exit_4():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'tensorflow':\n"
        "            raise ImportError('blocked for the test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from sigtool.cli import main\n"
        f"sys.argv = ['sigtool', 'run', {str(CPU)!r}, '--input-json', '{{\"instances\": [[1.0]]}}']\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 4, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "pip install" in errors[0] and "Traceback" not in result.stderr


# --- malformed inputs (tests/malformed.py) through run --sample --dry-run ---------------------------

# Those TensorFlow's reader accepts with at least one MetaGraph (test_hardening asks TF live which they are).
READABLE = {
    "schema_version_99",
    "nested_depth_86",
    "nested_depth_100",
    "both_pb_and_pbtxt",
    "missing_variables_tf1",
    "missing_variables_tf2",
    "variables_index_missing",
}


@pytest.mark.parametrize("name", sorted(malformed.CASES))
def test_bad_inputs_through_sample_dry_run(name, tmp_path):
    result = invoke("run", malformed.build(name, tmp_path), "--sample", "--dry-run")
    assert "Traceback" not in result.stderr
    if name not in READABLE:
        assert_one_error_line(result, 3)
    elif result.exit_code == 0:
        assert "signature_name" in json.loads(result.stdout)
    else:
        assert_one_error_line(result, 2)  # a signature sample cannot be made for (no inputs, no signature...)
