"""sigtool.runner against TensorFlow itself on testdata/ models: Serving's end-to-end REST facts, .npy I/O.

Every run the shared corpus records is replayed in tests/conformance/test_conformance_runner.py.
"""

from __future__ import annotations

import base64
import math
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO, TESTDATA

from sigtool import loader, runner
from sigtool.errors import ExitCode, RunError, TensorFlowMissing, UsageError
from sigtool.serving.examples import encode_example
from sigtool.serving.values import Feature, Tensor

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as runner sets it; this module imports TensorFlow first
tf = pytest.importorskip("tensorflow")
np = pytest.importorskip("numpy")

RTOL, ATOL = 1e-5, 1e-6


# -------------------------------------------------------------- helpers (the corpus's recorded runs: tests/conformance)


_infos: dict[str, object] = {}


def _info(rel: str):
    if rel not in _infos:
        _infos[rel] = loader.load(str(TESTDATA / rel))
    return _infos[rel]


@pytest.fixture(scope="module", autouse=True)
def _fresh_runner_cache():
    """Models load once for this module (runner's cache); nothing leaks into other modules."""
    runner.clear_cache()
    yield
    runner.clear_cache()


def _model_dir(info) -> str:
    return os.path.dirname(info.source) or "."


def _leaf(value, dtype: str):
    if dtype == "DT_STRING":
        if isinstance(value, dict):
            return base64.b64decode(value["b64"])
        return value.encode("utf-8")
    if isinstance(value, str):  # "NaN", "Infinity", "-Infinity"
        return float(value.replace("Infinity", "inf"))
    return value


def _flatten(value, dtype: str) -> tuple[tuple[int, ...], list]:
    """A recorded nested value as (shape, flat values), complex {"real","imag"} included."""
    if isinstance(value, dict) and "real" in value:
        shape, real = _flatten(value["real"], "DT_DOUBLE")
        _, imag = _flatten(value["imag"], "DT_DOUBLE")
        return shape, [complex(r, i) for r, i in zip(real, imag)]
    if not isinstance(value, list):
        return (), [_leaf(value, dtype)]
    if not value:
        return (0,), []
    parts = [_flatten(v, dtype) for v in value]
    assert all(p[0] == parts[0][0] for p in parts), "ragged recorded value"
    return (len(value),) + parts[0][0], [x for p in parts for x in p[1]]


def _feed(spec, value) -> Tensor:
    dtype = spec.dtype.removesuffix("_REF")
    if isinstance(value, dict) and "coo" in value:  # a coo_sparse input, given densely
        coo = value["coo"]
        dense = np.zeros(coo["dense_shape"], dtype=np.float64)
        for index, v in zip(coo["indices"], coo["values"]):
            dense[tuple(index)] = v
        return Tensor(dtype, tuple(dense.shape), tuple(dense.reshape(-1).tolist()))
    if isinstance(value, dict) and "components" in value:  # composite: runner refuses it before anything runs
        return Tensor(dtype if dtype != "DT_INVALID" else "DT_FLOAT", (0,), ())
    shape, flat = _flatten(value, dtype)
    return Tensor(dtype, shape, tuple(flat))


def _close(a, b) -> bool:
    if isinstance(a, complex) or isinstance(b, complex):
        return _close(complex(a).real, complex(b).real) and _close(complex(a).imag, complex(b).imag)
    if isinstance(a, float) or isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)
    return a == b and type(a) is type(b)


def assert_tensor(actual: Tensor, dtype: str, shape, flat) -> None:
    assert actual.dtype == dtype
    assert actual.shape == tuple(shape)
    assert len(actual.values) == len(flat)
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(actual.values, flat)) if not _close(a, b)]
    assert not bad, f"values differ at (index, got, expected): {bad[:5]}"


def _unsupported(sig) -> bool:
    specs = [(t, "input") for t in sig.inputs] + [(t, "output") for t in sig.outputs]
    return any(t.encoding != "name" and not (io == "input" and t.encoding == "coo_sparse") for t, io in specs)


def _keeps_state(mg) -> bool:
    """Signatures that hand out variables by reference (DT_*_REF) change them: each recorded run had a fresh load."""
    return any(t.dtype.endswith("_REF") for s in mg.signatures for t in s.outputs)


def assert_one_line(error: Exception) -> str:
    message = error.format_message()
    assert message and "\n" not in message and "Traceback" not in message
    return message


# ---------------------------------------------------------------- behaviour beyond the records

HALF_PLUS_TWO = TESTDATA / "real" / "saved_model_half_plus_two_2_versions" / "00000123"


