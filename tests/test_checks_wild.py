"""check on models of the kinds found in the wild (issue 9): TFMA eval graphs, Estimator boosted trees,
removed and custom ops, duplicate tag-sets; and the registered-op data behind OPS001-003.

The models are testdata/wild/checks/, built by testdata/make_check_models.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO, TESTDATA, invoke
from factories import found, model, node, wired

from sigtool.checks import op_support as ops_rules
from sigtool.checks import run_checks
from sigtool.loader import load
from sigtool.model import Arg, Attr, FunctionGraph, SavedModelInfo

WILD = TESTDATA / "wild" / "checks"

sys.path.insert(0, str(TESTDATA))
import make_check_models as generator  # noqa: E402 - found through the sys.path entry just above


def wild(name: str) -> SavedModelInfo:
    return load(str(WILD / name), graph=True)


X = node("x", "Placeholder", dtype=Attr("type", "DT_FLOAT"))
VAR = node("v", "VarHandleOp", dtype=Attr("type", "DT_FLOAT"))


# --- GRAPH004: control inputs ---------------------------------------------------------------------


def test_graph004_tfma_metric_consts_run_after_their_updates_are_not_constants():
    """The metric values are Consts whose control inputs run AssignAddVariableOps of the parsed
    inputs: directly (age_total), through a NoOp group (example_count), and through an update_op that
    reads the updated variables (mean_age, as tf.compat.v1.metrics.mean builds it): nothing to report."""
    info = wild("tfma_eval")
    sig = info.meta_graphs[0].signature("eval")
    assert {t.key for t in sig.outputs} == {
        "metrics/age_total/value",
        "metrics/example_count/value",
        "metrics/mean_age/value",
    }
    for t in sig.outputs:
        const = info.meta_graphs[0].graph.node(t.name.partition(":")[0])
        assert const.op == "Const" and all(i.startswith("^") for i in const.inputs) and const.inputs
    assert found(info, "GRAPH004") == []
    assert [f for f in run_checks(info) if f.rule == "GRAPH004"] == []


def test_graph004_a_const_without_control_input_in_the_same_graph_still_fires():
    ((where, message),) = found(wild("tfma_eval_frozen"), "GRAPH004")
    assert where == "eval_saved_model/eval/outputs/metrics/frozen/value"
    assert "metrics/frozen/value:0 ← Const metrics/frozen/value" in message


def test_graph004_control_inputs_that_change_nothing_do_not_hide_a_constant():
    """^x (a fed placeholder), ^NoOp with nothing under it, ^Assert on the input: no state changes,
    so the Const is still the same on every request."""
    nodes = [
        X,
        node("noop", "NoOp"),
        node("check", "Assert", "x"),
        node("c1", "Const", "^x"),
        node("c2", "Const", "^noop"),
        node("c3", "Const", "^check"),
    ]
    info = model(wired("s", {"x": "x:0"}, {"a": "c1:0", "b": "c2:0", "c": "c3:0"}), nodes=nodes)
    assert [w for w, _ in found(info, "GRAPH004")] == ["serve/s/outputs/a", "serve/s/outputs/b", "serve/s/outputs/c"]


def test_graph004_update_through_identity_and_noop_groups():
    nodes = [
        X,
        VAR,
        node("update", "AssignAddVariableOp", "v", "x"),
        node("after", "Identity", "x", "^update"),
        node("group", "NoOp", "^after"),
        node("value", "Const", "^group"),
    ]
    assert found(model(wired("s", {"x": "x:0"}, {"m": "value:0"}), nodes=nodes), "GRAPH004") == []


def _tf2(body_extra, with_control: bool):
    """TF2 shape: the output Identity has ^StatefulPartitionedCall (automatic control dependencies);
    the function returns a Const."""
    f = FunctionGraph(
        name="f",
        inputs=(Arg("x", "DT_FLOAT"),),
        outputs=(Arg("out", "DT_FLOAT"),),
        nodes=(node("frozen", "Const"), *body_extra),
        ret=(("out", "frozen:output:0"),),
    )
    call = node("call", "StatefulPartitionedCall", "x", f=Attr("func", "f"), Tout=Attr("list_type", ("DT_FLOAT",)))
    out = node("out", "Identity", "call", *(("^call",) if with_control else ()))
    return model(wired("s", {"x": "x:0"}, {"y": "out:0"}), nodes=[X, call, out], functions=(f,))


def test_graph004_tf2_control_input_on_the_call_is_followed_only_for_updates():
    reads = (node("read", "ReadVariableOp", "v_handle"),)
    assert len(found(_tf2(reads, with_control=True), "GRAPH004")) == 1  # reading a variable changes nothing
    assert len(found(_tf2(reads, with_control=False), "GRAPH004")) == 1
    writes = (node("bump", "AssignAddVariableOp", "v_handle", "frozen"),)
    assert found(_tf2(writes, with_control=True), "GRAPH004") == []


def test_graph005_an_update_run_by_a_control_input_needs_its_placeholders():
    """Fetching the metric runs the update, and the update reads a placeholder the signature does not feed."""
    other = node("other", "Placeholder", dtype=Attr("type", "DT_FLOAT"))
    nodes = [X, other, VAR, node("update", "AssignAddVariableOp", "v", "other"), node("value", "Const", "^update")]
    ((where, message),) = found(model(wired("s", {"x": "x:0"}, {"m": "value:0"}), nodes=nodes), "GRAPH005")
    assert where == "serve/s/outputs/m" and "needs placeholder other" in message


# --- GRAPH003 and FMT002 messages -------------------------------------------------------------------


def test_graph003_one_finding_per_input_sparse_ones_included():
    findings = found(wild("tfma_eval"), "GRAPH003")
    assert [w for w, _ in findings] == [
        "eval_saved_model/eval/inputs/features/age",
        "eval_saved_model/eval/inputs/features/tags",
    ]
    tags = findings[1][1]
    for part in (
        "values ParseExample/ParseExampleV2:1",
        "indices ParseExample/ParseExampleV2:0",
        "dense_shape ParseExample/ParseExampleV2:2",
    ):
        assert part in tags


def test_fmt002_says_stripped_attrs_help_older_tensorflow():
    ((where, message),) = found(wild("boosted_trees"), "FMT002")
    assert where == "serve"
    assert "older than TensorFlow 2.4.0 can load" in message
    assert ">=" not in message


# --- SERVE009 and SERVE008: duplicate tag-sets -------------------------------------------------------


def test_serve009_second_metagraph_with_the_same_tag_set_is_dead():
    info = wild("duplicate_tags")
    assert [mg.tags for mg in info.meta_graphs] == [("serve",), ("serve",), ("serve", "gpu"), ("gpu", "serve")]
    findings = found(info, "SERVE009")
    assert [w for w, _ in findings] == ["gpu,serve (MetaGraph 4 of 4)", "serve (MetaGraph 2 of 4)"]
    assert "same tag-set as MetaGraph 1" in findings[1][1] and "plus_one" in findings[1][1]
    assert "same tag-set as MetaGraph 3" in findings[0][1]


def test_serve008_never_calls_the_serve_tag_set_unserved():
    findings = found(wild("duplicate_tags"), "SERVE008")
    assert findings == [
        (
            "serve,gpu",
            (
                "not served by default (Serving loads tags 'serve'); start it with "
                "--saved_model_tags=gpu,serve to serve this MetaGraph instead"
            ),
        )
    ]
    clean = load(str(TESTDATA / "rules" / "SERVE009" / "clean"), graph=True)
    assert found(clean, "SERVE009") == []
    assert [w for w, _ in found(clean, "SERVE008")] == ["serve,gpu", "train"]


# --- OPS001-003 ------------------------------------------------------------------------------------


def test_ops001_boosted_trees_estimator_has_no_kernels():
    findings = found(wild("boosted_trees"), "OPS001")
    ops = [m.split()[1] for _, m in findings]
    assert ops == ["BoostedTreesBucketize", "BoostedTreesEnsembleResourceHandleOp", "BoostedTreesPredict"]
    assert all("No OpKernel was registered" in m and "2.12.1 to 2.21.0" in m for _, m in findings)
    assert findings[0][1].endswith("(at boosted_trees/BoostedTreesBucketize)")


def test_ops001_op_removed_between_releases_inside_a_function():
    ((where, message),) = found(wild("removed_op"), "OPS001")
    assert where == "serve"
    assert message.startswith("op TfLiteSubgraphExecute was removed in TF 2.21.0 (2.18.1 still has it)")
    assert message.endswith("(at __inference_lite_17/inner)")


def test_ops001_and_002_name_the_custom_op_libraries():
    info = wild("custom_ops")
    errors = {m.split()[1]: m for _, m in found(info, "OPS001")}
    assert sorted(errors) == ["Acme>FancyOp", "IO>AudioDecodeWAV", "SentencepieceEncodeSparse"]
    assert "Serving needs a build with tensorflow-io" in errors["IO>AudioDecodeWAV"]
    assert "Serving needs a build with sentencepiece" in errors["SentencepieceEncodeSparse"]
    assert "registered by no TensorFlow from 2.12.1 to 2.21.0" in errors["Acme>FancyOp"]
    notes = {m.split()[1]: m for _, m in found(info, "OPS002")}
    assert sorted(notes) == ["TFText>WhitespaceTokenizeWithOffsetsV2", "WhitespaceTokenizeWithOffsets"]
    assert all(
        "standard tensorflow_model_server links it" in m and "import tensorflow_text" in m for m in notes.values()
    )


def test_ops003_names_ops_older_releases_lack():
    assert found(wild("removed_op"), "OPS003") == [
        ("serve", "op DecodeWebP is not in TensorFlow 2.12.1: needs TF >= 2.21.0 (at image)")
    ]


def test_ops_rules_are_silent_on_ordinary_models():
    for name in ("tfma_eval", "duplicate_tags"):
        info = wild(name)
        assert [f for f in run_checks(info) if f.rule.startswith("OPS")] == [], name


def test_function_calls_by_name_are_not_ops():
    f = FunctionGraph("my_fn", (), (), (node("c", "Const"),), ())
    info = model(wired("s", {"x": "x:0"}, {"y": "call:0"}), nodes=[X, node("call", "my_fn", "x")], functions=(f,))
    assert ops_rules.graph_ops(info.meta_graphs[0]) == {"Placeholder": ["x"], "Const": ["my_fn/c"]}
    assert found(info, "OPS001") == []


def test_unregistered_ops_for_runs_hint():
    mg = wild("removed_op").meta_graphs[0]
    newest = ops_rules.unregistered_ops(mg)
    assert [op for op, _ in newest] == ["TfLiteSubgraphExecute"]
    at_218 = dict(ops_rules.unregistered_ops(mg, "2.18.1"))
    assert sorted(at_218) == ["DecodeWebP"]
    assert at_218["DecodeWebP"] == "op DecodeWebP is not in TensorFlow 2.18.1: needs TF >= 2.21.0"
    # A release between two known ones is judged by the older one.
    assert dict(ops_rules.unregistered_ops(mg, "2.16.2")) == dict(ops_rules.unregistered_ops(mg, "2.15.1"))
    text = dict(ops_rules.unregistered_ops(wild("custom_ops").meta_graphs[0]))
    assert "import tensorflow_text" in text["WhitespaceTokenizeWithOffsets"]


def test_cli_check_exit_code_and_text():
    result = invoke("check", "--select", "OPS001", str(WILD / "boosted_trees"))
    assert result.exit_code == 1
    assert "BoostedTreesBucketize" in result.stdout


# --- the op data -----------------------------------------------------------------------------------


def test_op_data_says_where_it_came_from():
    raw = json.loads(ops_rules.DATA.read_text())
    assert raw["schema"] == "sigtool.tf_ops/1" and raw["generated_by"] == "tools/gen_registered_ops.py"
    assert raw["releases"] == ["2.12.1", "2.15.1", "2.18.1", "2.21.0"]
    assert all(len(row) == 4 and set(row) <= set("kr-") for row in raw["ops"].values())
    text = raw["libraries"]["tensorflow-text"]
    assert text["version"] == "2.21.0" and text["loaded_into"] == "2.21.0" and text["not_loaded"] == {}
    assert not set(text["ops"]) & {op for op, row in raw["ops"].items() if row[-1] != "-"}


def _tool():
    spec = importlib.util.spec_from_file_location("gen_registered_ops", REPO / "tools" / "gen_registered_ops.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_builds_rows_oldest_release_first():
    tool = _tool()
    dumps = [
        {"version": "2.21.0", "ops": {"Abs": True, "Gone": False}},
        {"version": "2.12.1", "ops": {"Abs": True, "Gone": True, "Old": True}},
    ]
    data = tool.build(dumps, {"version": "2.21.0", "ops": {"ops": {"Tok": "_t.so", "Abs": "_x.so"}, "not_loaded": {}}})
    assert data["releases"] == ["2.12.1", "2.21.0"]
    assert data["ops"] == {"Abs": "kk", "Gone": "kr", "Old": "k-"}
    assert data["libraries"]["tensorflow-text"]["ops"] == ["Tok"]


@pytest.mark.tf
def test_regenerated_from_the_installed_tensorflow_matches_the_committed_set():
    """tools/gen_registered_ops.py --dump with this environment's TensorFlow (2.21): the same ops, the same
    kernels as the committed column for that release."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_registered_ops.py"), "--dump"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    fresh = json.loads(done.stdout)
    data = ops_rules.op_data()
    assert fresh["version"] in data.releases, f"TF {fresh['version']} is not in the data: regenerate it"
    at = data.releases.index(fresh["version"])
    committed = {op: row[at] for op, row in data.ops.items() if row[at] != "-"}
    regenerated = {op: "k" if kernel else "r" for op, kernel in fresh["ops"].items()}
    assert regenerated == committed


