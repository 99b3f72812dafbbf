"""`sigtool show` against the corpus: what TensorFlow itself reported for each model (the recorded oracle)."""

from __future__ import annotations

import json

import pytest
from conftest import assert_one_error_line, invoke
from corpus_facts import CORPUS, corpus_expected, corpus_model_dirs
from tf_oracle import normalize_smcli, our_meta_graphs, tf_meta_graphs

MODEL_DIRS = corpus_model_dirs()
SAVED_MODEL_DIRS = [(rel, facts) for rel, facts in MODEL_DIRS if facts["read_saved_model"]["ok"]]
LEGACY_DIRS = [(rel, facts) for rel, facts in MODEL_DIRS if facts["format"] == "session_bundle"]
BAD_CASES = sorted(corpus_expected()["bad"])


def show_json(path, *extra) -> dict:
    result = invoke("show", path, "--all", "-f", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("rel,facts", SAVED_MODEL_DIRS, ids=[r for r, _ in SAVED_MODEL_DIRS])
def test_show_json_matches_tensorflow(rel, facts):
    shown = show_json(CORPUS / rel)
    assert shown["schema_version"] == facts["saved_model_schema_version"]
    assert our_meta_graphs(shown) == tf_meta_graphs(facts)
    for ours, theirs in zip(shown["meta_graphs"], facts["meta_graphs"]):
        assert ours["tags"] == theirs["tags"]  # stored order is kept
        assert ours["tensorflow_version"] == theirs["tensorflow_version"]
        assert ours["stripped_default_attrs"] == theirs["stripped_default_attrs"]
        assert ours["has_object_graph"] == theirs["has_object_graph_def"]
        assert ours["ops"] == sorted(theirs["ops_used"])
        assert [[a["tensor_name"], a["filename"]] for a in ours["asset_files"]] == [
            [a["tensor_name"], a["filename"]] for a in theirs["asset_file_def"]
        ]


@pytest.mark.parametrize("rel,facts", SAVED_MODEL_DIRS, ids=[r for r, _ in SAVED_MODEL_DIRS])
def test_show_tag_set_picks_what_tensorflow_picks(rel, facts):
    for tag_set, index in facts["get_meta_graph_def_index_by_tag_set"].items():
        shown = show_json(CORPUS / rel, "--tag-set", tag_set)
        assert len(shown["meta_graphs"]) == 1
        picked = facts["meta_graphs"][index]
        assert sorted(s["key"] for s in shown["meta_graphs"][0]["signatures"]) == sorted(picked["signature_defs"])


# --- legacy SessionBundle exports ------------------------------------------------------


def shim(manifest: dict) -> dict:
    """TF's bundle shim (bundle_shim.cc) applied to the decoded manifest facts."""

    def typed(sig: dict):
        if "regression_signature" in sig:
            r = sig["regression_signature"]
            return "tensorflow/serving/regress", {"inputs": r.get("input")}, {"outputs": r.get("output")}
        if "classification_signature" in sig:
            c = sig["classification_signature"]
            return (
                "tensorflow/serving/classify",
                {"inputs": c.get("input")},
                {"classes": c.get("classes"), "scores": c.get("scores")},
            )
        return None

    def names(bindings: dict) -> dict:
        return {k: b["tensor_name"] for k, b in bindings.items() if b and b.get("tensor_name")}

    out = {}
    if "default_signature" in manifest and typed(manifest["default_signature"]):
        method, ins, outs = typed(manifest["default_signature"])
        out["serving_default"] = (method, names(ins), names(outs))
    named = manifest.get("named_signatures", {})
    generic = [named.get(k, {}).get("generic_signature") for k in ("inputs", "outputs")]
    if all(g is not None for g in generic):
        key = "serving_default_from_named" if "serving_default" in out else "serving_default"
        out[key] = ("tensorflow/serving/predict", names(generic[0]["map"]), names(generic[1]["map"]))
    for key, sig in named.items():
        if key in ("inputs", "outputs") and all(g is not None for g in generic):
            continue
        if typed(sig):
            method, ins, outs = typed(sig)
            out[key] = (method, names(ins), names(outs))
    return out


@pytest.mark.parametrize("rel,facts", LEGACY_DIRS, ids=[r for r, _ in LEGACY_DIRS])
def test_legacy_signatures_are_converted_as_the_shim_did(rel, facts):
    result = invoke("show", CORPUS / rel, "--all", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert "legacy SessionBundle" in result.stderr and "deprecated" in result.stderr
    shown = json.loads(result.stdout)
    assert shown["format"] == "session_bundle"
    [mg] = shown["meta_graphs"]
    ours = {
        s["key"]: (
            s["method_name"],
            {t["key"]: t["name"] for t in s["inputs"]},
            {t["key"]: t["name"] for t in s["outputs"]},
        )
        for s in mg["signatures"]
    }
    manifests = facts["legacy_export"].get("serving_signatures", [])
    assert ours == (shim(manifests[0]) if manifests else {})
    assert mg["tensorflow_version"] == facts["legacy_export"]["tensorflow_version"]


def test_legacy_table_says_deprecated():
    rel, _ = next((r, f) for r, f in LEGACY_DIRS if f["legacy_export"].get("serving_signatures"))
    result = invoke("show", CORPUS / rel)
    assert result.exit_code == 0
    assert "legacy SessionBundle" in result.stdout
    assert "refuses" in result.stderr


# --- saved_model_cli text --------------------------------------------------------------

SMCLI_ALL = [
    (rel, facts["saved_model_cli"]["show_all"])
    for rel, facts in MODEL_DIRS
    if facts.get("saved_model_cli", {}).get("show_all", {}).get("exit_code") == 0
]


@pytest.mark.parametrize("rel,show_all", SMCLI_ALL, ids=[r for r, _ in SMCLI_ALL])
def test_smcli_all_matches_saved_model_cli(rel, show_all):
    expected = (CORPUS / show_all["stdout_file"]).read_bytes().decode()
    result = invoke("show", CORPUS / rel, "--all", "-f", "smcli")
    assert result.exit_code == 0, result.stderr
    assert "\b" not in result.stdout
    assert normalize_smcli(result.stdout) == normalize_smcli(expected)


def test_smcli_ops_are_sorted():
    rel, _ = SMCLI_ALL[0]
    result = invoke("show", CORPUS / rel, "--all", "-f", "smcli")
    for line in result.stdout.splitlines():
        if line.startswith("The MetaGraph with tag set"):
            ops = line.split("ops: ")[1].strip("{}").split(", ")
            assert ops == sorted(ops)


# --- malformed inputs --------------------------------------------------------------------


def bad_facts(name: str) -> dict:
    return json.loads((CORPUS / "expected" / f"bad_{name}.json").read_text())


def readable_by_tensorflow(facts: dict) -> bool:
    read = facts["read_saved_model"]
    return bool(read.get("ok")) and facts.get("facts", {}).get("meta_graph_count", 0) > 0


@pytest.mark.parametrize("name", BAD_CASES)
def test_bad_inputs_fail_cleanly_or_match_tensorflow(name, tmp_path):
    facts = bad_facts(name)
    path = CORPUS / "bad" / name
    if name == "empty_dir":  # git cannot store an empty directory
        path = tmp_path / "empty_dir"
        path.mkdir()
    result = invoke("show", path, "--all", "-f", "json")
    assert "Traceback" not in result.stderr
    if readable_by_tensorflow(facts):
        assert result.exit_code == 0, result.stderr
        assert our_meta_graphs(json.loads(result.stdout)) == tf_meta_graphs(facts["facts"])
    else:
        message = assert_one_error_line(result, 3)
        assert result.stdout == ""
        assert len(message) > 30, message  # says what is wrong, not just "failed"


def test_empty_saved_model_says_no_meta_graph():
    for name in ("zero_byte_pb", "truncated_pb_2"):
        message = assert_one_error_line(invoke("show", CORPUS / "bad" / name), 3)
        assert "no MetaGraph" in message


def test_graphdef_saved_as_pb_is_not_a_saved_model():
    message = assert_one_error_line(invoke("show", CORPUS / "bad" / "graphdef_as_pb"), 3)
    assert "GraphDef" in message and ("not a SavedModel" in message or "not a valid SavedModel" in message)


def test_empty_directory(tmp_path):
    message = assert_one_error_line(invoke("show", tmp_path), 3)
    assert "empty" in message


def test_both_pb_and_pbtxt_reads_pb_and_says_so():
    result = invoke("show", CORPUS / "bad" / "both_pb_and_pbtxt", "-f", "json")
    assert result.exit_code == 0
    assert "reading saved_model.pb" in result.stderr
    keys = [s["key"] for s in json.loads(result.stdout)["meta_graphs"][0]["signatures"]]
    assert "from_pbtxt" not in keys


def test_chunked_format_has_its_own_error():
    message = assert_one_error_line(invoke("show", CORPUS / "bad" / "cpb_only_garbage"), 3)
    assert "chunked" in message and "no open-source reader" in message


def test_nesting_limit_is_tensorflows():
    assert invoke("show", CORPUS / "bad" / "nested_depth_100").exit_code == 0
    message = assert_one_error_line(invoke("show", CORPUS / "bad" / "nested_depth_102"), 3)
    assert "nested" in message