def _run(path, key, feeds, **kwargs):
    info = _info(str(os.path.relpath(path, TESTDATA)))
    mg = info.meta_graph(("serve",))
    return runner.execute(_model_dir(info), mg.tags, mg.signature(key), feeds, **kwargs)


def test_shapes_are_not_checked_like_serving():
    """REST {"instances": [1.0, 2.0]} feeds [2] into x:0 declared [-1,1]: Serving answers [2.5, 3.0]."""
    outputs = _run(HALF_PLUS_TWO, "serving_default", {"x": Tensor("DT_FLOAT", (2,), (1.0, 2.0))})
    assert outputs == {"y": Tensor("DT_FLOAT", (2,), (2.5, 3.0))}


@pytest.mark.parametrize("key,x,expected", [("regress_x_to_y", 80.0, 42.0), ("classify_x_to_y", 20.0, 12.0)])
def test_examples_like_serving(key, x, expected):
    example = encode_example({"x": Feature("float_list", (x,))})
    outputs = _run(HALF_PLUS_TWO, key, {"inputs": Tensor("DT_STRING", (1,), (example,))})
    (out,) = outputs.values()
    assert out.dtype == "DT_FLOAT" and out.shape == (1, 1) and out.values == (expected,)


def test_feeds_are_cast_to_the_signature_dtype():
    """A float64 array (np.load of [1.0]) goes in as the placeholder's DT_FLOAT, as Session.run casts."""
    outputs = _run(HALF_PLUS_TWO, "serving_default", {"x": Tensor("DT_DOUBLE", (1, 1), (4.0,))})
    assert outputs == {"y": Tensor("DT_FLOAT", (1, 1), (4.0,))}


def test_text_into_a_float_tensor_fails_as_in_serving():
    """classify_x2_to_y3 declares a DT_FLOAT input: serialized Examples reach the session, which refuses them."""
    example = encode_example({"x2": Feature("float_list", (1.0,))})
    with pytest.raises(RunError, match="classify_x2_to_y3") as caught:
        _run(HALF_PLUS_TWO, "classify_x2_to_y3", {"inputs": Tensor("DT_STRING", (1,), (example,))})
    assert "dtype" in assert_one_line(caught.value)


@pytest.mark.parametrize("device", [None, "cpu"])
def test_gpu_pinned_model_runs_with_soft_placement(device):
    """The corpus records that TF (hard placement, no GPU) cannot run it; soft placement moves it to the CPU."""
    path = TESTDATA / "real" / "saved_model_half_plus_two_gpu" / "00000123"
    outputs = _run(path, "serving_default", {"x": Tensor("DT_FLOAT", (3, 1), (1.0, 2.0, 5.0))}, device=device)
    assert outputs == {"y": Tensor("DT_FLOAT", (3, 1), (2.5, 3.0, 4.5))}


def test_state_persists_between_calls():
    """A cached model is a server: the counter keeps counting until reset."""
    runner.clear_cache()
    path = TESTDATA / "real" / "saved_model_counter" / "00000123"
    values = [
        _run(path, key, feeds)["output"].values[0]
        for key, feeds in [
            ("get_counter", {}),
            ("incr_counter", {}),
            ("incr_counter_by", {"delta": Tensor("DT_FLOAT", (), (5.0,))}),
            ("get_counter", {}),
            ("reset_counter", {}),
            ("get_counter", {}),
        ]
    ]
    assert values == [0.0, 1.0, 6.0, 6.0, 0.0, 0.0]


def test_unrestored_variables_fall_back_to_the_function_executor():
    """keras_functional_tfsave: its saver restores other variable handles than the signature reads, so a session
    (Serving's too) fails with "Could not find variable"; execute() runs it through tf.saved_model.load and warns."""
    info = _info("tf/keras_functional_tfsave")
    mg = info.meta_graph(("serve",))
    sig = mg.signature("serving_default")
    feeds = {
        "inputs": Tensor("DT_FLOAT", (1, 4), (0.1, 0.2, 0.3, 0.4)),
        "inputs_1": Tensor("DT_FLOAT", (1, 2), (1.0, 0.0)),
    }
    warned = []
    outputs = runner.execute(_model_dir(info), mg.tags, sig, feeds, warn=warned.append)
    assert len(warned) == 1
    assert "saver does not restore" in warned[0] and "TF Serving" in warned[0] and "--executor function" in warned[0]
    assert outputs == runner.execute(_model_dir(info), mg.tags, sig, feeds, executor="function")
    assert sorted(outputs) == ["probs", "score"]


