"""Golden files for `sigtool show`: every testdata case x format x selection, compared exactly.

Inputs are testdata/<case> (built by testdata/make_testdata.py); expected
stdout is tests/golden/show/<case>/<selection>.<ext>. Commands run with the
current directory at testdata/ and relative paths, so no absolute path can
reach a golden. Regenerate with `pytest tests/test_golden.py --update-golden`
and review the diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import GOLDEN, NOT_MAKE_TESTDATA, REPO, TESTDATA, assert_one_error_line, invoke

from sigtool import render

# case -> (tag-set, signature) used by the `tag_set` and `signature` selections.
CASES = {
    "minimal": ("serve", "serving_default"),
    "half_plus_two_like": ("serve", "classify_x_to_y"),
    "multi_tag": ("gpu,serve", "gpu_only"),  # set order differs from the stored serve,gpu on purpose
    "shapes_dtypes": ("serve", "serving_default"),
    "pbtxt": ("serve", "serving_default"),
    "base_path": ("serve", "serving_default"),
    "legacy_bundle": ("", "serving_default_from_named"),  # legacy exports have no tags
    "big_constant": ("serve", "serving_default"),
}

# Selections beyond the four every case gets: name -> arguments.
EXTRA_SELECTIONS = {
    "half_plus_two_like": {"internal_signature": ["--tag-set", "serve", "--signature", "__saved_model_init_op"]},
    "base_path": {"version_2": ["--version", "2"]},
    "legacy_bundle": {"signature_only": ["--signature", "serving_default_from_named"]},
    "minimal": {"signature_only": ["--signature", "serving_default"]},
}

# format -> golden file extension
FORMAT_EXT = {"table": "txt", "json": "json", "smcli": "smcli.txt"}

# Malformed inputs of our own: testdata/bad/<name>; each must fail with exit code 3.
BAD_CASES = ["text_in_pb", "truncated", "wrong_wire_type"]


def selections(case: str) -> dict[str, list[str]]:
    tag_set, signature = CASES[case]
    return {
        "default": [],
        "all": ["--all"],
        "tag_set": ["--tag-set", tag_set],
        "signature": ["--tag-set", tag_set, "--signature", signature],
        **EXTRA_SELECTIONS.get(case, {}),
    }


MATRIX = [
    (case, selection, args, fmt) for case in CASES for selection, args in selections(case).items() for fmt in FORMAT_EXT
]


def golden_rel(case: str, selection: str, fmt: str) -> str:
    return f"show/{case}/{selection}.{FORMAT_EXT[fmt]}"


def expected_notes(case: str, selection: str, fmt: str) -> list[str]:
    """A fragment of each 'Note: ' line expected on stderr, in order."""
    notes = []
    if case == "base_path":
        notes.append("using version 2 (requested)" if selection == "version_2" else "using version 10 (the highest")
    if case == "legacy_bundle":
        notes += ["using version 00000001", "legacy SessionBundle export (export.meta)"]
    if case == "half_plus_two_like" and fmt == "table" and selection in ("default", "tag_set"):
        notes.append("internal signature __saved_model_init_op hidden")
    return notes


@pytest.fixture
def in_testdata(monkeypatch):
    monkeypatch.chdir(TESTDATA)


@pytest.mark.parametrize("case,selection,args,fmt", MATRIX, ids=[f"{c}-{s}-{f}" for c, s, _, f in MATRIX])
def test_show_golden(case, selection, args, fmt, golden, in_testdata):
    result = invoke("show", case, *args, "-f", fmt)
    assert result.exit_code == 0, result.stderr
    notes = result.stderr.splitlines()
    assert all(line.startswith("Note: ") for line in notes), result.stderr
    wanted = expected_notes(case, selection, fmt)
    assert len(notes) == len(wanted), result.stderr
    for line, fragment in zip(notes, wanted):
        assert fragment in line, (fragment, line)
    golden(result.stdout, golden_rel(case, selection, fmt))


@pytest.mark.parametrize("name", BAD_CASES)
def test_bad_case_fails_with_one_error_line(name, golden, in_testdata):
    result = invoke("show", f"bad/{name}")
    error = assert_one_error_line(result, 3)
    assert result.stdout == ""
    golden(error + "\n", f"show/bad/{name}.stderr.txt")


# --- the matrix covers everything, and nothing else ---------------------------------------


# -f metadata is Serving's whole response for a versioned model, never a selection: TF Serving's own goldens
# hold it (tests/test_metadata.py).
SELECTABLE_FORMATS = set(render.FORMATS) - {"metadata"}


def test_every_format_is_in_the_golden_matrix():
    assert set(FORMAT_EXT) == SELECTABLE_FORMATS
    for case in CASES:
        for selection in selections(case):
            assert {f for c, s, _, f in MATRIX if (c, s) == (case, selection)} == SELECTABLE_FORMATS


def test_every_testdata_case_is_in_the_golden_matrix():
    cases = {p.name for p in TESTDATA.iterdir() if p.is_dir() and p.name not in NOT_MAKE_TESTDATA | {"bad"}}
    assert cases == set(CASES)
    assert {p.name for p in (TESTDATA / "bad").iterdir()} == set(BAD_CASES)


def test_no_orphan_golden_files():
    expected = {golden_rel(c, s, f) for c, s, _, f in MATRIX} | {f"show/bad/{n}.stderr.txt" for n in BAD_CASES}
    present = {p.relative_to(GOLDEN).as_posix() for p in (GOLDEN / "show").rglob("*") if p.is_file()}
    assert present == expected


# --- facts the goldens must show (so that --update-golden cannot silently bless a regression)


def test_base_path_reads_the_highest_version_numerically(in_testdata):
    data = json.loads(invoke("show", "base_path", "-f", "json").stdout)
    assert (data["version"], data["other_versions"]) == ("10", ["1", "2"])
    assert data["meta_graphs"][0]["tensorflow_version"] == "2.10.0"  # what make_testdata wrote into version 10
    assert data["source"] == os.path.join("base_path", "10", "saved_model.pb")


def test_legacy_signatures_are_converted(in_testdata):
    data = json.loads(invoke("show", "legacy_bundle", "-f", "json").stdout)
    sigs = {s["key"]: s["method_name"] for s in data["meta_graphs"][0]["signatures"]}
    assert sigs == {
        "serving_default": "tensorflow/serving/classify",
        "serving_default_from_named": "tensorflow/serving/predict",
        "regress": "tensorflow/serving/regress",
    }
    assert data["meta_graphs"][0]["signatures"][0]["key"] == "serving_default"


def test_big_constant_reads_like_minimal(in_testdata):
    minimal = json.loads(invoke("show", "minimal", "-f", "json").stdout)
    big = json.loads(invoke("show", "big_constant", "-f", "json").stdout)
    assert big["meta_graphs"] == minimal["meta_graphs"]


# --- output does not depend on the terminal --------------------------------------------------


def tensor_names(data, internal: bool) -> set[str]:
    """Every graph tensor name in show's JSON (plain, sparse parts, composite components);
    internal: also those of internal signatures (which the table shows only with --all)."""
    names = set()

    def visit(spec):
        if spec["name"]:
            names.add(spec["name"])
        if spec["sparse"]:
            names.update(spec["sparse"].values())
        for component in (spec["composite"] or {}).get("components", ()):
            visit(component)

    for mg in data["meta_graphs"]:
        for sig in mg["signatures"]:
            if sig["key"].startswith("__") and not internal:
                continue
            for spec in sig["inputs"] + sig["outputs"]:
                visit(spec)
    return names


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("extra", [[], ["--all"]], ids=["default", "all"])
def test_table_does_not_depend_on_columns(case, extra, monkeypatch, in_testdata):
    outputs = []
    for columns in ("40", "300"):
        monkeypatch.setenv("COLUMNS", columns)
        result = invoke("show", case, *extra)
        assert result.exit_code == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    names = tensor_names(json.loads(invoke("show", case, *extra, "-f", "json").stdout), internal=bool(extra))
    lines = outputs[0].splitlines()
    for name in names:
        assert any(name in line for line in lines), f"{name} cut or wrapped"


def test_table_shows_bracketed_keys_and_names_verbatim(tmp_path, monkeypatch):
    from sigtool._proto import meta_graph_pb2, saved_model_pb2, types_pb2

    model = saved_model_pb2.SavedModel(saved_model_schema_version=1)
    mg = model.meta_graphs.add()
    mg.meta_info_def.tags.append("serve")
    sig = mg.signature_def["serving_default"]
    sig.method_name = "tensorflow/serving/predict"
    sig.inputs["feature[b]"].CopyFrom(meta_graph_pb2.TensorInfo(name="x[bold]:0", dtype=types_pb2.DT_FLOAT))
    sig.outputs["y"].CopyFrom(meta_graph_pb2.TensorInfo(name="y:0", dtype=types_pb2.DT_FLOAT))
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "saved_model.pb").write_bytes(model.SerializeToString(deterministic=True))
    monkeypatch.chdir(tmp_path)
    result = invoke("show", "m")
    assert result.exit_code == 0, result.stderr
    assert "feature[b]" in result.stdout
    assert "x[bold]:0" in result.stdout


def test_long_tensor_name_is_never_cut_in_a_real_process():
    """The console script, piped, with a narrow terminal: same bytes as the golden."""
    env = {**os.environ, "COLUMNS": "40", "LINES": "10"}
    for var in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(var, None)
    result = subprocess.run(
        [sys.executable, "-m", "sigtool", "show", "shapes_dtypes"],
        cwd=TESTDATA,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == (GOLDEN / golden_rel("shapes_dtypes", "default", "table")).read_text()
    long_name = "inputs/with/a/rather/long/name_scope/that/no/terminal/width/may/cut/placeholder:0"
    assert long_name in result.stdout
    assert REPO.as_posix() not in result.stdout
