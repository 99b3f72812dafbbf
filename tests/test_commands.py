"""The command layer as a library (sigtool.commands) and the options issue 10 and 12 added to run/show:
--dry-run on a request body, --model-version (with its hidden --version alias), run's early refusals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import TESTDATA, assert_one_error_line, invoke

from sigtool.commands.check import CheckRequest, check
from sigtool.commands.run import RunRequest, run
from sigtool.commands.show import ShowRequest, show

HALF = str(TESTDATA / "half_plus_two_like")
BASE = str(TESTDATA / "base_path")
BAD_UTF8 = str(TESTDATA / "wild" / "loader" / "utf8" / "signature_key")
BOOSTED = str(TESTDATA / "wild" / "checks" / "boosted_trees")


def _without_tensorflow(*args: str) -> subprocess.CompletedProcess:
    """sigtool in a fresh interpreter that fails loudly if anything imports TensorFlow."""
    code = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'tensorflow' or name.startswith('tensorflow.'):\n"
        "            raise ImportError('tensorflow imported')\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "from sigtool.cli import main\n"
        f"sys.argv = ['sigtool', *{list(args)!r}]\n"
        "main()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


# ---------------------------------------------------------------- library calls


def test_show_is_one_call_returning_what_the_cli_prints():
    said = []
    result = show(ShowRequest(HALF, fmt="json"), said.append)
    assert result.error is None
    assert result.output == invoke("show", HALF, "-f", "json").stdout
    assert said == []  # json shows internal signatures, so there is nothing to note


def test_check_is_one_call_with_its_exit_code():
    result = check(CheckRequest((HALF,), fmt="json"))
    cli = invoke("check", HALF, "-f", "json")
    assert result.output == cli.stdout and result.exit_code == cli.exit_code
    assert result.summary == cli.stderr.strip()


def test_run_dry_run_is_one_call():
    body = json.dumps({"instances": [[1.0], [2.0]]})
    text = run(RunRequest(HALF, input_json=body, dry_run=True))
    assert text == "valid: would call Predict on signature serving_default (row format; inputs: x [2, 1])\n"


# ---------------------------------------------------------------- run --dry-run --input-json


@pytest.mark.slow
def test_dry_run_validates_a_body_without_importing_tensorflow():
    body = json.dumps({"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}], "context": {"x": 2.0}})
    result = _without_tensorflow("run", HALF, "--input-json", body, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "valid: would call Classify on signature classify_x_to_y (1 example(s) with context)\n"
    assert result.stderr == ""


@pytest.mark.slow
def test_dry_run_gives_servings_errors_without_importing_tensorflow():
    cases = [
        ({"instances": [{"nope": [1.0]}]}, "nope"),  # a key the signature does not have
        ({"instances": [["a"]]}, "x"),  # a string for a float input
        ({"inputs": {"x": {"b64": "!!"}}}, "b64"),  # not base64
    ]
    for body, word in cases:
        result = _without_tensorflow("run", HALF, "--input-json", json.dumps(body), "--dry-run")
        assert result.returncode == 2, (body, result.stderr)
        [line] = result.stderr.splitlines()
        assert line.startswith("Error: ") and word in line, line
        assert "Traceback" not in result.stderr


def test_dry_run_needs_a_request_to_print_or_check():
    assert "--dry-run goes with --sample" in assert_one_error_line(invoke("run", HALF, "--dry-run"), 2)


# ---------------------------------------------------------------- --model-version


def test_model_version_picks_a_version_directory_and_version_stays_as_a_hidden_alias():
    new = json.loads(invoke("show", BASE, "--model-version", "2", "-f", "json").stdout)
    old = json.loads(invoke("show", BASE, "--version", "2", "-f", "json").stdout)
    assert new == old and new["version"] == "2"
    assert "--model-version" in invoke("show", "--help").stdout
    assert "--version N" not in invoke("show", "--help").stdout
    assert "--model-version" in invoke("run", "--help").stdout


def test_model_version_given_twice_is_a_usage_error():
    message = assert_one_error_line(invoke("show", BASE, "--model-version", "1", "--version", "2"), 2)
    assert "--model-version" in message


def test_sigtool_version_is_still_the_programs_version():
    assert invoke("--version").stdout.startswith("sigtool ")


# ---------------------------------------------------------------- run's refusals


@pytest.mark.slow
def test_run_refuses_invalid_utf8_before_tensorflow():
    result = _without_tensorflow("run", BAD_UTF8, "--sample")
    assert result.returncode == 3, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ") and "UTF-8" in line


@pytest.mark.tf
def test_run_names_the_ops_this_tensorflow_cannot_run():
    message = assert_one_error_line(invoke("run", BOOSTED, "--sample"), 5)
    assert "No OpKernel was registered" in message
    assert "op data for TensorFlow 2." in message and "BoostedTreesBucketize" in message
    assert "sigtool check names such ops (OPS001)" in message


# ---------------------------------------------------------------- show -f metadata


def test_show_metadata_is_servings_response_for_the_version_asked():
    golden = TESTDATA / "metadata" / "saved_model_half_plus_two_2_versions_metadata.json"
    result = _without_tensorflow(
        "show",
        str(TESTDATA / "real" / "saved_model_half_plus_two_2_versions"),
        "-f",
        "metadata",
        "--model-name",
        "saved_model_half_plus_two_2_versions",
        "--model-version",
        "00000123",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(golden.read_text())


def test_show_metadata_takes_the_whole_served_meta_graph():
    message = assert_one_error_line(invoke("show", HALF, "-f", "metadata", "--signature", "serving_default"), 2)
    assert "-f metadata" in message
    message = assert_one_error_line(invoke("show", HALF, "--model-name", "m"), 2)
    assert "--model-name goes with -f metadata" in message


# ---------------------------------------------------------------- several MODELs, CI formats


def test_show_several_models_and_patterns_each_under_its_name():
    one = invoke("show", f"{BASE}/1").stdout
    result = invoke("show", f"{BASE}/1", f"{BASE}/2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"==> {BASE}/1 <==\n{one}\n==> {BASE}/2 <==\n")
    pattern = json.loads(invoke("show", f"{BASE}/[12]", "-f", "json").stdout)
    assert [doc["source"] for doc in pattern] == [f"{BASE}/1/saved_model.pb", f"{BASE}/2/saved_model.pb"]
    assert pattern[0] == json.loads(invoke("show", f"{BASE}/1", "-f", "json").stdout)


def test_show_several_models_reports_the_unreadable_ones_after_the_rest():
    result = invoke("show", f"{BASE}/1", str(TESTDATA / "no_such_model"))
    assert result.exit_code == 3
    assert result.stdout.startswith(f"==> {BASE}/1 <==\n")
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ") and "no_such_model" in line


def test_check_speaks_github_and_junit():
    import xml.etree.ElementTree as ET

    github = invoke("check", BOOSTED, "-f", "github")
    assert github.exit_code == 1
    errors = [line for line in github.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 3 and all("OPS001" in line for line in errors)
    junit = invoke("check", BOOSTED, "-f", "junit")
    assert junit.exit_code == 1
    root = ET.fromstring(junit.stdout)
    failed = [case.get("name") for case in root.iter("testcase") if case.find("failure") is not None]
    assert failed == ["OPS001"]