def test_tf2_model_on_cpu_only():
    info = _info("tf/tf2_auto_default_signature")
    mg = info.meta_graph(("serve",))
    outputs = runner.execute(
        _model_dir(info),
        mg.tags,
        mg.signature("serving_default"),
        {"x": Tensor("DT_FLOAT", (2,), (1.0, 2.0))},
        executor="function",
        device="cpu",
    )
    assert outputs == {"output_0": Tensor("DT_FLOAT", (2,), (3.0, 6.0))}


def test_sparse_input_from_a_dense_tensor():
    """coo_sparse inputs are fed from a dense Tensor: its non-zero entries become indices/values/dense_shape."""
    info = _info("tf/tf1_composite_tensors")
    mg = info.meta_graph(("serve",))
    dense = Tensor("DT_FLOAT", (3, 4), (1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0))
    outputs = runner.execute(_model_dir(info), mg.tags, mg.signature("sparse_only"), {"sp": dense})
    assert outputs == {"row_sum": Tensor("DT_FLOAT", (3,), (3.0, 0.0, 0.5))}


def test_feed_keys_are_checked_before_tensorflow_runs():
    info = _info(os.path.relpath(HALF_PLUS_TWO, TESTDATA))
    mg = info.meta_graph(("serve",))
    with pytest.raises(UsageError, match=r"unknown input.*z.*missing x") as caught:
        runner.execute(
            _model_dir(info), mg.tags, mg.signature("serving_default"), {"z": Tensor("DT_FLOAT", (1,), (1.0,))}
        )
    assert_one_line(caught.value)


def test_unknown_device_is_a_usage_error():
    info = _info(os.path.relpath(HALF_PLUS_TWO, TESTDATA))
    mg = info.meta_graph(("serve",))
    with pytest.raises(UsageError, match="unknown device"):
        runner.execute(_model_dir(info), mg.tags, mg.signature("serving_default"), {}, device="tpu")


def test_missing_model_files_give_a_run_error(tmp_path):
    info = _info(os.path.relpath(HALF_PLUS_TWO, TESTDATA))
    mg = info.meta_graph(("serve",))
    with pytest.raises(RunError, match="loading") as caught:
        runner.execute(
            str(tmp_path), mg.tags, mg.signature("serving_default"), {"x": Tensor("DT_FLOAT", (1, 1), (1.0,))}
        )
    assert_one_line(caught.value)


def test_missing_signature_in_tf2_object_is_a_run_error():
    info = _info("tf/tf2_auto_default_signature")
    mg = info.meta_graph(("serve",))
    sig = mg.signature("serving_default")
    from dataclasses import replace

    with pytest.raises(RunError, match="not among the TF2 object's signatures") as caught:
        runner.execute(
            _model_dir(info),
            mg.tags,
            replace(sig, key="nope"),
            {"x": Tensor("DT_FLOAT", (1,), (1.0,))},
            executor="function",
        )
    assert_one_line(caught.value)


# ---------------------------------------------------------------- .npy / .npz


@pytest.mark.parametrize(
    "tensor",
    [
        Tensor("DT_FLOAT", (2, 1), (1.5, -2.0)),
        Tensor("DT_DOUBLE", (), (math.pi,)),
        Tensor("DT_INT64", (3,), (1, -(2**40), 7)),
        Tensor("DT_UINT64", (1,), (2**64 - 1,)),
        Tensor("DT_BOOL", (2,), (True, False)),
        Tensor("DT_HALF", (1,), (0.5,)),
        Tensor("DT_COMPLEX64", (1,), (complex(1.5, -2.0),)),
        Tensor("DT_STRING", (2,), (b"abc", b"\xff\x00z")),
        Tensor("DT_FLOAT", (0, 3), ()),
    ],
    ids=lambda t: f"{t.dtype}{list(t.shape)}",
)
def test_npy_round_trip(tmp_path, tensor):
    path = str(tmp_path / "out.bin")  # written at exactly this path (numpy would append .npy)
    runner.save_npy(path, tensor)
    assert os.listdir(tmp_path) == ["out.bin"]
    assert runner.load_array(path, None) == tensor


def test_npy_bfloat16_is_widened_to_float32(tmp_path):
    runner.save_npy(str(tmp_path / "b.npy"), Tensor("DT_BFLOAT16", (2,), (0.5, -2.0)))
    assert runner.load_array(str(tmp_path / "b.npy"), None) == Tensor("DT_FLOAT", (2,), (0.5, -2.0))


def test_npy_refuses_strings_it_would_truncate(tmp_path):
    with pytest.raises(UsageError, match="NUL"):
        runner.save_npy(str(tmp_path / "s.npy"), Tensor("DT_STRING", (1,), (b"a\x00",)))


