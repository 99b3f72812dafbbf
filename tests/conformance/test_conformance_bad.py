"""Every malformed input of the corpus through show, check and `run --sample --dry-run`, against TF's recorded
reading."""

from __future__ import annotations

import json

import pytest
from conftest import assert_one_error_line, invoke
from corpus_facts import BAD, corpus_expected, facts_of
from hardening import COMMANDS, LOAD_FAILED, assert_handled_as_tensorflow_reads_it, show_json, time_limit

BAD_CASES = sorted(corpus_expected()["bad"])


def tensorflow_reads(facts: dict) -> bool:
    return bool(facts["read_saved_model"].get("ok")) and facts.get("facts", {}).get("meta_graph_count", 0) > 0


def case_path(name: str, tmp_path):
    if name == "empty_dir":  # git keeps no empty directory
        path = tmp_path / "empty_dir"
        path.mkdir()
        return path
    return BAD / name


def test_every_indexed_case_is_there():
    assert len(BAD_CASES) >= 25
    assert all((BAD / name).exists() or (BAD / name).is_symlink() for name in BAD_CASES if name != "empty_dir")


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("name", BAD_CASES)
def test_corpus_bad_case(name, command, tmp_path):
    facts = facts_of(f"bad_{name}")
    with time_limit(30):
        result = invoke(*command, case_path(name, tmp_path))
    theirs = None
    if tensorflow_reads(facts):
        theirs = {
            (tuple(sorted(mg["tags"])), tuple(sorted(mg["signature_defs"]))) for mg in facts["facts"]["meta_graphs"]
        }
    assert_handled_as_tensorflow_reads_it(result, command, theirs)


@pytest.mark.parametrize("name", BAD_CASES)
def test_bad_inputs_through_sample_dry_run(name, tmp_path):
    facts = facts_of(f"bad_{name}")
    result = invoke("run", case_path(name, tmp_path), "--sample", "--dry-run")
    assert "Traceback" not in result.stderr
    if not tensorflow_reads(facts):
        assert_one_error_line(result, 3)
    elif result.exit_code == 0:
        assert "signature_name" in json.loads(result.stdout)
    else:
        assert_one_error_line(result, 2)  # a signature sample cannot be made for (composite input, no inputs...)


def test_corpus_nesting_100_read_102_refused():
    show_json(BAD / "nested_depth_100")
    message = assert_one_error_line(invoke("show", BAD / "nested_depth_102"), LOAD_FAILED)
    assert "nest" in message
