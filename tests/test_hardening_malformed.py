"""sigtool on the malformed model kinds the conformance corpus holds (tests/malformed.py), against TensorFlow's reader.

Where TensorFlow reads a case, sigtool shows the same MetaGraphs; where it refuses, sigtool ends with one
`Error: ` line and the documented exit code. TensorFlow is asked live, in one subprocess (tf_oracle.tf_reads).
"""

from __future__ import annotations

import malformed
import pytest
from conftest import invoke
from hardening import COMMANDS, assert_handled_as_tensorflow_reads_it, time_limit
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
    theirs = None
    if tensorflow_reads(read):
        theirs = {(tuple(sorted(tags)), tuple(keys)) for tags, keys in read["meta_graphs"]}
    assert_handled_as_tensorflow_reads_it(result, command, theirs)


def test_the_malformed_cases_cover_both_verdicts(malformed_cases):
    verdicts = [tensorflow_reads(read) for _, read in malformed_cases.values()]
    assert verdicts.count(True) >= 5 and verdicts.count(False) >= 15
