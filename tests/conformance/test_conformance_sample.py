"""sigtool.sample (`run --sample`) against the corpus: every signature's sampled body, and TensorFlow running it.

Without TensorFlow: every sampled body is one that sigtool's own Serving JSON parser accepts, and the
signatures that cannot be sampled are refused for the documented reasons. With TensorFlow (those tests skip
without it): TF runs every sampled request on every corpus signature it can run on a CPU. The tf.Example
feature specs read from the graphs: test_conformance_sample_spec.py.
"""

from __future__ import annotations

import json
from functools import cache

import pytest
from corpus_facts import CORPUS, corpus_model_dirs
from sample_cases import FILE_OPS, SampleCases, run_sample_in_tensorflow, sig_id, unfed_placeholders
from sample_checks import *  # noqa: F403 - the shared sample tests, collected here on the corpus's models
from sample_checks import parametrize_signatures

from sigtool.errors import UsageError
from sigtool.sample import sample_request

CORPUS_CASES = SampleCases(
    CORPUS,
    [
        rel
        for rel, facts in corpus_model_dirs()
        if facts["read_saved_model"]["ok"] or facts["format"] == "session_bundle"
    ],
    "generated",
)
SIGNATURES, REFUSED = CORPUS_CASES.signatures, CORPUS_CASES.refused
loaded, meta_graph = CORPUS_CASES.loaded, CORPUS_CASES.meta_graph


@pytest.fixture(scope="module")
def cases():
    return CORPUS_CASES


def pytest_generate_tests(metafunc):
    parametrize_signatures(metafunc, CORPUS_CASES)


# ---------------------------------------------------------------- TensorFlow runs the samples


@cache
def tf_facts(rel: str) -> dict:
    return json.loads((CORPUS / "expected" / f"{rel.split('/')[1]}.json").read_text())["dirs"][rel]


def recorded_errors(case) -> list[str]:
    """The messages of TensorFlow's recorded failures on this signature (the corpus's runs)."""
    rel, tags, key = case
    facts = tf_facts(rel)
    runs = facts.get("runs_tf2_api") if meta_graph(rel, tags).has_object_graph else facts.get("runs")
    return [r["error"]["message"] for r in runs or [] if r["signature_name"] == key and "error" in r]


def tf_skip_reason(case) -> str | None:
    rel, tags, key = case
    if (rel, key) in REFUSED:
        return "not sampled (REST cannot carry it)"
    info = loaded(rel)
    if info.legacy:
        return "legacy SessionBundle: TF 2.21 cannot load it"
    mg = meta_graph(rel, tags)
    facts = tf_facts(rel)
    runs = facts.get("runs_tf2_api") if mg.has_object_graph else facts.get("runs")
    recorded = [r for r in runs or [] if r["signature_name"] == key and r.get("tag_set") == ",".join(tags)]
    if any("error" in r for r in recorded) and not any("error" not in r for r in recorded):
        return "the corpus records TF failing on it: " + recorded[0]["error"]["exception"]
    ops = {n.op for n in mg.graph.nodes} | {n.op for f in mg.graph.functions for n in f.nodes}
    if ops & FILE_OPS and not recorded:
        return "reads or writes files named by its inputs (Serving's denylist)"
    unfed = unfed_placeholders(mg, mg.signature(key))
    if unfed:
        return f"its outputs need placeholder(s) the signature does not feed: {', '.join(unfed)}"
    return None


# Signatures TensorFlow is not asked to run (each for a reason): test_what_tensorflow_is_not_asked_to_run checks
# that the reason holds, and that sigtool refuses or flags each one.
TF_CASES = [pytest.param(c, id=sig_id(c)) for c in SIGNATURES if tf_skip_reason(c) is None]
NOT_RUN = [pytest.param(c, id=sig_id(c)) for c in SIGNATURES if tf_skip_reason(c) is not None]


@pytest.mark.parametrize("case", NOT_RUN)
def test_what_tensorflow_is_not_asked_to_run(case, tf, tf_models):
    from sigtool.checks import run_checks, unsafe_ops

    rel, tags, key = case
    reason = tf_skip_reason(case)
    mg = meta_graph(rel, tags)
    if reason == "not sampled (REST cannot carry it)":
        with pytest.raises(UsageError):
            sample_request(mg, mg.signature(key))
    elif reason.startswith("legacy SessionBundle"):
        assert [f.rule for f in run_checks(loaded(rel), select={"SERVE007"})] == ["SERVE007"]
    elif reason.startswith("the corpus records TF failing"):
        if any("Cannot assign a device" in m for m in recorded_errors(case)):
            test_tensorflow_runs_the_sample(case, tf, tf_models)  # pinned to a GPU: runs here, placed softly
        else:
            with pytest.raises(Exception):  # noqa: B017 - whatever TensorFlow raised on record, it raises here too
                test_tensorflow_runs_the_sample(case, tf, tf_models)
    elif reason.startswith("reads or writes files"):
        assert {u.op for u in unsafe_ops(loaded(rel))} & FILE_OPS
    else:  # placeholders the signature does not feed: check's GRAPH005 names the signature
        assert any(f"/{key}/" in f.where for f in run_checks(loaded(rel), select={"GRAPH005"}))


@pytest.mark.parametrize("case", TF_CASES)
def test_tensorflow_runs_the_sample(case, tf, tf_models):
    run_sample_in_tensorflow(CORPUS_CASES, case, tf, tf_models)