def test_show_does_not_load_the_op_data():
    code = (
        "import sys; from sigtool.cli import main\n"
        "sys.argv[1:] = ['show', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'sigtool.checks.op_support' not in sys.modules, 'show imported the op rules'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(WILD / "custom_ops")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


# --- the fixtures are what the script writes --------------------------------------------------------


def test_fixtures_match_make_check_models():
    for rel, data in generator.build().items():
        path = TESTDATA / rel
        assert path.is_file(), f"{rel} missing: run `python testdata/make_check_models.py`"
        assert path.read_bytes() == data, f"{rel} differs from make_check_models.py's output"
    written = {p.relative_to(TESTDATA).as_posix() for p in (TESTDATA / generator.WILD).rglob("*") if p.is_file()}
    assert written == {rel for rel in generator.build() if rel.startswith(generator.WILD)}


@pytest.mark.parametrize("rule_id", generator.RULES)
def test_new_rules_fire_on_their_rule_fixtures(rule_id):
    triggers = load(str(TESTDATA / "rules" / rule_id / "triggers"), graph=True)
    clean = load(str(TESTDATA / "rules" / rule_id / "clean"), graph=True)
    assert found(triggers, rule_id) and not found(clean, rule_id)


@pytest.mark.slow
def test_graph004_control_walk_ends_on_cycles_and_long_chains():
    """A TF1 while loop (Merge <-> NextIteration) under a control input, and a 20,000-node chain of
    control inputs ending at an update: one pass each, no recursion."""
    loop = [
        X,
        node("merge", "Merge", "x", "next"),
        node("next", "NextIteration", "merge"),
        node("c", "Const", "^merge"),
    ]
    assert [w for w, _ in found(model(wired("s", {"x": "x:0"}, {"y": "c:0"}), nodes=loop), "GRAPH004")] == [
        "serve/s/outputs/y"
    ]
    chain = [X, VAR, node("n0", "AssignAddVariableOp", "v", "x")]
    chain += [node(f"n{i}", "NoOp", f"^n{i - 1}") for i in range(1, 20_000)]
    chain.append(node("value", "Const", "^n19999"))
    assert found(model(wired("s", {"x": "x:0"}, {"y": "value:0"}), nodes=chain), "GRAPH004") == []


def test_ops_newer_than_the_data_and_kernels_added_later():
    """An op no known release registers, in a model written by a newer TF: needs that TF. An op whose
    CPU kernel came after the oldest release (ApproxTopK: registered in 2.12.1 without one)."""
    newer = ops_rules.classify("BrandNewOp", None, writer="2.22.0")
    assert newer.kind == "newer" and "needs TF >= 2.22.0" in newer.reason
    assert ops_rules.classify("BrandNewOp", None, writer="2.21.0").kind == "unknown"
    assert ops_rules.op_data().ops["ApproxTopK"] == "rkkk"
    later = ops_rules.classify("ApproxTopK", "2.12.1")
    assert later.reason == "op ApproxTopK has no CPU kernel in TensorFlow 2.12.1: needs TF >= 2.15.1"
    assert ops_rules.classify("ApproxTopK") is None
    assert ops_rules.classify("CudnnRNNV3") is None  # GPU-only: not judged


@pytest.mark.parametrize(
    "content", [None, "{not json", '{"releases": ["2.21.0"], "ops": {"Abs": "kk"}, "libraries": {}}']
)
def test_a_missing_or_broken_op_data_file_is_one_finding_not_a_crash(tmp_path, monkeypatch, content):
    broken = tmp_path / "tf_ops.json"
    if content is not None:
        broken.write_text(content)
    monkeypatch.setattr(ops_rules, "DATA", broken)
    ops_rules.op_data.cache_clear()
    try:
        info = wild("boosted_trees")
        ((where, message),) = found(info, "OPS001")
        assert where == "" and "op data" in message and "reinstall sigtool" in message
        assert found(info, "OPS002") == found(info, "OPS003") == []
        assert ops_rules.unregistered_ops(info.meta_graphs[0]) == []
    finally:
        ops_rules.op_data.cache_clear()


_TF_RUN = """
import json, sys
import tensorflow as tf
tf1 = tf.compat.v1
out = {}
for path in sys.argv[1:]:
    try:
        with tf1.Session(graph=tf.Graph()) as s:
            sig = tf1.saved_model.loader.load(s, ["serve"], path).signature_def["serving_default"]
            s.run({k: v.name for k, v in sig.outputs.items()}, {sig.inputs["inputs"].name: ["1"]})
        out[path] = ""
    except Exception as e:
        out[path] = str(e)
print(json.dumps(out))
"""


@pytest.mark.tf
def test_tensorflow_fails_where_ops001_says_and_runs_where_it_is_silent():
    """The oracle: TF 2.21 loads and runs each model in a TF1 session (as Serving does). Where OPS001
    names ops, TF fails with 'No OpKernel was registered' or 'Op type not registered' for one of them;
    the rule's clean model runs."""
    models = {
        "boosted_trees": WILD / "boosted_trees",
        "removed_op": WILD / "removed_op",
        "custom_ops": WILD / "custom_ops",
        "clean": TESTDATA / "rules" / "OPS001" / "clean" / "1",
    }
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _TF_RUN, *map(str, models.values())],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    errors = dict(zip(models, json.loads(done.stdout).values()))
    assert errors.pop("clean") == ""
    assert found(load(str(models["clean"]), graph=True), "OPS001") == []
    for name, error in errors.items():
        flagged = [m.split()[1] for _, m in found(wild(name), "OPS001")]
        assert flagged, name
        named = [op for op in flagged if f"'{op}'" in error]
        assert named, (name, error[:300])
        expected = "No OpKernel was registered" if name == "boosted_trees" else "Op type not registered"
        assert expected in error, (name, error[:300])


@pytest.mark.tf
def test_tensorflow_loads_the_first_of_two_metagraphs_with_one_tag_set():
    """What SERVE009 says: TF's loader (as Serving's) takes the first MetaGraph whose tags match, so the
    second {serve} MetaGraph's plus_one signature is unreachable."""
    code = (
        "import json, sys, tensorflow as tf\n"
        "tf1 = tf.compat.v1\n"
        "with tf1.Session(graph=tf.Graph()) as s:\n"
        "    mg = tf1.saved_model.loader.load(s, ['serve'], sys.argv[1])\n"
        "print(json.dumps(sorted(mg.signature_def)))\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", code, str(WILD / "duplicate_tags")],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    info = wild("duplicate_tags")
    assert json.loads(done.stdout) == sorted(s.key for s in info.meta_graphs[0].signatures)
    assert "plus_one" in {s.key for s in info.meta_graphs[1].signatures}
    assert "plus_one" in dict(found(info, "SERVE009"))["serve (MetaGraph 2 of 4)"]
