"""`sigtool check` on the corpus: is_valid_signature as TF recorded it, and the corpus's malformed models."""

from __future__ import annotations

import pytest
from corpus_facts import BAD, CORPUS, GEN, corpus_model_dirs

from sigtool.checks import CheckOptions, run_checks
from sigtool.loader import load
from sigtool.serving.api import tf_is_valid_signature

SIGNATURE_FACTS = [
    (rel, mg_index, key, sig["is_valid_signature"])
    for rel, facts in corpus_model_dirs()
    if facts["read_saved_model"]["ok"]
    for mg_index, mg in enumerate(facts["meta_graphs"])
    for key, sig in mg["signature_defs"].items()
]


def found(info, rule_id, **options):
    return list(run_checks(info, CheckOptions(**options), select={rule_id}))


@pytest.mark.parametrize("rel,index,key,valid", SIGNATURE_FACTS, ids=[f"{r}/{k}" for r, _, k, _ in SIGNATURE_FACTS])
def test_is_valid_signature_matches_tensorflow(rel, index, key, valid):
    sig = load(str(CORPUS / rel)).meta_graphs[index].signature(key)
    assert tf_is_valid_signature(sig) is valid


def test_missing_variables_are_errors():
    for name, missing in (
        ("missing_variables_tf1", "variables/"),
        ("missing_variables_tf2", "variables/"),
        ("variables_index_missing", "variables/variables.index"),
    ):
        info = load(str(BAD / name), graph=True)
        assert [f.where for f in found(info, "SERVE003")] == [missing], name


def test_format_notes_on_the_corpus():
    assert found(load(str(BAD / "schema_version_99"), graph=True), "FMT003")
    assert found(load(str(GEN / "tf1_pbtxt"), graph=True), "FMT004")
    assert found(load(str(GEN / "tf1_composite_tensors"), graph=True), "FMT002")


def test_corpus_warmup_files_are_valid():
    for name in ("tf2_warmup", "tf1_classify_regress_predict"):
        info = load(str(GEN / name), graph=True)
        assert info.files.warmup is not None and len(info.files.warmup.records) == 3
        assert not found(info, "SERVE006"), name