def test_npz_by_name_and_alone(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.array([1.0, 2.0], np.float32), b=np.array([[1, 2]], np.int32))
    np.savez(tmp_path / "one.npz", only=np.array(["hé", "x"]))
    assert runner.load_array(str(tmp_path / "two.npz"), "b") == Tensor("DT_INT32", (1, 2), (1, 2))
    assert runner.load_array(str(tmp_path / "one.npz"), None) == Tensor("DT_STRING", (2,), ("hé".encode(), b"x"))
    with pytest.raises(UsageError, match=r"2 arrays \(a, b\).*\[NAME\]") as caught:
        runner.load_array(str(tmp_path / "two.npz"), None)
    assert_one_line(caught.value)
    with pytest.raises(UsageError, match=r"no array 'c'.*a, b"):
        runner.load_array(str(tmp_path / "two.npz"), "c")
    np.save(tmp_path / "one.npy", np.zeros(2))
    with pytest.raises(UsageError, match=r"drop \[x\]"):
        runner.load_array(str(tmp_path / "one.npy"), "x")


def test_pickles_are_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "obj.npz", o=np.array([object()], dtype=object))
    import pickle

    (tmp_path / "raw.pkl").write_bytes(pickle.dumps([1, 2]))
    for path, name in ((tmp_path / "obj.npy", None), (tmp_path / "obj.npz", "o"), (tmp_path / "raw.pkl", None)):
        with pytest.raises(UsageError, match="pickle") as caught:
            runner.load_array(str(path), name)
        assert_one_line(caught.value)


@pytest.mark.parametrize("content", [None, b"", b"not numpy at all", b"\x93NUMPY\x01\x00"])
def test_unreadable_files_are_usage_errors(tmp_path, content):
    path = tmp_path / "in.npy"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError) as caught:
        runner.load_array(str(path), None)
    assert_one_line(caught.value)


def test_unsupported_array_dtype(tmp_path):
    np.save(tmp_path / "d.npy", np.array(["2020-01-01"], dtype="datetime64[D]"))
    with pytest.raises(UsageError, match="datetime64"):
        runner.load_array(str(tmp_path / "d.npy"), None)


# ---------------------------------------------------------------- without TensorFlow


def test_tensorflow_missing(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "tensorflow" or name.startswith("tensorflow."):
                    raise ImportError("blocked for the test")
        sys.meta_path.insert(0, Block())
        from sigtool import loader, runner
        from sigtool.serving.values import Tensor
        info = loader.load({str(HALF_PLUS_TWO)!r})
        mg = info.meta_graph(("serve",))
        try:
            runner.execute({str(HALF_PLUS_TWO)!r}, mg.tags, mg.signature("serving_default"),
                           {{"x": Tensor("DT_FLOAT", (1, 1), (1.0,))}})
        except Exception as e:
            e.show()
            sys.exit(e.exit_code)
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == ExitCode.RUNTIME_MISSING == TensorFlowMissing.exit_code
    assert result.stderr == "Error: `sigtool run` needs TensorFlow: pip install 'sigtool[run]' (or tensorflow-cpu)\n"


def test_stderr_stays_clean(tmp_path):
    """`sigtool run` in a fresh process: stderr holds only sigtool's own lines, whatever TensorFlow logs on this CPU
    (absl's pre-init warning, oneDNN and cpu_feature_guard notices, deprecations), on both executors."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PYTHONWARNINGS"))}
    for executor in ("session", "function"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "sigtool",
                "run",
                str(HALF_PLUS_TWO),
                "--executor",
                executor,
                "--input-json",
                '{"instances": [1.0, 2.0]}',
                "-f",
                "json",
            ],
            check=False,
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=180,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert "".join(result.stdout.split()) == '{"predictions":[2.5,3.0]}'
        foreign = [
            line for line in result.stderr.splitlines() if not line.startswith(("Warning: ", "Note: ", "Error: "))
        ]
        assert foreign == [], result.stderr


def test_tensorflow_failure_is_one_error_line(tmp_path):
    """A model TensorFlow refuses (a graph op no kernel implements) still reaches the user: one Error: line, exit 5."""
    model = tmp_path / "model"
    shutil.copytree(HALF_PLUS_TWO, model)
    pb = (model / "saved_model.pb").read_bytes()
    assert pb.count(b"\x12\x03Add") >= 1  # NodeDef.op = "Add"
    (model / "saved_model.pb").write_bytes(pb.replace(b"\x12\x03Add", b"\x12\x03Qzx"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    result = subprocess.run(
        [sys.executable, "-m", "sigtool", "run", str(model), "--input-json", '{"instances": [[1.0]]}'],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=180,
        env=env,
    )
    assert result.returncode == ExitCode.RUN_FAILED, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Qzx" in lines[0]
