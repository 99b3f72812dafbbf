"""sigtool diff through the CLI: golden output for every format, stderr, exit codes."""

from __future__ import annotations

import json
import shutil
from xml.etree import ElementTree as ET

import pytest
from conftest import TESTDATA, assert_one_error_line, invoke

CASES = {  # golden name -> (OLD, NEW), relative to testdata/
    "classify_fails": ("diff/classify_fails/old", "diff/classify_fails/new"),
    "feature_added_required": ("diff/feature_added_required/old", "diff/feature_added_required/new"),
    "identical": ("diff/identical/old", "diff/identical/new"),
    "input_renamed": ("diff/input_renamed/old", "diff/input_renamed/new"),
    "output_widened": ("diff/output_widened/old", "diff/output_widened/new"),
    "tag_set_gone": ("diff/tag_set_gone/old", "diff/tag_set_gone/new"),
    "tensor_names": ("diff/tensor_names/old", "diff/tensor_names/new"),
    "metadata_vs_model": ("metadata/half_plus_two_model_metadata.json", "real/saved_model_half_plus_two_cpu/00000123"),
    "real_tf1_vs_tf2": (
        "real/saved_model_half_plus_two_cpu/00000123",
        "real/saved_model_half_plus_two_tf2_cpu/00000123",
    ),
}
FORMATS = {"table": "txt", "json": "json", "github": "github.txt", "junit": "xml"}


@pytest.fixture
def in_testdata(monkeypatch):
    monkeypatch.chdir(TESTDATA)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_diff_golden(case, fmt, golden, in_testdata):
    old, new = CASES[case]
    result = invoke("diff", old, new, "-f", fmt)
    assert result.exit_code in (0, 1), result.stderr
    golden(result.stdout, f"diff/{case}.{FORMATS[fmt]}")
    if fmt == "json":
        body = json.loads(result.stdout)
        assert sorted(body) == ["changes", "new", "old", "schema"] and body["schema"] == "sigtool.diff/1"
    if fmt == "junit":
        root = ET.fromstring(result.stdout)
        compared = {s.get("name") for s in root.iter("testcase")}
        assert len(compared) == len(list(root.iter("testcase"))) == int(root.get("tests"))


@pytest.mark.parametrize("strict", [False, True])
def test_summary_and_exit_code(strict, in_testdata):
    args = ["diff", *CASES["output_widened"]] + (["--strict"] if strict else [])
    result = invoke(*args)
    assert result.exit_code == (1 if strict else 0)
    verdict = "FAILED (--strict: warnings fail)" if strict else "PASSED"
    assert result.stderr == f"0 breaking, 1 warning, 0 info: {verdict}\n"


def test_breaking_change_fails(in_testdata):
    result = invoke("diff", *CASES["input_renamed"])
    assert result.exit_code == 1
    assert result.stderr == "2 breaking, 0 warnings, 0 info: FAILED\n"


def test_base_path_form_says_which_versions(tmp_path):
    for version, side in (("9", "old"), ("10", "new"), ("1", "new")):
        shutil.copytree(TESTDATA / "diff" / "input_dtype" / side, tmp_path / version)
    result = invoke("diff", tmp_path, "-f", "json")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Note: comparing version 9 with version 10 (the newest, which Serving would switch to) of {tmp_path}",
        "1 breaking, 0 warnings, 0 info: FAILED",
    ]
    body = json.loads(result.stdout)
    assert (body["old"]["path"], body["new"]["path"]) == (str(tmp_path / "9"), str(tmp_path / "10"))


def test_errors(in_testdata, tmp_path):
    assert "no such file or directory" in assert_one_error_line(invoke("diff", "missing", "diff/identical/new"), 3)
    line = assert_one_error_line(invoke("diff", *CASES["identical"], "--tag-set", "serve,gpu"), 2)
    assert "valid tag-sets: serve" in line
    assert "give OLD and NEW" in assert_one_error_line(invoke("diff", "diff/identical/old"), 2)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert "not a GetModelMetadata response" in assert_one_error_line(invoke("diff", bad, "diff/identical/new"), 3)


@pytest.mark.slow
def test_diff_never_imports_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys; from sigtool.cli import cli\n"
        "try:\n    cli(['diff', 'diff/feature_dtype/old', 'diff/feature_dtype/new'])\n"
        "except SystemExit:\n    pass\n"
        "assert 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=TESTDATA, check=True, capture_output=True)


@pytest.mark.parametrize(
    "model", ["real/saved_model_half_plus_two_cpu/00000123", "real/saved_model_half_plus_two_tf2_cpu/00000123"]
)
def test_show_metadata_output_diffs_clean_against_its_model(model, in_testdata, tmp_path):
    """sigtool's own metadata writer (show -f metadata) and diff's reader agree."""
    shown = invoke("show", model, "-f", "metadata")
    assert shown.exit_code == 0, shown.stderr
    body = tmp_path / "metadata.json"
    body.write_text(shown.stdout)
    result = invoke("diff", body, model, "-f", "json")
    assert (result.exit_code, json.loads(result.stdout)["changes"]) == (0, [])
