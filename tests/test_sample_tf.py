"""TensorFlow runs the samples: each request `sigtool run --sample` would send is fed to the model in a TF1
session, as Serving feeds it; what TensorFlow cannot run on a CPU-only machine is expected to fail.
"""

from __future__ import annotations

import json

import pytest
from conftest import TESTDATA
from sample_cases import REFUSED, SIGNATURES, loaded, meta_graph, sig_id

from sigtool.model import MetaGraph, Signature
from sigtool.sample import sample_request
from sigtool.serving.examples import build_examples
from sigtool.serving.requests import ExamplesRequest, parse_request

# ---------------------------------------------------------------- TensorFlow runs the samples


FILE_OPS = {"ReadFile", "WriteFile"}


# What TensorFlow cannot run on a CPU-only machine: test_tensorflow_runs_the_sample expects it to fail.
# (The GPU-pinned half_plus_two runs: a session built this way places its ops softly.)
TF_FAILS = {("real/saved_model_half_plus_two_mkl/00000123", k) for k in ("regress_x2_to_y3", "regress_x_to_y2")}
TF_FAILS |= {("tf/tf1_missing_tensor", k) for k in ("serving_default", "missing_input", "bad_output_index")}


def tf_skip_reason(case) -> str | None:
    rel, tags, key = case
    if (rel, key) in REFUSED:
        return "not sampled (REST cannot carry it)"
    info = loaded(rel)
    if info.legacy:
        return "legacy SessionBundle: TF 2.21 cannot load it"
    mg = meta_graph(rel, tags)
    ops = {n.op for n in mg.graph.nodes} | {n.op for f in mg.graph.functions for n in f.nodes}
    if ops & FILE_OPS:
        return "reads or writes files named by its inputs (Serving's denylist)"
    unfed = unfed_placeholders(mg, mg.signature(key))
    if unfed:
        return f"its outputs need placeholder(s) the signature does not feed: {', '.join(unfed)}"
    return None


def unfed_placeholders(mg: MetaGraph, sig: Signature) -> list[str]:
    """Placeholders (main graph) that the outputs depend on but no input feeds: TF cannot run those."""
    fed = {t.name.split(":")[0] for t in sig.inputs}
    todo, seen, found = [t.name.split(":")[0] for t in sig.outputs], set(), []
    while todo:
        name = todo.pop()
        node = mg.graph.node(name)
        if name in seen or name in fed or node is None:
            continue
        seen.add(name)
        if node.op == "Placeholder":
            found.append(name)
        todo += [ref.lstrip("^").split(":")[0] for ref in node.inputs]
    return sorted(found)


# Signatures TensorFlow is not asked to run: each has a reason, and test_what_tensorflow_is_not_asked_to_run
# checks that sigtool itself refuses or flags it for that reason.
TF_CASES = [pytest.param(c, id=sig_id(c)) for c in SIGNATURES if tf_skip_reason(c) is None]
NOT_RUN = [pytest.param(c, id=sig_id(c)) for c in SIGNATURES if tf_skip_reason(c) is not None]


@pytest.mark.parametrize("case", NOT_RUN)
def test_what_tensorflow_is_not_asked_to_run_sigtool_refuses_or_flags(case):
    from sigtool.checks import run_checks, unsafe_ops
    from sigtool.errors import UsageError

    rel, tags, key = case
    reason = tf_skip_reason(case)
    mg = meta_graph(rel, tags)
    if reason == "not sampled (REST cannot carry it)":
        with pytest.raises(UsageError):
            sample_request(mg, mg.signature(key))
    elif reason.startswith("legacy SessionBundle"):
        assert [f.rule for f in run_checks(loaded(rel), select={"SERVE007"})] == ["SERVE007"]
    elif reason.startswith("reads or writes files"):
        assert {u.op for u in unsafe_ops(loaded(rel))} & FILE_OPS
    else:  # placeholders the signature does not feed: check's GRAPH005 names the signature
        findings = run_checks(loaded(rel), select={"GRAPH005"})
        assert any(f"/{key}/" in f.where for f in findings), findings


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def tf_models(tf):
    """Each model loaded once: a TF1 session (graph, session) or a TF2 tf.saved_model.load object."""
    cache_: dict = {}
    yield cache_
    for value in cache_.values():
        if isinstance(value, tf.compat.v1.Session):
            value.close()


def np_array(tensor, tf):
    import numpy as np
    from tensorflow.core.framework import types_pb2

    dtype = tf.as_dtype(types_pb2.DataType.Value(tensor.dtype))
    values = list(tensor.values)
    if tensor.dtype == "DT_STRING":
        return np.array(values, dtype=object).reshape(tensor.shape)
    return np.array(values, dtype=dtype.as_numpy_dtype).reshape(tensor.shape)


def tf_inputs(sig: Signature, request, tf) -> dict:
    """input key -> numpy array, as Serving would feed them."""
    import numpy as np

    if isinstance(request, ExamplesRequest):
        return {sig.inputs[0].key: np.array(build_examples(request), dtype=object)}
    return {key: np_array(tensor, tf) for key, tensor in request.inputs.items()}


@pytest.mark.parametrize("case", TF_CASES)
def test_tensorflow_runs_the_sample(case, tf, tf_models):
    rel, tags, key = case
    mg = meta_graph(rel, tags)
    sig = mg.signature(key)
    body = sample_request(mg, sig, batch=2, seed=3)
    request = parse_request(json.dumps(body), sig)
    inputs = tf_inputs(sig, request, tf)
    path = str(TESTDATA / rel)
    if mg.has_object_graph:
        model = tf_models.get((rel, tags))
        if model is None:
            model = tf_models[(rel, tags)] = tf.saved_model.load(path, tags=list(tags))
        fn = model.signatures[key]
        outputs = fn(**{k: tf.constant(v) for k, v in inputs.items()})
        assert set(outputs) == {t.key for t in sig.outputs}
        return
    session = tf_models.get((rel, tags))
    if session is None:
        session = tf.compat.v1.Session(graph=tf.Graph())
        with session.graph.as_default():
            tf.compat.v1.saved_model.loader.load(session, list(tags), path)
        tf_models[(rel, tags)] = session
    feed = {sig.input(k).name: v for k, v in inputs.items()}
    fetches = {t.key: t.name for t in sig.outputs}
    if not fetches:  # e.g. a classify signature without outputs: feed and fetch the input itself
        fetches = {"fed": sig.inputs[0].name}
    if (rel, key) in TF_FAILS:
        with pytest.raises(Exception):  # noqa: B017 - TF fails these with different error classes
            session.run(fetches, feed_dict=feed)
        return
    results = session.run(fetches, feed_dict=feed)
    assert set(results) == set(fetches)
    for t in sig.inputs:
        if isinstance(request, ExamplesRequest):
            assert len(inputs[t.key]) == 2
