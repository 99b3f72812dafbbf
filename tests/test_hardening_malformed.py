"""sigtool on the malformed model kinds the conformance corpus holds (tests/malformed.py), against TensorFlow's reader.

Where TensorFlow reads a case, sigtool shows the same MetaGraphs; where it refuses, sigtool ends with one
`Error: ` line and the documented exit code. TensorFlow is asked live, in one subprocess (tf_oracle.tf_reads).
"""

from __future__ import annotations

import json

import malformed
import pytest
from conftest import assert_one_error_line, invoke
from hardening import COMMANDS, LOAD_FAILED, time_limit
from tf_oracle import tf_reads

# --- malformed inputs of every kind the corpus holds, built from testdata/ (tests/malformed.py) -------------


@pytest.fixture(scope="module")
def malformed_cases(tmp_path_factory):
    """Each case built once, with what TensorFlow's own reader makes of it (asked live)."""
    paths = malformed.build_all(tmp_path_factory.mktemp("malformed"))
    reads = tf_reads(paths.values())
    return {name: (path, reads[str(path)]) for name, path in paths.items()}


def tensorflow_reads(read: dict) -> bool:
    return read["ok"] and len(read["meta_graphs"]) > 0


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("name", sorted(malformed.CASES))
def test_malformed_case(name, command, malformed_cases):
    path, read = malformed_cases[name]
    with time_limit(30):
        result = invoke(*command, path)
    assert "Traceback" not in result.stderr
    if not tensorflow_reads(read):
        message = assert_one_error_line(result, LOAD_FAILED)
        assert result.stdout == ""
        assert len(message) > 30, message  # says what is wrong
        return
    assert "Error:" not in result.stderr, result.stderr
    if command[0] == "check":
        assert result.exit_code in (0, 1), result.stderr
        return
    assert result.exit_code == 0, result.stderr
    if "json" in command:
        ours = {
            (tuple(sorted(mg["tags"])), tuple(sorted(s["key"] for s in mg["signatures"])))
            for mg in json.loads(result.stdout)["meta_graphs"]
        }
        assert ours == {(tuple(sorted(tags)), tuple(keys)) for tags, keys in read["meta_graphs"]}


def test_the_malformed_cases_cover_both_verdicts(malformed_cases):
    verdicts = [tensorflow_reads(read) for _, read in malformed_cases.values()]
    assert verdicts.count(True) >= 5 and verdicts.count(False) >= 15
