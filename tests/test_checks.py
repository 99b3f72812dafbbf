"""`sigtool check`: Serving's API rules, readiness, unsafe ops, format notes, and the command itself."""

from __future__ import annotations

import json
import os
import struct

import pytest
from conftest import GEN, REAL, TESTDATA, assert_one_error_line, invoke
from factories import findings, model, spec

from sigtool import checks
from sigtool.checks import Severity
from sigtool.loader import load
from sigtool.loader.files import crc32c
from sigtool.model import CLASSIFY, PREDICT, REGRESS, MetaGraph, ModelFiles, Signature
from sigtool.serving.api import classify_problem, predict_problem, regress_problem

# --- Serving's signature validity table, both method-check modes -------------------

OK, METHOD = "ok", "method"
NO_SCORES = 'at least one of "classes" or "scores"'
TABLE = {
    # model: {signature: (classify off, regress off, predict on, classify on, regress on)}
    "saved_model_half_plus_two_2_versions": {
        "classify_x2_to_y3": (OK, "No regression outputs found", OK, OK, METHOD),
        "classify_x_to_y": (OK, "No regression outputs found", OK, OK, METHOD),
        "regress_x2_to_y3": (NO_SCORES, OK, OK, METHOD, OK),
        "regress_x_to_y": (NO_SCORES, OK, OK, METHOD, OK),
        "regress_x_to_y2": (NO_SCORES, OK, OK, METHOD, OK),
        "serving_default": ("No classification inputs found", "No regression inputs found", OK, METHOD, METHOD),
    },
    "saved_model_counter": {
        "get_counter": ("Expected one input Tensor.", "Expected one input Tensor.", OK, METHOD, METHOD),
        "incr_counter": ("Expected one input Tensor.", "Expected one input Tensor.", OK, METHOD, METHOD),
        "reset_counter": ("Expected one input Tensor.", "Expected one input Tensor.", OK, METHOD, METHOD),
        "incr_counter_by": ("No classification inputs found", "No regression inputs found", OK, METHOD, METHOD),
    },
    "saved_model_half_plus_two_tf2_cpu": {
        "classify_x_to_y": (OK, "No regression outputs found", OK, METHOD, METHOD),
        "classify_x2_to_y3": (OK, "No regression outputs found", OK, METHOD, METHOD),
        "regress_x_to_y": (NO_SCORES, OK, OK, METHOD, METHOD),
        "regress_x_to_y2": (NO_SCORES, OK, OK, METHOD, METHOD),
        "regress_x2_to_y3": (NO_SCORES, OK, OK, METHOD, METHOD),
        "__saved_model_init_op": ("Expected one input Tensor.", "Expected one input Tensor.", METHOD, METHOD, METHOD),
        "serving_default": ("No classification inputs found", "No regression inputs found", OK, METHOD, METHOD),
    },
}
ROWS = [(m, s, row) for m, sigs in TABLE.items() for s, row in sigs.items()]
METHOD_TEXT = {
    "classify": "Expected classification signature method_name",
    "regress": "Expected regression signature method_name",
    "predict": "Expected prediction signature method_name",
}


def outcome(problem: str | None, expected: str, api: str) -> None:
    if expected == OK:
        assert problem is None, problem
    elif expected == METHOD:
        assert problem is not None and problem.startswith(METHOD_TEXT[api]), problem
    else:
        assert problem is not None and expected in problem, problem


@pytest.mark.parametrize("model_name,key,row", ROWS, ids=[f"{m}/{s}" for m, s, _ in ROWS])
def test_serving_validity_table(model_name, key, row):
    info = load(str(REAL / model_name))
    sig = info.meta_graphs[0].signature(key)
    outcome(classify_problem(sig, False), row[0], "classify")
    outcome(regress_problem(sig, False), row[1], "regress")
    outcome(predict_problem(sig, True), row[2], "predict")
    outcome(classify_problem(sig, True), row[3], "classify")
    outcome(regress_problem(sig, True), row[4], "regress")


# TF's own is_valid_signature verdicts: tests/test_tf_oracle.py (live) and tests/conformance (recorded).


# --- serving API rules on hand-built models ----------------------------------------------------


def test_classify_rule_flags_bad_classify_only():
    bad = Signature("c", CLASSIFY, (spec("inputs", "DT_STRING"),), (spec("labels", "DT_STRING"),))
    good = Signature("g", CLASSIFY, (spec("inputs", "DT_STRING"),), (spec("scores", shape=(-1, 2)),))
    predict_shaped_badly = Signature("p", PREDICT, (spec("x"),), (spec("y"),))
    [f] = findings(model(bad, good, predict_shaped_badly), "SRV001")
    assert f.where == "serve/c" and "classes" in f.message and f.severity is Severity.ERROR


