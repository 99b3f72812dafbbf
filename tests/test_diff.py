"""sigtool diff: the comparison on hand-built models, the metadata reader, the base-path form, CI formats."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from xml.etree import ElementTree as ET

import pytest
from conftest import REAL, TESTDATA

from sigtool.commands.diff import DiffRequest, diff_models
from sigtool.diff import KINDS, Severity, compare, metadata_json
from sigtool.diff.engine import relation
from sigtool.errors import LoadError, UsageError
from sigtool.model import CLASSIFY, PREDICT, MetaGraph, SavedModelInfo, Signature, TensorSpec
from sigtool.render import ci as ci_formats

GOLDEN_METADATA = TESTDATA / "metadata" / "half_plus_two_model_metadata.json"
HALF_PLUS_TWO = REAL / "saved_model_half_plus_two_cpu"
PAIRS = TESTDATA / "diff"


def spec(key, dtype="DT_FLOAT", shape=(-1, 1), name=None):
    return TensorSpec(key=key, dtype=dtype, shape=shape, shape_present=True, encoding="name", name=name or f"{key}:0")


def model(*signatures, tags=("serve",), tf_version="", ops=None):
    mg = MetaGraph(tags=tags, signatures=tuple(signatures), tensorflow_version=tf_version, ops=ops)
    return SavedModelInfo(
        path="m", source="m/saved_model.pb", format="saved_model_pb", schema_version=1, meta_graphs=(mg,)
    )


X, Y = spec("x"), spec("y")


def sig(key="serving_default", method=PREDICT, inputs=(X,), outputs=(Y,)):
    return Signature(key, method, tuple(inputs), tuple(outputs))


def codes(changes):
    return [(c.code, c.where) for c in changes]


# ---------------------------------------------------------------- the engine on plain data


def test_codes_are_documented_and_grouped_by_severity():
    first = {Severity.BREAKING: "0", Severity.WARNING: "1", Severity.INFO: "2"}
    for code, kind in KINDS.items():
        assert code.startswith("DIFF") and len(code) == 7 and kind.summary.endswith(".")
        assert code[4] == first[kind.severity], code


@pytest.mark.parametrize(
    "old,new,how",
    [
        ((-1, 1), (-1, 1), "same"),
        ((-1, 1), (8, 1), "narrower"),
        ((8, 1), (-1, 1), "wider"),
        ((-1, 3), (-1, 4), "changed"),
        ((-1, 1), (-1, 1, 1), "changed"),
        (None, (-1,), "narrower"),
        ((-1,), None, "wider"),
        (None, None, "same"),
        ((-1, 2), (3, -1), "changed"),
        ((), (), "same"),
    ],
)
def test_shape_relation(old, new, how):
    assert relation(old, new) == how


def test_identical_models_have_no_changes():
    assert compare(model(sig()), model(sig())) == []


def test_input_widened_is_info_and_output_narrowed_is_info():
    old = model(sig(inputs=[spec("x", shape=(8, 1))], outputs=[spec("y", shape=(-1, 1))]))
    new = model(sig(inputs=[spec("x", shape=(-1, 1))], outputs=[spec("y", shape=(8, 1))]))
    assert [(c.code, c.severity) for c in compare(old, new)] == [("DIFF204", Severity.INFO), ("DIFF205", Severity.INFO)]


def test_output_fixed_size_change_is_a_warning():
    changes = compare(model(sig(outputs=[spec("y", shape=(-1, 2))])), model(sig(outputs=[spec("y", shape=(-1, 3))])))
    assert [(c.code, c.old, c.new) for c in changes] == [("DIFF102", "(?, 2)", "(?, 3)")]


def test_encoding_change_is_breaking_and_hides_the_rest():
    sparse = TensorSpec("x", "DT_INT64", (-1, -1), True, "coo_sparse")
    changes = compare(model(sig()), model(sig(inputs=[sparse])))
    assert [c.code for c in changes] == ["DIFF009"]


def test_internal_signature_changes_are_info_at_most():
    init = sig("__saved_model_init_op", method="", inputs=(), outputs=[spec("__saved_model_init_op", "DT_INVALID")])
    gone = compare(model(sig(), init), model(sig()))
    assert [(c.code, c.severity) for c in gone] == [("DIFF209", Severity.INFO)]
    renamed = replace(init, outputs=(spec("__saved_model_init_op", "DT_INVALID", name="NoOp_1"),))
    assert [c.code for c in compare(model(sig(), init), model(sig(), renamed))] == ["DIFF209"]


def test_classify_signature_that_now_fails_serving_checks():
    ok = sig("c", CLASSIFY, inputs=[spec("inputs", "DT_STRING", (-1,))], outputs=[spec("scores")])
    two_inputs = replace(ok, inputs=ok.inputs + (spec("extra"),))
    changes = compare(model(sig(), ok), model(sig(), two_inputs))
    assert ("DIFF013", "serve/c") in codes(changes)
    assert next(c for c in changes if c.code == "DIFF013").message.endswith("Expected one input Tensor.")


def test_classify_signature_that_already_failed_is_not_reported_again():
    bad = sig("c", CLASSIFY, inputs=[spec("x")], outputs=[spec("scores")])
    worse = replace(bad, outputs=(spec("probabilities"),))
    assert "DIFF013" not in [c.code for c in compare(model(bad), model(worse))]


def test_tensorflow_version():
    newer = compare(model(sig(), tf_version="2.15.1"), model(sig(), tf_version="2.18.0"))
    assert [(c.code, c.severity, c.old, c.new) for c in newer] == [("DIFF104", Severity.WARNING, "2.15.1", "2.18.0")]
    patch = compare(model(sig(), tf_version="2.15.0"), model(sig(), tf_version="2.15.1"))
    assert [(c.code, c.severity) for c in patch] == [("DIFF206", Severity.INFO)]


def test_new_ops_that_need_a_newer_tensorflow():
    old = model(sig(), ops=("Add", "Placeholder"))
    changes = compare(old, model(sig(), ops=("Add", "DecodeWebP", "Mul", "Placeholder")))
    assert [(c.code, c.severity, c.new) for c in changes] == [("DIFF103", Severity.WARNING, "TF >= 2.21.0")]
    assert "DecodeWebP" in changes[0].message
    assert compare(old, model(sig(), ops=("Add", "Mul", "Placeholder"))) == []  # Mul: in every release


def test_variables_size():
    changes = compare(model(sig()), model(sig()), variables=(100, 250))
    assert [(c.code, c.old, c.new) for c in changes] == [("DIFF207", "100 bytes", "250 bytes")]


def test_tag_set_asked_for():
    gpu = model(sig(), tags=("serve", "gpu"))
    assert compare(gpu, gpu, ("gpu", "serve")) == []
    with pytest.raises(UsageError, match="valid tag-sets: gpu,serve"):
        compare(gpu, gpu, ("serve",))


def test_changes_are_sorted_serving_default_first():
    old = model(sig(), sig("a"), sig("z"))
    new = model(sig(inputs=[spec("x", "DT_INT32")]), sig("a", inputs=[spec("x", "DT_INT32")]))
    assert codes(compare(old, new)) == [
        ("DIFF007", "serve/serving_default/inputs/x"),
        ("DIFF007", "serve/a/inputs/x"),
        ("DIFF002", "serve/z"),
    ]


# ---------------------------------------------------------------- metadata responses


def test_metadata_golden_against_its_model_has_no_change():
    for old, new in ((GOLDEN_METADATA, HALF_PLUS_TWO), (HALF_PLUS_TWO, GOLDEN_METADATA)):
        lines = []
        result = diff_models(DiffRequest(str(old), str(new)), lines.append)
        assert result.report.changes == () and result.exit_code == 0
        assert (
            "Note: tf.Example features were not compared: a metadata response has no graph to read them from" in lines
        )


def test_metadata_golden_against_a_model_lacking_a_signature(tmp_path):
    body = json.loads(GOLDEN_METADATA.read_text())
    del body["metadata"]["signature_def"]["signature_def"]["regress_x_to_y2"]
    candidate = tmp_path / "candidate.json"
    candidate.write_text(json.dumps(body))
    result = diff_models(DiffRequest(str(GOLDEN_METADATA), str(candidate)))
    assert result.exit_code == 1
    assert [(c.code, c.severity.value, c.where) for c in result.report.changes] == [
        ("DIFF002", "breaking", "serve/regress_x_to_y2")
    ]
    assert result.summary == "1 breaking, 0 warnings, 0 info: FAILED"


def test_metadata_reader_fields():
    info = metadata_json.read(str(GOLDEN_METADATA))
    assert info.version == "123" and info.format == "metadata_json"
    mg = info.meta_graphs[0]
    assert mg.tags == ("serve",) and mg.graph is None and mg.ops is None
    assert [s.key for s in mg.signatures] == [
        "serving_default",
        "classify_x_to_y",
        "regress_x2_to_y3",
        "regress_x_to_y",
        "regress_x_to_y2",
    ]
    classify = mg.signature("classify_x_to_y")
    assert classify.inputs == (TensorSpec("inputs", "DT_STRING", None, True, "name", "tf_example:0"),)


def test_metadata_reader_takes_json_names_and_missing_shapes(tmp_path):
    body = {
        "modelSpec": {"name": "m"},
        "metadata": {
            "signature_def": {
                "signatureDef": {
                    "s": {
                        "methodName": PREDICT,
                        "inputs": {
                            "x": {
                                "dtype": 1,
                                "tensorShape": {"dim": [{"size": "-1"}], "unknownRank": False},
                                "name": "x:0",
                            }
                        },
                        "outputs": {
                            "y": {"dtype": "DT_FLOAT", "name": "y:0"},
                            "sp": {
                                "dtype": "DT_INT64",
                                "cooSparse": {
                                    "valuesTensorName": "v:0",
                                    "indicesTensorName": "i:0",
                                    "denseShapeTensorName": "d:0",
                                },
                            },
                        },
                    }
                }
            }
        },
    }
    path = tmp_path / "m.json"
    path.write_text(json.dumps(body))
    s = metadata_json.read(str(path)).meta_graphs[0].signature("s")
    assert s.method_name == PREDICT
    assert s.inputs[0].dtype == "DT_FLOAT" and s.inputs[0].shape == (-1,)
    sp, y = s.outputs
    assert (sp.encoding, sp.sparse.indices) == ("coo_sparse", "i:0")
    assert (y.shape, y.shape_present) == ((), False)


@pytest.mark.parametrize(
    "text,message",
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "not a GetModelMetadata response"),
        ('{"model_spec": {}}', "metadata is not a JSON object"),
        ('{"metadata": {"other": {}}}', 'metadata has no "signature_def"'),
        (
            '{"metadata": {"signature_def": {"signature_def": {"s": {"inputs": {"x": {"dtype": "float"}}}}}}}',
            "not a DataType",
        ),
    ],
)
def test_metadata_reader_errors_are_load_errors(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(LoadError, match=message):
        metadata_json.read(str(path))


def test_metadata_detected_by_content_without_an_extension(tmp_path):
    path = tmp_path / "deployed"
    shutil.copy(GOLDEN_METADATA, path)
    assert metadata_json.looks_like_metadata(str(path))
    assert not metadata_json.looks_like_metadata(str(HALF_PLUS_TWO / "00000123" / "saved_model.pb"))


# ---------------------------------------------------------------- model base paths


def test_base_path_compares_the_two_highest_versions_in_numeric_order(tmp_path):
    for version, side in (("2", "old"), ("9", "old"), ("10", "new")):
        shutil.copytree(PAIRS / "input_dtype" / side, tmp_path / version)
    lines = []
    result = diff_models(DiffRequest(str(tmp_path)), lines.append)
    newest = "(the newest, which Serving would switch to)"
    assert lines == [f"Note: comparing version 9 with version 10 {newest} of {tmp_path}"]
    assert result.report.old.path == str(tmp_path / "9") and result.report.new.path == str(tmp_path / "10")
    assert result.exit_code == 1 and [c.code for c in result.report.changes] == ["DIFF007"]


def test_base_path_versions_can_be_chosen(tmp_path):
    for version, side in (("1", "old"), ("2", "new"), ("3", "old")):
        shutil.copytree(PAIRS / "input_dtype" / side, tmp_path / version)
    result = diff_models(DiffRequest(str(tmp_path), old_version="1", new_version="3"))
    assert result.report.changes == ()
    result = diff_models(DiffRequest(str(tmp_path), new_version="2"))
    assert (result.report.old.path, result.exit_code) == (str(tmp_path / "1"), 1)


def test_base_path_needs_two_versions(tmp_path):
    shutil.copytree(PAIRS / "identical" / "old", tmp_path / "1")
    with pytest.raises(UsageError, match="it has one version"):
        diff_models(DiffRequest(str(tmp_path)))
    with pytest.raises(UsageError, match="not a model base path"):
        diff_models(DiffRequest(str(PAIRS / "identical" / "old")))


def test_unreadable_model_is_a_load_error(tmp_path):
    with pytest.raises(LoadError) as e:
        diff_models(DiffRequest(str(tmp_path / "missing"), str(PAIRS / "identical" / "new")))
    assert e.value.exit_code == 3


def test_unknown_format_is_a_usage_error():
    with pytest.raises(UsageError, match="valid formats: github, json, junit, table"):
        diff_models(DiffRequest(str(PAIRS / "identical" / "old"), str(PAIRS / "identical" / "new"), fmt="xml"))


# ---------------------------------------------------------------- CI formats


def test_junit_has_one_testcase_per_compared_signature():
    result = diff_models(
        DiffRequest(str(PAIRS / "classify_fails" / "old"), str(PAIRS / "classify_fails" / "new"), fmt="junit")
    )
    root = ET.fromstring(result.output)
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["serving_default", "classify"]
    assert [c.find("failure") is not None for c in cases] == [False, True]
    assert root.get("tests") == "2" and root.get("failures") == "1"


def test_junit_tag_set_gone_fails_every_old_signature():
    result = diff_models(
        DiffRequest(str(PAIRS / "tag_set_gone" / "old"), str(PAIRS / "tag_set_gone" / "new"), fmt="junit")
    )
    cases = ET.fromstring(result.output).findall("./testsuite/testcase")
    assert [(c.get("name"), c.find("failure").get("type")) for c in cases] == [("serving_default", "DIFF001")]


def test_github_escapes_newlines_and_percent_and_leaves_out_info():
    items = [
        ci_formats.Item("error", "a/b", "X1", "50% off\nnext"),
        ci_formats.Item("info", "", "X2", "quiet"),
        ci_formats.Item("warning", "", "X3", "w"),
    ]
    expected = "::error title=tool X1::a/b: 50%25 off%0Anext\n::warning title=tool X3::w\n"
    assert ci_formats.github(items, "tool") == expected


def _report(findings):
    from sigtool.checks import Finding, Report
    from sigtool.checks import Severity as CheckSeverity

    made = tuple(Finding(rule, CheckSeverity(level), where, message) for rule, level, where, message in findings)
    return Report("models/m", "models/m/saved_model.pb", None, made, False)


@pytest.mark.parametrize("strict", [False, True])
def test_check_formats(strict):
    clean = _report([])
    found = _report(
        [
            ("SRV001", "error", "serve/c", "bad"),
            ("SERVE002", "warning", "serve", "no default"),
            ("FMT001", "info", "serve", "TF 2.21"),
        ]
    )
    github = ci_formats.check_github([found, clean], strict)
    assert github == (
        "::error title=sigtool check SRV001::models/m: serve/c: bad\n"
        "::warning title=sigtool check SERVE002::models/m: serve: no default\n"
    )
    root = ET.fromstring(ci_formats.check_junit([found, clean], strict))
    assert [(s.get("tests"), s.get("failures")) for s in root.findall("testsuite")] == [
        ("3", "2" if strict else "1"),
        ("1", "0"),
    ]
    assert [c.get("name") for c in root.iter("testcase")] == ["FMT001", "SERVE002", "SRV001", "check"]
