"""`check`'s graph rules on the corpus, against TensorFlow's recorded facts."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from corpus_facts import CORPUS, GEN, corpus_model_dirs, facts_of
from test_checks_graph import GRAPH_RULES, const

from sigtool.checks import run_checks
from sigtool.loader import load
from sigtool.model import Graph


def corpus_dirs() -> list[str]:
    return [rel for rel, _ in corpus_model_dirs()]


def facts(dir_: str) -> dict:
    return facts_of(dir_.split("/")[1])["dirs"][dir_]


# What each deliberately broken model must raise; every other corpus model raises no graph finding.
EXPECTED = {
    "generated/tf1_missing_tensor": {
        # serving_default's output is does_not_exist:0 (the "missing output node" case): broken too.
        ("GRAPH001", "serve/serving_default/outputs/y"),
        ("GRAPH001", "serve/missing_input/inputs/x"),
        ("GRAPH001", "serve/bad_output_index/outputs/y"),
        ("GRAPH001", "serve/name_without_index/outputs/y"),
        # missing_input feeds a node that does not exist, so y's real placeholder x is never fed.
        ("GRAPH005", "serve/missing_input/outputs/y"),
    },
    "generated/tf1_constant_output": {("GRAPH004", "serve/serving_default/outputs/y")},
    # classify_input_float feeds x, but its output probs is computed from tf_example's shape.
    "generated/tf1_invalid_classify": {("GRAPH005", "serve/classify_input_float/outputs/scores")},
}


@pytest.mark.parametrize("dir_", corpus_dirs())
def test_corpus_graph_findings(dir_):
    # GRAPH002 stays silent on every corpus model: no TensorInfo there disagrees with its graph. That
    # includes the TF1 half_plus_two classify/regress inputs (tf_example:0 is a DT_STRING Placeholder
    # declared DT_STRING; x2:0 is a DT_FLOAT Identity declared DT_FLOAT) and tf1_invalid_classify's
    # classify_input_float (x:0 is a DT_FLOAT Placeholder declared DT_FLOAT: wrong for classify, which
    # TYPE001 reports, but consistent with the graph). Checked once against TF 2.21's own
    # import_graph_def + get_tensor_by_name over the whole corpus.
    info = load(str(CORPUS / dir_), graph=True)
    got = {(f.rule, f.where) for f in run_checks(info, select=GRAPH_RULES)}
    assert got == EXPECTED.get(dir_.rstrip("/"), set())


def test_corpus_missing_tensors_match_what_tf_could_not_run():
    """The signatures GRAPH001 flags are exactly those TF failed to run (or fetched an operation from)."""
    dir_ = "generated/tf1_missing_tensor"
    broken = {
        run["signature_name"]
        for run in facts(dir_)["runs"]
        if "error" in run or any(o.get("operation_fetched") for o in run.get("outputs", {}).values())
    }
    assert broken == {"serving_default", "missing_input", "bad_output_index", "name_without_index"}
    info = load(str(CORPUS / dir_), graph=True)
    flagged = {f.where.split("/")[1] for f in run_checks(info, select={"GRAPH001"})}
    assert flagged == broken
    assert "valid" not in flagged


def test_corpus_constant_output_matches_manifest():
    manifest = json.loads((GEN / "MANIFEST.json").read_text())["tf1_constant_output"]
    info = load(str(GEN / "tf1_constant_output"), graph=True)
    findings = run_checks(info, select={"GRAPH004"})
    assert {(f.where.split("/")[1], f.where.split("/")[-1]) for f in findings} == {
        (key, out) for key, outs in manifest["constant_outputs"].items() for out in outs
    }
    assert "y_const:0 ← Const y_const" in findings[0].message


HALF_PLUS_TWO_TF1 = [d for d in corpus_dirs() if "saved_model_half_plus_two_" in d and "tf2" not in d]


@pytest.mark.parametrize("dir_", HALF_PLUS_TWO_TF1)
def test_corpus_half_plus_two_tensorinfo_dtypes(dir_):
    """TF's facts: each classify/regress input's TensorInfo dtype agrees with the graph, so no GRAPH002;
    declaring DT_FLOAT on the DT_STRING tf_example placeholder (the bug clients trip on) is caught."""
    info = load(str(CORPUS / dir_), graph=True)
    mg = info.meta_graph(["serve"])
    tf_sigs = next(m for m in facts(dir_)["meta_graphs"] if m["tags"] == ["serve"])["signature_defs"]
    string_inputs = []
    for key, sd in tf_sigs.items():
        if sd["method_name"] in ("tensorflow/serving/classify", "tensorflow/serving/regress"):
            ti = sd["inputs"]["inputs"]
            expected = {"tf_example:0": "DT_STRING", "x2:0": "DT_FLOAT"}[ti["name"]]
            assert ti["dtype"] == expected, key
            if ti["name"] == "tf_example:0":
                string_inputs.append(key)
    assert string_inputs and run_checks(info, select={"GRAPH002"}) == []

    key = string_inputs[0]
    broken_sig = mg.signature(key)
    broken_sig = replace(broken_sig, inputs=(replace(broken_sig.inputs[0], dtype="DT_FLOAT"),))
    broken = replace(info, meta_graphs=(replace(mg, signatures=(broken_sig,)),))
    (finding,) = run_checks(broken, select={"GRAPH002"})
    assert finding.where == f"serve/{key}/inputs/inputs"
    assert finding.message.startswith("TensorInfo says DT_FLOAT but placeholder tf_example:0 is DT_STRING")


def test_corpus_tf2_constant_is_found_through_the_call():
    """The real TF2 half_plus_two, with its predict function's result replaced by a Const: GRAPH004 follows
    StatefulPartitionedCall_5 through the signature wrapper into __inference_predict_235 (nested calls), and
    reports nothing on the real model."""
    info = load(str(CORPUS / "real" / "saved_model_half_plus_two_tf2_cpu" / "00000123"), graph=True)
    assert run_checks(info, select={"GRAPH004"}) == []
    mg = info.meta_graphs[0]
    predict = mg.graph.function("__inference_predict_235")
    frozen = replace(predict, nodes=(*predict.nodes, const("frozen")), ret=(("identity", "frozen:output:0"),))
    graph = Graph(mg.graph.nodes, tuple(frozen if f is predict else f for f in mg.graph.functions))
    changed = replace(info, meta_graphs=(replace(mg, graph=graph),))
    (finding,) = run_checks(changed, select={"GRAPH004"})
    assert finding.where == "serve/serving_default/outputs/y"
    assert (
        "StatefulPartitionedCall_5:0 → __inference_signature_wrapper_predict_245 output 0 ← Identity"
        " ← StatefulPartitionedCall → __inference_predict_235 output 0 ← Const frozen"
    ) in finding.message