def test_regress_rule_quotes_serving():
    bad = Signature("r", REGRESS, (spec("inputs", "DT_STRING"),), (spec("outputs"), spec("extra")))
    [f] = findings(model(bad), "SRV002")
    assert "Expected one output Tensor." in f.message


def test_method_check_rules_only_under_method_check():
    tf2_style = Signature("classify_x", PREDICT, (spec("inputs", "DT_STRING"),), (spec("scores", shape=(-1, 1)),))
    odd = Signature("odd", "my/method", (spec("x"),), (spec("y"),))
    info = model(tf2_style, odd)
    assert not findings(info, "SRV003") and not findings(info, "SRV004")
    assert [f.where for f in findings(info, "SRV003", method_check=True)] == ["serve/odd"]
    [f] = findings(info, "SRV004", method_check=True)
    assert f.where == "serve/classify_x" and "tensorflow/serving/classify" in f.message


def test_zero_input_predict_is_a_rest_note():
    [f] = findings(model(Signature("get", PREDICT, (), (spec("out"),))), "SRV005")
    assert f.severity is Severity.INFO and "REST" in f.message


def test_dtype_and_shape_warnings():
    sig = Signature(
        "c", CLASSIFY, (spec("inputs", "DT_FLOAT", shape=(-1, 1)),), (spec("scores", "DT_INT32", shape=(-1,)),)
    )
    assert {f.where for f in findings(model(sig), "TYPE001")} == {"serve/c/inputs/inputs", "serve/c/outputs/scores"}
    assert {f.where for f in findings(model(sig), "SHAPE001")} == {"serve/c/inputs/inputs", "serve/c/outputs/scores"}
    reg = Signature("r", REGRESS, (spec("inputs", "DT_STRING"),), (spec("outputs", shape=(-1, 1)),))
    assert not findings(model(reg), "SHAPE001") and not findings(model(reg), "TYPE001")
    # unknown rank: a tensor_shape with unknown_rank set
    unknown = Signature(
        "r",
        REGRESS,
        (spec("inputs", "DT_STRING", shape=None, shape_present=True),),
        (spec("outputs", shape=None, shape_present=True),),
    )
    assert not findings(model(unknown), "SHAPE001")


# --- readiness ----------------------------------------------------------------------------------


def test_serve_tag_and_serving_default():
    sig = Signature("serving_default", PREDICT, (spec("x"),), (spec("y"),))
    assert findings(model(sig, tags=("serve", "gpu")), "SERVE001")[0].message.endswith("--saved_model_tags=gpu,serve")
    assert not findings(model(sig), "SERVE001")
    other = Signature("other", PREDICT, (spec("x"),), (spec("y"),))
    [f] = findings(model(other), "SERVE002")
    assert f.severity is Severity.WARNING and "other" in f.message


def test_missing_variables_are_errors(tmp_path):
    import shutil

    cases = (
        ("missing_variables_tf1", REAL / "saved_model_half_plus_two_cpu" / "00000123", "variables", "variables/"),
        ("missing_variables_tf2", GEN / "tf2_warmup", "variables", "variables/"),
        ("variables_index_missing", GEN / "tf2_warmup", "variables/variables.index", "variables/variables.index"),
    )
    for name, source, removed, missing in cases:
        model = tmp_path / name
        shutil.copytree(source, model)
        model.chmod(0o755)
        (shutil.rmtree if (model / removed).is_dir() else os.remove)(model / removed)
        info = load(str(model), graph=True)
        assert [f.where for f in findings(info, "SERVE003")] == [missing], name
    assert not findings(load(str(GEN / "tf2_warmup"), graph=True), "SERVE003")
    assert not findings(load(str(REAL / "saved_model_counter"), graph=True), "SERVE003")


def test_missing_and_escaping_assets():
    from sigtool.model import AssetFile

    mg = MetaGraph(
        ("serve",),
        (),
        asset_files=(AssetFile("a:0", "vocab.txt"), AssetFile("b:0", "../../etc/passwd"), AssetFile("c:0", "ok.txt")),
    )
    info = model(meta_graphs=(mg,), files=ModelFiles(variables=(), assets=("ok.txt",), assets_extra=()))
    messages = {f.where: f.message for f in findings(info, "SERVE004")}
    assert "missing" in messages["serve/assets/vocab.txt"]
    assert "outside the model" in messages["serve/assets/../../etc/passwd"]
    assert len(messages) == 2
    assert not findings(load(str(GEN / "tf1_assets_vocab_table"), graph=True), "SERVE004")


def test_legacy_bundle_is_an_error_with_advice():
    [f] = findings(load(str(REAL / "session_bundle_half_plus_two"), graph=True), "SERVE007")
    assert "re-export" in f.message


