"""sigtool against TensorFlow itself, asked live (tests/tf_oracle.py) about the repository's own models.

Every SavedModel under testdata/real/ (TF Serving's test models) and testdata/tf/ (written by TensorFlow,
testdata/make_tf_models.py): show's signatures, tags, versions, ops and asset files are TF's; the tag
set resolves to the MetaGraph TF picks; `-f smcli` prints what `saved_model_cli show --all` prints;
check's is_valid_signature agrees with TF's; `sigtool run` answers what a TF session computes.
"""

from __future__ import annotations

import json
import math

import pytest
from conftest import TESTDATA, invoke
from tf_oracle import MODELS, RUNS, normalize_smcli, oracle, our_meta_graphs, tf_meta_graphs

from sigtool.loader import load
from sigtool.serving.api import tf_is_valid_signature

IDS = [p.relative_to(TESTDATA).as_posix() for p in MODELS]


def facts_of(path) -> dict:
    return oracle()[path.relative_to(TESTDATA).as_posix()]


def show_json(path, *extra) -> dict:
    result = invoke("show", path, "--all", "-f", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_the_oracle_covers_the_testdata():
    assert len(MODELS) >= 30 and len(RUNS) >= 12


@pytest.mark.parametrize("path", MODELS, ids=IDS)
def test_show_json_matches_tensorflow(path):
    facts = facts_of(path)
    shown = show_json(path)
    assert shown["schema_version"] == facts["saved_model_schema_version"]
    assert our_meta_graphs(shown) == tf_meta_graphs(facts)
    for ours, theirs in zip(shown["meta_graphs"], facts["meta_graphs"]):
        assert ours["tags"] == theirs["tags"]  # stored order is kept
        assert ours["tensorflow_version"] == theirs["tensorflow_version"]
        assert ours["stripped_default_attrs"] == theirs["stripped_default_attrs"]
        assert ours["has_object_graph"] == theirs["has_object_graph_def"]
        assert ours["ops"] == theirs["ops_used"]
        assert [[a["tensor_name"], a["filename"]] for a in ours["asset_files"]] == [
            [a["tensor_name"], a["filename"]] for a in theirs["asset_file_def"]
        ]


@pytest.mark.parametrize("path", MODELS, ids=IDS)
def test_show_tag_set_picks_what_tensorflow_picks(path):
    facts = facts_of(path)
    for tag_set, index in facts["get_meta_graph_def_index_by_tag_set"].items():
        shown = show_json(path, "--tag-set", tag_set)
        [mg] = shown["meta_graphs"]
        assert sorted(s["key"] for s in mg["signatures"]) == sorted(facts["meta_graphs"][index]["signature_defs"])


@pytest.mark.parametrize("path", MODELS, ids=IDS)
def test_smcli_all_matches_saved_model_cli(path):
    result = invoke("show", path, "--all", "-f", "smcli")
    assert result.exit_code == 0, result.stderr
    assert "\b" not in result.stdout
    assert normalize_smcli(result.stdout) == normalize_smcli(facts_of(path)["smcli_show_all"])


@pytest.mark.parametrize("path", MODELS, ids=IDS)
def test_is_valid_signature_matches_tensorflow(path):
    info = load(str(path))
    for mg, theirs in zip(info.meta_graphs, facts_of(path)["meta_graphs"]):
        ours = {s.key: tf_is_valid_signature(s) for s in mg.signatures}
        assert ours == {k: s["is_valid_signature"] for k, s in theirs["signature_defs"].items()}


def test_the_testdata_has_valid_and_invalid_signatures():
    verdicts = {
        s["is_valid_signature"]
        for f in oracle().values()
        for mg in f["meta_graphs"]
        for s in mg["signature_defs"].values()
    }
    assert verdicts == {True, False}


def _flat(value) -> list:
    return [x for v in value for x in _flat(v)] if isinstance(value, list) else [value]


def _same(ours, theirs) -> bool:
    if isinstance(theirs, float) or isinstance(ours, float):
        return math.isclose(ours, theirs, rel_tol=1e-5, abs_tol=1e-6)
    return ours == theirs


RUNNABLE = [r for r in RUNS if not r[0].endswith("tf1_missing_tensor") or r[1] == "valid"]


@pytest.mark.parametrize("rel,key,inputs", RUNNABLE, ids=[f"{r}:{k}" for r, k, _ in RUNNABLE])
def test_run_answers_what_tensorflow_computes(rel, key, inputs):
    [record] = [r for r in oracle()[rel]["runs"] if r["signature_name"] == key and r["inputs"] == inputs]
    assert "outputs" in record, record.get("error")
    body = json.dumps({"signature_name": key, "inputs": inputs})
    result = invoke("run", TESTDATA / rel, "--input-json", body, "-f", "json")
    assert result.exit_code == 0, result.stderr
    outputs = json.loads(result.stdout)["outputs"]
    if len(record["outputs"]) == 1 and not isinstance(outputs, dict):
        outputs = {next(iter(record["outputs"])): outputs}
    assert sorted(outputs) == sorted(record["outputs"])
    for name, theirs in record["outputs"].items():
        ours = _flat(outputs[name])
        assert len(ours) == len(theirs["flat"]), name
        assert all(_same(a, b) for a, b in zip(ours, theirs["flat"])), (name, ours, theirs["flat"])
