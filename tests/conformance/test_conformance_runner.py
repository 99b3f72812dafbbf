"""sigtool.runner against every run the corpus records (TF 2.21's own outputs).

The corpus (expected/*.json) records each run as TF 2.21 made it: `runs` through a TF1 session (feed/fetch by
TensorInfo names, as saved_model_cli run), `runs_tf2_api` through tf.saved_model.load(...).signatures. Each run
is compared with the record made through the same path that execute() takes for it.
"""

from __future__ import annotations

import base64
import math
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
np = pytest.importorskip("numpy")

from corpus_facts import CORPUS, corpus_model_dirs  # noqa: E402

from sigtool import loader, runner  # noqa: E402
from sigtool.errors import RunError  # noqa: E402
from sigtool.serving.values import Tensor  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6


# ---------------------------------------------------------------- the corpus's recorded runs


def _is_tf2(facts: dict, tag_set: str) -> bool:
    wanted = set(tag_set.split(",")) if tag_set else set()
    for mg in facts.get("meta_graphs", []):
        if set(mg["tags"]) == wanted:
            return bool(mg.get("has_object_graph_def"))
    return False


def _recorded_runs():
    """(id, model dir, record, tf2) for every recorded run.

    The path execute() takes for a MetaGraph (tf2 = has_object_graph) is compared with the record made through
    that path: `runs_tf2_api` for TF2 models (or their `runs` when that is all there is), `runs` for TF1. TF2
    models' `runs` also go through the TF1 session path (tf2=False), id suffix ":tf1-session".
    """
    cases, seen = [], {}
    for rel, facts in corpus_model_dirs():
        tf2_api = facts.get("runs_tf2_api") or []
        chosen = [(run, False, "") for run in facts.get("runs", []) if not _is_tf2(facts, run["tag_set"])]
        chosen += [
            (run, True, "") for run in tf2_api or [r for r in facts.get("runs", []) if _is_tf2(facts, r["tag_set"])]
        ]
        chosen += [(run, False, ":tf1-session") for run in facts.get("runs", []) if _is_tf2(facts, run["tag_set"])]
        for run, tf2, suffix in chosen:
            base = f"{rel}:{run['tag_set']}:{run['signature_name']}{suffix}"
            seen[base] = seen.get(base, 0) + 1
            cases.append(pytest.param(rel, run, tf2, id=base if seen[base] == 1 else f"{base}#{seen[base]}"))
    return cases


RUNS = _recorded_runs()


_infos: dict[str, object] = {}


def _info(rel: str):
    if rel not in _infos:
        _infos[rel] = loader.load(str(CORPUS / rel))
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


@pytest.mark.parametrize("rel,record,tf2", RUNS)
def test_recorded_run(rel, record, tf2):
    info = _info(rel)
    mg = info.meta_graph(tuple(record["tag_set"].split(",")))
    assert mg.has_object_graph or not tf2
    sig = mg.signature(record["signature_name"])
    feeds = {key: _feed(sig.input(key), value) for key, value in record["inputs"].items()}
    if _keeps_state(mg):
        runner.clear_cache()

    def run():
        return runner.execute(_model_dir(info), mg.tags, sig, feeds, executor="function" if tf2 else "session")

    if _unsupported(sig):
        with pytest.raises(RunError, match="does not support yet") as caught:
            run()
        assert_one_line(caught.value)
        return
    error = record.get("error")
    if error and "Cannot assign a device" in error["message"]:
        # TF failed only because the graph pins ops to a GPU this machine lacks; soft placement runs it on the CPU
        outputs = run()
        assert sorted(outputs) == sorted(t.key for t in sig.outputs)
        assert all(outputs[t.key].dtype == t.dtype for t in sig.outputs)
        return
    if error and "Could not find variable" in error["message"] and mg.has_object_graph and not tf2:
        # the saver does not restore what the signature reads (Keras 3 + tf.saved_model.save): the session
        # fails as recorded, and execute() falls back to tf.saved_model.load, saying so
        warned = []
        outputs = runner.execute(_model_dir(info), mg.tags, sig, feeds, warn=warned.append)
        assert sorted(outputs) == sorted(t.key for t in sig.outputs)
        assert len(warned) == 1 and "saver does not restore" in warned[0]
        return
    if error:
        with pytest.raises(RunError) as caught:
            run()
        message = assert_one_line(caught.value)
        assert error["exception"] in message or error["exception"] in ("ValueError", "TypeError"), message
        return
    outputs = run()
    assert sorted(outputs) == sorted(t.key for t in sig.outputs)
    for key, expected in record["outputs"].items():
        if expected.get("operation_fetched"):
            # Python's Session.run fetched the *operation* "y"; Serving's C++ Session::Run (and runner) read "y" as y:0
            assert outputs[key].dtype == sig.outputs[[t.key for t in sig.outputs].index(key)].dtype
            continue
        shape, flat = _flatten(expected["value"], expected["dtype"])
        assert_tensor(outputs[key], expected["dtype"], expected["shape"], flat)
        assert shape == tuple(expected["shape"]) or (not flat and not expected["shape"])


def test_every_recorded_run_is_covered():
    assert len(RUNS) >= 100  # the corpus holds this many; a parse slip would silently drop cases