def write_tfrecord(path, payloads):
    def masked(data):
        crc = crc32c(data)
        return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    with open(path, "wb") as f:
        for p in payloads:
            length = struct.pack("<Q", len(p))
            f.write(length + struct.pack("<I", masked(length)) + p + struct.pack("<I", masked(p)))


def test_crc32c_known_value():
    assert crc32c(b"123456789") == 0xE3069283


def test_warmup_files_written_with_tensorflow_are_valid():
    for name in ("tf2_warmup", "tf1_classify_regress_predict"):
        info = load(str(GEN / name), graph=True)
        assert info.files.warmup is not None and len(info.files.warmup.records) == 3
        assert not findings(info, "SERVE006"), name


def test_broken_warmup_files(tmp_path):
    import shutil

    from sigtool._proto import prediction_log_pb2

    root = tmp_path / "m" / "1"
    shutil.copytree(GEN / "tf2_warmup", root)
    warmup = root / "assets.extra" / "tf_serving_warmup_requests"
    warmup.chmod(0o644)

    def log(signature, *keys):
        entry = prediction_log_pb2.PredictionLog()
        entry.predict_log.request.model_spec.signature_name = signature
        for k in keys:
            entry.predict_log.request.inputs[k].dtype = 1
        return entry.SerializeToString()

    write_tfrecord(warmup, [log("", "x"), log("nope", "x"), log("serving_default", "x", "zzz")])
    messages = [f.message for f in findings(load(str(root), graph=True), "SERVE006")]
    assert any("'nope'" in m for m in messages) and any("zzz" in m for m in messages) and len(messages) == 2
    write_tfrecord(warmup, [log("", "x")] * 1002)
    assert any("1000" in f.message for f in findings(load(str(root), graph=True), "SERVE006"))
    warmup.write_bytes(warmup.read_bytes()[:30] + b"garbage")
    assert any("TFRecord" in f.message for f in findings(load(str(root), graph=True), "SERVE006"))


# --- unsafe ops -----------------------------------------------------------------------------------


def test_unsafe_ops_in_tf1_graph_and_tf2_functions():
    for name in ("tf1_denylisted_ops", "tf2_denylisted_ops"):
        info = load(str(GEN / name), graph=True)
        ops = {f.message.split()[1] for f in findings(info, "SEC001")}
        assert ops == {"ReadFile", "WriteFile", "PrintV2"}, name
        assert {f.message.split()[1] for f in findings(info, "SEC001", allow_ops=frozenset({"PrintV2"}))} == {
            "ReadFile",
            "WriteFile",
        }


def test_deny_op_extends_the_list():
    info = load(str(REAL / "saved_model_half_plus_two_cpu"), graph=True)
    assert not findings(info, "SEC001")
    [f] = findings(info, "SEC001", deny_ops=frozenset({"Mul"}))
    assert "Mul" in f.message


# --- the valid real models raise no errors ------------------------------------------------------

VALID = [
    "saved_model_half_plus_two_2_versions",
    "saved_model_half_plus_two_cpu",
    "saved_model_half_plus_two_gpu",
    "saved_model_half_plus_two_mkl",
    "saved_model_half_plus_two_tf2_cpu",
    "saved_model_counter",
    "saved_model_half_plus_two_cpu_with_saved_model_config",
    "matrix_half_plus_two",
]
VALID_GENERATED = ["keras_functional_export", "keras_functional_tfsave", "keras_string_lookup"]


@pytest.mark.parametrize(
    "path", [REAL / n for n in VALID] + [GEN / n for n in VALID_GENERATED], ids=VALID + VALID_GENERATED
)
def test_valid_models_raise_no_errors(path):
    result = invoke("check", path, "-f", "json")
    report = json.loads(result.stdout)
    errors = [f for m in report["models"] for f in m["findings"] if f["severity"] == "error"]
    assert errors == [] and result.exit_code == 0, errors


# --- the command ----------------------------------------------------------------------------------


def test_every_rule_is_documented_and_listed():
    listing = invoke("check", "--list-rules").stdout
    for rule_id, r in checks.RULES.items():
        assert r.summary and r.explanation, rule_id
        assert rule_id in listing


@pytest.mark.parametrize("strict", [False, True])
def test_exit_codes(strict):
    flags = ["--strict"] if strict else []
    clean = invoke("check", REAL / "saved_model_half_plus_two_tf2_cpu", *flags)
    assert clean.exit_code == 0, clean.stdout  # no warnings there
    warned = invoke("check", REAL / "saved_model_half_plus_two_cpu", *flags)  # TYPE001/SHAPE001 warnings
    assert warned.exit_code == (1 if strict else 0)
    failing = invoke("check", GEN / "tf1_invalid_classify", *flags)
    assert failing.exit_code == 1
    assert failing.stderr.strip().endswith("FAILED" + (" (--strict: warnings fail)" if strict else ""))


