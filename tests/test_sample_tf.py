"""TensorFlow runs the samples: each request `sigtool run --sample` would send is fed to the model in a TF1
session, as Serving feeds it; what TensorFlow cannot run on a CPU-only machine is expected to fail.
"""

from __future__ import annotations

import pytest
from sample_cases import (
    FILE_OPS,
    REFUSED,
    SIGNATURES,
    TESTDATA_CASES,
    loaded,
    meta_graph,
    run_sample_in_tensorflow,
    sig_id,
    unfed_placeholders,
)

from sigtool.sample import sample_request

# ---------------------------------------------------------------- TensorFlow runs the samples


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


@pytest.mark.parametrize("case", TF_CASES)
def test_tensorflow_runs_the_sample(case, tf, tf_models):
    if (case[0], case[2]) in TF_FAILS:
        with pytest.raises(Exception):  # noqa: B017 - TF fails these with different error classes
            run_sample_in_tensorflow(TESTDATA_CASES, case, tf, tf_models)
        return
    run_sample_in_tensorflow(TESTDATA_CASES, case, tf, tf_models)
