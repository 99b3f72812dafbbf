"""testdata/diff/: every model pair shows the change it stands for, with the exit code CI acts on; the
generator still writes the committed pairs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO, TESTDATA

from sigtool.commands.diff import DiffRequest, diff_models

PAIRS = TESTDATA / "diff"
GENERATOR = TESTDATA / "make_diff_models.py"

# case -> (exit code, exit code with --strict, the change it must report: (code, severity, where))
EXPECTED = {
    "identical": (0, 0, None),
    "tensor_names": (0, 0, ("DIFF201", "info", "serve/serving_default/inputs/x")),
    "signature_removed": (1, 1, ("DIFF002", "breaking", "serve/extra")),
    "serving_default_removed": (1, 1, ("DIFF003", "breaking", "serve/serving_default")),
    "input_renamed": (1, 1, ("DIFF005", "breaking", "serve/serving_default/inputs/x")),
    "input_added": (1, 1, ("DIFF006", "breaking", "serve/serving_default/inputs/z")),
    "input_dtype": (1, 1, ("DIFF007", "breaking", "serve/serving_default/inputs/x")),
    "input_free_dim_fixed": (1, 1, ("DIFF008", "breaking", "serve/serving_default/inputs/x")),
    "input_size_changed": (1, 1, ("DIFF008", "breaking", "serve/serving_default/inputs/x")),
    "input_rank_changed": (1, 1, ("DIFF008", "breaking", "serve/serving_default/inputs/x")),
    "output_dtype": (1, 1, ("DIFF011", "breaking", "serve/serving_default/outputs/y")),
    "output_widened": (0, 1, ("DIFF101", "warning", "serve/serving_default/outputs/y")),
    "method_name": (1, 1, ("DIFF004", "breaking", "serve/serving_default")),
    "tag_set_gone": (1, 1, ("DIFF001", "breaking", "serve")),
    "classify_fails": (1, 1, ("DIFF013", "breaking", "serve/classify")),
    "feature_added_required": (1, 1, ("DIFF014", "breaking", "serve/regress/inputs/inputs/features/c")),
    "feature_dtype": (1, 1, ("DIFF015", "breaking", "serve/regress/inputs/inputs/features/b")),
    "feature_shape": (1, 1, ("DIFF016", "breaking", "serve/regress/inputs/inputs/features/b")),
    "feature_removed": (1, 1, ("DIFF017", "breaking", "serve/regress/inputs/inputs/features/b")),
}


def _diff(root, case, strict=False):
    return diff_models(DiffRequest(str(root / case / "old"), str(root / case / "new"), strict=strict))


def test_every_pair_has_an_expectation():
    assert sorted(p.name for p in PAIRS.iterdir() if p.is_dir()) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_pair(case):
    code, strict_code, entry = EXPECTED[case]
    result = _diff(PAIRS, case)
    assert result.exit_code == code, result.summary
    assert _diff(PAIRS, case, strict=True).exit_code == strict_code
    found = [(c.code, c.severity.value, c.where) for c in result.report.changes]
    if entry is None:
        assert found == []
    else:
        assert entry in found, found
    if case == "tensor_names":  # names are all that changed: nothing else may be reported
        assert {c.code for c in result.report.changes} == {"DIFF201"}


@pytest.mark.parametrize("case", ["identical", "feature_removed", "input_dtype"])
def test_reversed_pairs_are_symmetric_where_they_should_be(case):
    """Swapping OLD and NEW of an identical pair changes nothing; a dtype change stays breaking either way."""
    result = diff_models(DiffRequest(str(PAIRS / case / "new"), str(PAIRS / case / "old")))
    if case == "identical":
        assert result.report.changes == ()
    elif case == "feature_removed":  # the feature comes back, with a default: nothing breaks
        assert [(c.code, c.severity.value) for c in result.report.changes] == [("DIFF208", "info")]
    else:
        assert result.exit_code == 1


@pytest.mark.slow
def test_generator_reproduces_the_committed_pairs(tmp_path):
    pytest.importorskip("tensorflow")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]

    def files(root):
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    fresh, committed = files(tmp_path), files(PAIRS)
    assert sorted(fresh) == sorted(committed)
    assert [rel for rel in committed if fresh[rel] != committed[rel]] == [], "run testdata/make_diff_models.py"
    for case in EXPECTED:  # and, whatever the bytes, the rebuilt pairs diff the same way
        again, before = _diff(tmp_path, case), _diff(PAIRS, case)
        assert [(c.code, c.where, c.old, c.new) for c in again.report.changes] == [
            (c.code, c.where, c.old, c.new) for c in before.report.changes
        ]
