"""What the loader says about inputs that are not quite a SavedModel, and about strings that are not UTF-8.

Models come from testdata/make_loader_models.py (testdata/wild/loader/), which the last test keeps
in step with the committed files.
"""

from __future__ import annotations

import json
import sys

import pytest
from conftest import TESTDATA, assert_one_error_line, invoke

sys.path.insert(0, str(TESTDATA))
import make_loader_models as generator

WILD = TESTDATA / "wild" / "loader"
MESSAGES = WILD / "messages"
UTF8 = WILD / "utf8"


# --- not a SavedModel, but close ------------------------------------------------------------------


def test_graph_def_as_pbtxt_is_named_as_such():
    message = assert_one_error_line(invoke("show", MESSAGES / "graph_def" / "frozen_graph.pbtxt"), 3)
    assert "is a GraphDef" in message and "not a SavedModel" in message
    assert "tf.saved_model.save" in message


def test_graph_def_as_saved_model_pb_is_named_as_such(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(
        generator.graph_pb2.GraphDef(node=generator.mt.half_plus_two_nodes()).SerializeToString()
    )
    message = assert_one_error_line(invoke("show", tmp_path), 3)
    assert "is a GraphDef" in message and "not a SavedModel" in message


def test_meta_graph_def_as_pbtxt_says_how_to_wrap_it(tmp_path):
    text = generator.text_format.MessageToString(generator.mg_of(generator.minimal()))
    (tmp_path / "saved_model.pbtxt").write_text(text)
    message = assert_one_error_line(invoke("show", tmp_path), 3)
    assert "a MetaGraphDef in text format, not a SavedModel" in message and "meta_graphs {" in message


@pytest.mark.parametrize("name", ["variables.index", "variables.data-00000-of-00001"])
def test_variables_file_points_at_the_model_two_levels_up(name, monkeypatch):
    monkeypatch.chdir(MESSAGES)
    message = assert_one_error_line(invoke("show", f"with_variables/variables/{name}"), 3)
    assert "of a SavedModel" in message and "not the model" in message
    assert message.endswith("pass the SavedModel directory instead: with_variables")
    assert ("variables index" in message) == (name == "variables.index")
    # the directory it names is the model
    assert invoke("show", "with_variables").exit_code == 0


def test_variables_index_at_the_top_of_a_relative_path(tmp_path, monkeypatch):
    (tmp_path / "variables").mkdir()
    (tmp_path / "variables" / "variables.index").write_bytes(b"\0")
    monkeypatch.chdir(tmp_path)
    message = assert_one_error_line(invoke("show", "variables/variables.index"), 3)
    assert message.endswith("pass the SavedModel directory instead: .")


def test_directory_of_models_names_them_sorted(monkeypatch):
    monkeypatch.chdir(MESSAGES)
    message = assert_one_error_line(invoke("show", "models"), 3)
    assert "its subdirectories hold models: bert, mobilenet, resnet;" in message
    assert message.endswith("e.g. models/bert")
    assert "README" not in message


def test_directory_of_many_models_is_bounded(tmp_path):
    model = (MESSAGES / "models" / "bert" / "saved_model.pb").read_bytes()
    for index in range(25):
        (tmp_path / f"m{index:02d}").mkdir()
        (tmp_path / f"m{index:02d}" / "saved_model.pb").write_bytes(model)
    (tmp_path / "base" / "1").mkdir(parents=True)  # a model base path counts as a model too
    (tmp_path / "base" / "1" / "saved_model.pb").write_bytes(model)
    message = assert_one_error_line(invoke("show", tmp_path), 3)
    assert "hold models: base, m00, m01, m02, m03, m04, m05, m06, m07, m08 and 16 more;" in message


def test_directory_without_models_keeps_the_plain_message(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    message = assert_one_error_line(invoke("show", tmp_path), 3)
    assert "is this the model directory?" in message


@pytest.mark.parametrize("typed", ["train,serve", "serve, train", "gpu,serve,train"])
def test_tag_set_error_echoes_what_was_typed(typed):
    message = assert_one_error_line(invoke("show", TESTDATA / "multi_tag", "--tag-set", typed), 2)
    assert f"no MetaGraph with tag-set '{typed.replace(' ', '')}'" in message
    assert message.endswith("valid tag-sets: gpu,serve; serve; train")


# --- string fields that are not UTF-8 ------------------------------------------------------------------

CASES = sorted(generator.UTF8_CASES)


def shown_paths(result) -> list[str]:
    return json.loads(result.stdout).get("invalid_utf8", [])


def fmt005(result) -> list[str]:
    found = [f for model in json.loads(result.stdout)["models"] for f in model["findings"] if f["rule"] == "FMT005"]
    assert all(f["severity"] == "error" for f in found)
    return [f["message"].split("string field ")[1].removesuffix(" is not valid UTF-8") for f in found]


@pytest.mark.parametrize("kind", CASES)
def test_check_names_the_field_tensorflow_refuses(kind):
    _, path, _ = generator.UTF8_CASES[kind]
    result = invoke("check", "-f", "json", UTF8 / kind)
    assert result.exit_code == 1, result.stderr
    assert fmt005(result) == [path]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("kind", CASES)
def test_show_displays_it_then_fails_with_one_error(kind):
    _, path, decoded_by_show = generator.UTF8_CASES[kind]
    result = invoke("show", UTF8 / kind, "--all", "-f", "json")
    if not decoded_by_show:
        assert result.exit_code == 0, result.stderr
        assert shown_paths(result) == []
        return
    message = assert_one_error_line(result, 3)
    assert message.startswith(f"Error: {UTF8 / kind / 'saved_model.pb'}: TensorFlow will not parse this file")
    assert f"string field {path} is not valid UTF-8" in message
    assert shown_paths(result) == [path]  # the data is still there, with replacement characters
    assert ("\ufffd" in result.stdout) == (kind != "function_name")  # function names are not printed


def test_show_table_and_plain_show_fail_too():
    smcli = ("-f", "smcli", "--tag-set", "serve", "--signature", "serving_default")
    for extra in ((), smcli, ("--tag-set", "serve")):
        result = invoke("show", UTF8 / "method_name", *extra)
        assert "tensorflow/serving/predict\ufffd" in result.stdout
        assert "method_name is not valid UTF-8" in assert_one_error_line(result, 3)


def test_a_garbled_tag_is_named_instead_of_an_unknown_tag_set():
    result = invoke("show", UTF8 / "tag", "--tag-set", "serve")
    assert "meta_info_def.tags[0] is not valid UTF-8" in assert_one_error_line(result, 3)


def test_text_and_binary_agree():
    binary = invoke("show", UTF8 / "tag", "--all", "-f", "json")
    text = invoke("show", UTF8 / "pbtxt", "--all", "-f", "json")
    assert shown_paths(text) == shown_paths(binary) == ["meta_graphs[0].meta_info_def.tags[0]"]
    assert json.loads(text.stdout)["meta_graphs"] == json.loads(binary.stdout)["meta_graphs"]
    assert fmt005(invoke("check", "-f", "json", UTF8 / "pbtxt")) == ["meta_graphs[0].meta_info_def.tags[0]"]


def test_legacy_export_names_the_signature_binding():
    path = (
        "collection_def['serving_signatures'].any_list.value[0].value"
        ".named_signatures['regress'].regression_signature.output.tensor_name"
    )
    result = invoke("show", UTF8 / "legacy", "-f", "json")
    assert f"string field {path} is not valid UTF-8" in assert_one_error_line(result, 3)
    assert fmt005(invoke("check", "-f", "json", UTF8 / "legacy")) == [path]


def test_show_finds_no_more_than_check():
    """check reads every string field; show only what it decodes: never a path check does not report."""
    for kind in CASES:
        shown = shown_paths(invoke("show", UTF8 / kind, "--all", "-f", "json"))
        assert set(shown) <= set(fmt005(invoke("check", "-f", "json", UTF8 / kind))), kind


def test_valid_models_report_nothing():
    assert "invalid_utf8" not in json.loads(invoke("show", TESTDATA / "minimal", "--all", "-f", "json").stdout)
    assert fmt005(invoke("check", "-f", "json", TESTDATA / "minimal")) == []


def test_corrupt_bytes_are_still_corrupt(tmp_path):
    """A broken length inside a node is corruption, not a UTF-8 problem: check keeps its own error."""
    data = bytearray((UTF8 / "node_name" / "saved_model.pb").read_bytes())
    at = data.index(b"unused" + generator.BAD)
    data[at - 1] = 0x7F  # the node name's length now overruns its node
    (tmp_path / "saved_model.pb").write_bytes(bytes(data))
    message = assert_one_error_line(invoke("check", tmp_path), 3)
    assert "UTF-8" not in message


# --- the generator -------------------------------------------------------------------------------------


def test_committed_models_are_what_the_generator_writes():
    for rel, data in generator.build().items():
        path = TESTDATA / rel
        assert path.is_file() and path.read_bytes() == data, f"{rel}: run python testdata/make_loader_models.py"


@pytest.mark.parametrize("kind", CASES)
def test_every_case_as_text_reports_the_same_fields(kind, tmp_path):
    """The .pbtxt path (protobuf's text parser) and the binary fast path name the same fields."""
    from google.protobuf import text_format

    from sigtool._proto import saved_model_pb2
    from sigtool.loader import utf8

    lenient = utf8.lenient_class(saved_model_pb2.SavedModel.DESCRIPTOR)
    message = lenient.FromString((UTF8 / kind / "saved_model.pb").read_bytes())
    (tmp_path / "saved_model.pbtxt").write_text(text_format.MessageToString(message))
    for command in (("show", "--all"), ("check",)):
        binary = invoke(*command, "-f", "json", UTF8 / kind)
        text = invoke(*command, "-f", "json", tmp_path)
        assert (text.exit_code, binary.exit_code) in ((3, 3), (0, 0), (1, 1)), (text.stderr, binary.stderr)
        if command[0] == "show":
            assert shown_paths(text) == shown_paths(binary)
        else:
            assert fmt005(text) == fmt005(binary)