def test_findings_are_all_collected_in_one_run():
    result = invoke("check", GEN / "tf1_invalid_classify", "-f", "json")
    rules = {f["rule"] for f in json.loads(result.stdout)["models"][0]["findings"]}
    assert {"SRV001", "TYPE001", "SHAPE001", "SERVE002"} <= rules


def test_model_base_path_checks_every_version():
    result = invoke("check", REAL / "saved_model_half_plus_two_2_versions", "-f", "json")
    assert [m["version"] for m in json.loads(result.stdout)["models"]] == ["00000123", "00000124"]


def test_several_models_one_summary():
    result = invoke("check", REAL / "saved_model_counter", GEN / "tf1_denylisted_ops")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "in 2 models" in result.stderr


def test_unreadable_model_gets_the_reader_exit_code(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(bytes(range(256)) * 16)
    assert_one_error_line(invoke("check", tmp_path), 3)


def test_unknown_rule_id_is_a_usage_error():
    message = assert_one_error_line(invoke("check", REAL / "saved_model_counter", "--select", "NOPE1"), 2)
    assert "--list-rules" in message


def test_select_and_ignore():
    result = invoke("check", GEN / "tf1_denylisted_ops", "--ignore", "SEC001")
    assert result.exit_code == 0
    result = invoke("check", GEN / "tf1_denylisted_ops", "--select", "SEC001", "-f", "json")
    assert {f["rule"] for f in json.loads(result.stdout)["models"][0]["findings"]} == {"SEC001"}


@pytest.mark.slow
def test_check_never_imports_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys\nfrom sigtool.cli import cli\n"
        "try:\n"
        f"    cli(['check', {str(GEN / 'tf2_denylisted_ops')!r}])\n"
        "except SystemExit:\n    pass\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\nprint('clean')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().endswith("clean"), result.stderr


def test_readme_lists_the_rules_as_check_does():
    from conftest import REPO

    listing = invoke("check", "--list-rules").stdout
    assert "```text\n" + listing + "```" in (REPO / "README.md").read_text()


# --- several MetaGraphs, format notes -----------------------------------------------------------


def test_several_meta_graphs_note_which_are_not_served():
    info = load(str(GEN / "tf1_multi_metagraph"), graph=True)
    assert sorted(f.where for f in findings(info, "SERVE008")) == ["serve,gpu", "train"]
    assert not findings(load(str(REAL / "saved_model_counter"), graph=True), "SERVE008")


def test_format_notes_on_hand_built_models():
    sig = Signature("serving_default", PREDICT, (spec("x"),), (spec("y"),))
    mg = MetaGraph(("serve",), (sig,), tensorflow_version="2.21.0", stripped_default_attrs=True)
    info = model(meta_graphs=(mg,), schema_version=7, format="saved_model_pbtxt")
    assert [f.message for f in findings(info, "FMT001")] == ["written by TensorFlow 2.21.0"]
    assert findings(info, "FMT002")[0].severity is Severity.INFO
    assert "7" in findings(info, "FMT003")[0].message and findings(info, "FMT003")[0].severity is Severity.WARNING
    assert "text format" in findings(info, "FMT004")[0].message
    clean = model(sig)
    assert not findings(clean, "FMT002") and not findings(clean, "FMT003") and not findings(clean, "FMT004")


def test_format_notes_on_real_models(tmp_path):
    assert "1.14.0" in findings(load(str(REAL / "saved_model_half_plus_two_cpu"), graph=True), "FMT001")[0].message
    # saved_model_schema_version (field 1) = 99 appended: the last value of a scalar field wins
    pb = (TESTDATA / "minimal" / "saved_model.pb").read_bytes() + bytes([0x08, 99])
    (tmp_path / "saved_model.pb").write_bytes(pb)
    [f] = findings(load(str(tmp_path), graph=True), "FMT003")
    assert "99" in f.message
    assert findings(load(str(GEN / "tf1_pbtxt"), graph=True), "FMT004")
    assert findings(load(str(GEN / "tf1_composite_tensors"), graph=True), "FMT002")


def test_version_directory_note():
    sig = Signature("serving_default", PREDICT, (spec("x"),), (spec("y"),))
    loose = model(sig, version=None, source="exports/my_model/saved_model.pb")
    [f] = findings(loose, "SERVE005")
    assert f.severity is Severity.INFO and "BASE/1/" in f.message
    assert not findings(model(sig, version=None, source="m/7/saved_model.pb"), "SERVE005")
    assert not findings(load(str(REAL / "saved_model_counter"), graph=True), "SERVE005")  # a model base path
    assert findings(load(str(GEN / "tf1_pbtxt"), graph=True), "SERVE005")
