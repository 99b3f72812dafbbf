"""`sigtool show`: selections, errors, saved_model_cli's narrower texts, and the no-TensorFlow promise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GEN, REAL, REPO, TESTDATA, assert_one_error_line, invoke
from tf_oracle import MODELS, oracle

from sigtool.cli import cli

TWO_VERSIONS = REAL / "saved_model_half_plus_two_2_versions"
MULTI = GEN / "tf1_multi_metagraph"


# --- saved_model_cli's narrower selections, written from TF's facts (asked live) by §2.1's grammar ----


def grammar_tag_sets(facts) -> str:
    tag_sets = sorted(mg["tags"] for mg in facts["meta_graphs"])
    return "The given SavedModel contains the following tag-sets:\n" + "".join(
        repr(", ".join(sorted(t))) + "\n" for t in tag_sets
    )


def grammar_keys(mg) -> str:
    return "The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:\n" + "".join(
        f'SignatureDef key: "{k}"\n' for k in sorted(mg["signature_defs"])
    )


def grammar_signature(sig) -> str:
    def tensor(io, key, t):
        shape = "unknown_rank" if t["shape"] is None else "(" + ", ".join(map(str, t["shape"])) + ")"
        return (
            f"  {io}['{key}'] tensor_info:\n      dtype: {t['dtype']}\n      shape: {shape}\n"
            f"      name: {t['name'] or ''}\n"
        )

    text = "The given SavedModel SignatureDef contains the following input(s):\n"
    text += "".join(tensor("inputs", k, sig["inputs"][k]) for k in sorted(sig["inputs"]))
    text += "The given SavedModel SignatureDef contains the following output(s):\n"
    text += "".join(tensor("outputs", k, sig["outputs"][k]) for k in sorted(sig["outputs"]))
    return text + f"Method name is: {sig['method_name']}\n"


def assert_smcli_grammar(path, facts) -> None:
    assert invoke("show", path, "-f", "smcli").stdout == grammar_tag_sets(facts)
    for tag_set, index in facts["get_meta_graph_def_index_by_tag_set"].items():
        mg = facts["meta_graphs"][index]
        assert invoke("show", path, "--tag-set", tag_set, "-f", "smcli").stdout == grammar_keys(mg)
        for key, sig in mg["signature_defs"].items():
            result = invoke("show", path, "--tag_set", tag_set, "--signature_def", key, "-f", "smcli")
            assert result.stdout == grammar_signature(sig)


@pytest.mark.tf
@pytest.mark.parametrize("path", MODELS, ids=[p.relative_to(TESTDATA).as_posix() for p in MODELS])
def test_smcli_narrow_selections_follow_the_grammar(path):
    assert_smcli_grammar(path, oracle()[path.relative_to(TESTDATA).as_posix()])


def test_smcli_reference_text_for_the_counter():
    # saved_model_cli's output: saved_model_counter__tag_set_serve__signature_def_incr_counter_by.txt
    result = invoke(
        "show", REAL / "saved_model_counter", "--tag-set", "serve", "--signature", "incr_counter_by", "-f", "smcli"
    )
    assert result.stdout == (
        "The given SavedModel SignatureDef contains the following input(s):\n"
        "  inputs['delta'] tensor_info:\n"
        "      dtype: DT_FLOAT\n"
        "      shape: unknown_rank\n"
        "      name: delta:0\n"
        "The given SavedModel SignatureDef contains the following output(s):\n"
        "  outputs['output'] tensor_info:\n"
        "      dtype: DT_FLOAT_REF\n"
        "      shape: ()\n"
        "      name: incr_counter_by_op/AssignAdd:0\n"
        "Method name is: tensorflow/serving/predict\n"
    )


def test_smcli_multi_tag_listing():
    # saved_model_cli lists the tag-sets in stored order, not sorted.
    assert invoke("show", MULTI, "-f", "smcli").stdout == (
        "The given SavedModel contains the following tag-sets:\n'serve'\n'gpu, serve'\n'train'\n"
    )


# --- selection and errors ----------------------------------------------------------------


def test_unknown_tag_set_lists_the_valid_ones_sorted():
    message = assert_one_error_line(invoke("show", MULTI, "--tag-set", "gpu"), 2)
    assert message.endswith("valid tag-sets: gpu,serve; serve; train")


def test_tag_set_order_does_not_matter():
    a = invoke("show", MULTI, "--tag-set", "gpu,serve", "-f", "json")
    b = invoke("show", MULTI, "--tag-set", "serve, gpu", "-f", "json")
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout
    assert [mg["tags"] for mg in json.loads(a.stdout)["meta_graphs"]] == [["serve", "gpu"]]


def test_unknown_signature_lists_the_valid_keys_sorted():
    path = REAL / "saved_model_half_plus_two_cpu"
    message = assert_one_error_line(invoke("show", path, "--tag-set", "serve", "--signature", "nope"), 2)
    assert message.endswith(
        "valid keys: classify_x_to_y, regress_x2_to_y3, regress_x_to_y, regress_x_to_y2, serving_default"
    )


def test_signature_without_tag_set_uses_the_only_meta_graph():
    result = invoke("show", REAL / "saved_model_half_plus_two_cpu", "--signature", "serving_default", "-f", "json")
    assert result.exit_code == 0
    [mg] = json.loads(result.stdout)["meta_graphs"]
    assert [s["key"] for s in mg["signatures"]] == ["serving_default"]


def test_signature_without_tag_set_takes_the_served_meta_graph_as_run_does():
    result = invoke("show", MULTI, "--signature", "serving_default", "-f", "json")
    assert result.exit_code == 0, result.stderr
    [mg] = json.loads(result.stdout)["meta_graphs"]
    assert mg["tags"] == ["serve"] and [s["key"] for s in mg["signatures"]] == ["serving_default"]


def test_signature_without_tag_set_or_serve_meta_graph_lists_the_tag_sets(tmp_path):
    from sigtool._proto import saved_model_pb2

    model = saved_model_pb2.SavedModel.FromString((Path(MULTI) / "saved_model.pb").read_bytes())
    for mg in model.meta_graphs:
        if list(mg.meta_info_def.tags) == ["serve"]:
            mg.meta_info_def.tags[:] = ["eval"]
    no_serve = tmp_path / "no_serve"
    no_serve.mkdir()
    (no_serve / "saved_model.pb").write_bytes(model.SerializeToString())
    message = assert_one_error_line(invoke("show", str(no_serve), "--signature", "serving_default"), 2)
    assert "--tag-set" in message and "valid tag-sets:" in message


def test_model_base_path_uses_the_highest_version_and_says_so():
    result = invoke("show", TWO_VERSIONS, "-f", "json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["version"] == "00000124" and shown["other_versions"] == ["00000123"]
    assert "using version 00000124" in result.stderr and "00000123" in result.stderr


def test_version_option_picks_one():
    shown = json.loads(invoke("show", TWO_VERSIONS, "--version", "123", "-f", "json").stdout)
    assert shown["version"] == "00000123"
    message = assert_one_error_line(invoke("show", TWO_VERSIONS, "--version", "7"), 2)
    assert "00000123, 00000124" in message


def test_the_pb_file_itself_can_be_given():
    path = REAL / "saved_model_half_plus_two_cpu" / "00000123" / "saved_model.pb"
    result = invoke("show", path, "-f", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["source"] == str(path)


def test_missing_path():
    message = assert_one_error_line(invoke("show", "no/such/model"), 3)
    assert "no such file or directory" in message


def test_data_on_stdout_diagnostics_on_stderr():
    result = invoke("show", TWO_VERSIONS, "-f", "json")
    json.loads(result.stdout)  # nothing but JSON on stdout
    assert result.stderr.startswith("Note: ")


def test_table_hides_internal_signatures_unless_all():
    path = REAL / "saved_model_half_plus_two_tf2_cpu"
    plain = invoke("show", path)
    assert "__saved_model_init_op" not in plain.stdout and "__saved_model_init_op hidden" in plain.stderr
    assert "__saved_model_init_op" in invoke("show", path, "--all").stdout


def test_table_puts_serving_default_first():
    out = invoke("show", REAL / "saved_model_half_plus_two_cpu").stdout
    keys = [line.split()[0] for line in out.splitlines() if "tensorflow/serving/" in line]
    assert keys[0] == "serving_default" and keys[1:] == sorted(keys[1:])


def test_json_is_stable_and_sorted():
    path = GEN / "tf2_module_multisig"
    first = invoke("show", path, "--all", "-f", "json").stdout
    assert first == invoke("show", path, "--all", "-f", "json").stdout
    data = json.loads(first)
    assert data["schema"] == "sigtool.show/1"
    assert first == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_pbtxt_model_reads_like_tensorflow():
    result = invoke("show", GEN / "tf2_pbtxt_converted", "--all", "-f", "json")
    shown = json.loads(result.stdout)
    assert shown["format"] == "saved_model_pbtxt"
    assert shown["meta_graphs"][0]["functions"]


def test_every_command_has_help():
    for name, command in cli.commands.items():
        assert command.help, name
        assert invoke(name, "--help").exit_code == 0


def test_help_documents_exit_codes():
    out = invoke("--help").stdout
    for code in ("0 ", "1 ", "2 ", "3 ", "4 "):
        assert f"  {code} " in out


# --- TensorFlow is never imported by show ----------------------------------------------


@pytest.mark.slow
def test_show_never_imports_tensorflow():
    code = (
        "import sys\n"
        "from sigtool.cli import cli\n"
        "assert 'tensorflow' not in sys.modules\n"
        "try:\n"
        f"    cli(['show', {str(REAL / 'saved_model_half_plus_two_tf2_cpu')!r}, '--all'])\n"
        "except SystemExit as e:\n"
        "    assert e.code in (0, None), e.code\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'numpy'))\n"
        "assert not bad, bad\n"
        "print('clean')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("clean")


@pytest.mark.skipif(
    shutil.which("sigtool") is None and not os.path.exists(os.path.join(os.path.dirname(sys.executable), "sigtool")),
    reason="console script not installed",
)
@pytest.mark.slow
def test_console_script_and_python_m_work():
    script = os.path.join(os.path.dirname(sys.executable), "sigtool")
    for cmd in ([script], [sys.executable, "-m", "sigtool"]):
        result = subprocess.run(
            cmd + ["show", str(REAL / "matrix_half_plus_two"), "-f", "json"], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["meta_graphs"][0]["signatures"][0]["key"] == "serving_default"


@pytest.mark.slow
def test_no_color_and_no_terminal_codes_when_piped():
    env = dict(os.environ, NO_COLOR="1")
    result = subprocess.run(
        [sys.executable, "-m", "sigtool", "show", str(REAL / "saved_model_half_plus_two_cpu")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0
    assert "\x1b[" not in result.stdout


def test_terminal_rendering_folds_long_names_and_colours():
    from rich.console import Console

    from sigtool import loader
    from sigtool.render import tables

    info = loader.load(str(REAL / "saved_model_half_plus_two_tf2_cpu"))
    console = Console(force_terminal=True, width=50, color_system="standard", highlight=False)
    with console.capture() as captured:
        console.print(tables.rich_renderable(tables.show_table(info)))
    screen = captured.get()
    assert "\x1b[" in screen  # colours on a terminal
    joined = "".join(screen.split())
    for sig in info.meta_graphs[0].signatures:
        for t in sig.inputs + sig.outputs:
            assert t.name in joined  # folded onto more lines, never cut
