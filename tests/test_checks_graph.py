"""`check`'s graph rules: TensorInfos against the graph (GRAPH001-003) on small hand-built models, and all the
GRAPH rules on testdata's models with TensorFlow asked live (tests/tf_oracle.py). GRAPH004-005, the dataflow
rules, are in test_checks_graph_flow.py. tests/conformance/test_conformance_graph.py does the same on the corpus.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import GEN, REAL, TESTDATA
from factories import TF1, T, const, found, func, graph_model, node, placeholder, spec, tf2_model, types, wheres, wired
from tf_oracle import MODELS, oracle

from sigtool.checks import RULES, run_checks
from sigtool.loader import load
from sigtool.model import Attr, CompositeSpec, Graph, Node, Signature, SparseNames, TensorSpec

GRAPH_RULES = {"GRAPH001", "GRAPH002", "GRAPH003", "GRAPH004", "GRAPH005"}


# --- the rules are registered and documented ------------------------------------------------


def test_rules_registered_with_summaries_and_explanations():
    for rule_id in GRAPH_RULES:
        r = RULES[rule_id]
        assert r.summary and not r.summary.endswith("\n")
        assert r.explanation, rule_id
    assert {r: RULES[r].severity.value for r in sorted(GRAPH_RULES)} == {
        "GRAPH001": "error",
        "GRAPH002": "warning",
        "GRAPH003": "warning",
        "GRAPH004": "warning",
        "GRAPH005": "error",
    }


def test_no_graph_no_findings():
    info = graph_model(TF1, wired("s", {"x": "nope:0"}, {"y": "y"}))
    info = replace(info, meta_graphs=(replace(info.meta_graphs[0], graph=None),))
    assert run_checks(info, select=GRAPH_RULES) == []


# --- GRAPH001: the tensor exists -------------------------------------------------------------


def test_graph001_valid_signature_passes():
    assert found(graph_model(TF1, wired("s", {"x": "x:0"}, {"y": "y:0"})), "GRAPH001") == []


def test_graph001_missing_nodes():
    info = graph_model(TF1, wired("s", {"x": "no_such_placeholder:0"}, {"y": "does_not_exist:0"}))
    (w1, m1), (w2, m2) = found(info, "GRAPH001")
    assert (w1, w2) == ("serve/s/inputs/x", "serve/s/outputs/y")
    assert "'no_such_placeholder'" in m1 and "not in the graph" in m1
    assert "'does_not_exist'" in m2 and "every request to s fails" in m2


@pytest.mark.parametrize("name", ["y", "y:abc", ":0", "^y:0", "y:", "y:-1"])
def test_graph001_malformed_names(name):
    ((where, message),) = found(graph_model(TF1, wired("s", {"x": "x:0"}, {"y": name})), "GRAPH001")
    assert where == "serve/s/outputs/y"
    assert "is not 'node:index'" in message


def test_graph001_bare_node_name_gets_a_hint():
    ((_, message),) = found(graph_model(TF1, wired("s", {"x": "x:0"}, {"y": "y"})), "GRAPH001")
    assert "write 'y:0'" in message


def test_graph001_index_out_of_range_from_output_shapes():
    nodes = TF1 + [node("z", "SomeCustomOp", "y", _output_shapes=Attr("list_shape", ((-1,), (-1,))))]
    info = graph_model(nodes, wired("s", {"x": "x:0"}, {"ok": "z:1", "bad": "z:2"}))
    ((where, message),) = found(info, "GRAPH001")
    assert where == "serve/s/outputs/bad"
    assert "only 2 outputs" in message and "use an index below 2" in message


def test_graph001_index_out_of_range_from_single_output_table():
    ((_, message),) = found(graph_model(TF1, wired("s", {"x": "x:0"}, {"y": "y:5"})), "GRAPH001")
    assert "y (Mul) has only 1 output;" in message


def test_graph001_unknown_op_index_not_checked():
    nodes = TF1 + [node("z", "SomeCustomOp", "y")]
    assert found(graph_model(nodes, wired("s", {"x": "x:0"}, {"z": "z:7"})), "GRAPH001") == []


def test_graph001_list_attr_counts_outputs():
    nodes = TF1 + [node("n", "IdentityN", "x", "y", T=types("DT_FLOAT", "DT_FLOAT"))]
    assert wheres(graph_model(nodes, wired("s", {"x": "x:0"}, {"a": "n:1", "b": "n:2"})), "GRAPH001") == [
        "serve/s/outputs/b"
    ]


def test_graph001_tf2_call_outputs_through_tout_and_function():
    ok = tf2_model([node("Identity", "Identity", "x", T=T("DT_FLOAT"))], {"identity": "Identity:output:0"})
    assert found(ok, "GRAPH001") == []
    mg = ok.meta_graphs[0]
    bad_sig = wired("serving_default", {"x": "serving_default_x:0"}, {"out0": "StatefulPartitionedCall:1"})
    bad = replace(ok, meta_graphs=(replace(mg, signatures=(bad_sig,)),))
    ((_, message),) = found(bad, "GRAPH001")
    assert "(function __inference_f_42) has only 1 output" in message
    # without Tout, the called function's output args tell
    call = mg.graph.node("StatefulPartitionedCall")
    no_tout = Node(call.name, call.op, call.inputs, attrs=tuple((k, a) for k, a in call.attrs if k != "Tout"))
    graph = Graph(tuple(no_tout if n is call else n for n in mg.graph.nodes), mg.graph.functions)
    bad = replace(ok, meta_graphs=(replace(mg, signatures=(bad_sig,), graph=graph),))
    assert wheres(bad, "GRAPH001") == ["serve/serving_default/outputs/out0"]


def test_graph001_call_to_missing_function():
    nodes = [placeholder("x"), node("call", "PartitionedCall", "x", f=func("__inference_gone_1"))]
    ((_, message),) = found(graph_model(nodes, wired("s", {"x": "x:0"}, {"y": "call:0"})), "GRAPH001")
    assert "'__inference_gone_1'" in message and "function library" in message


def test_graph001_sparse_and_composite_components():
    sparse = TensorSpec(
        "sp",
        "DT_FLOAT",
        None,
        False,
        "coo_sparse",
        sparse=SparseNames(values="x:0", indices="missing_indices:0", dense_shape="x:0"),
    )
    inner = CompositeSpec(
        "RAGGED_TENSOR_SPEC",
        "RaggedTensorSpec",
        2,
        (spec("", name="y:0"), spec("", "DT_INT64", name="missing_splits:0")),
    )
    ragged = TensorSpec("rt", "DT_INVALID", None, False, "composite_tensor", composite=inner)
    info = graph_model(TF1, Signature("s", "tensorflow/serving/predict", (sparse,), (ragged,)))
    messages = dict(found(info, "GRAPH001"))
    assert set(messages) == {"serve/s/inputs/sp", "serve/s/outputs/rt"}
    assert messages["serve/s/inputs/sp"].startswith("sp (indices):")
    assert messages["serve/s/outputs/rt"].startswith("rt (component 1):")


def test_graph001_internal_signatures_checked_for_existence_only():
    init = Signature("__saved_model_init_op", "", (), (spec("__saved_model_init_op", "DT_INVALID", name="NoOp"),))
    assert found(graph_model(TF1 + [node("NoOp", "NoOp")], init), "GRAPH001") == []
    ((where, message),) = found(graph_model(TF1, init), "GRAPH001")
    assert where == "serve/__saved_model_init_op/outputs/__saved_model_init_op"
    assert "does not load" in message


# --- GRAPH002: dtypes agree ----------------------------------------------------------------


def test_graph002_agreeing_dtypes_pass():
    assert found(graph_model(TF1, wired("s", {"x": "x:0"}, {"y": "y:0"})), "GRAPH002") == []


def test_graph002_float_tensorinfo_on_string_placeholder():
    nodes = [placeholder("tf_example", "DT_STRING"), node("y", "SomeParser", "tf_example")]
    info = graph_model(nodes, wired("classify", {"inputs": "tf_example:0"}, {"scores": "y:0"}))
    ((where, message),) = found(info, "GRAPH002")
    assert where == "serve/classify/inputs/inputs"
    assert message.startswith("TensorInfo says DT_FLOAT but placeholder tf_example:0 is DT_STRING; clients will send")


def test_graph002_output_dtype_from_attrs():
    nodes = TF1 + [node("c", "Cast", "y", DstT=T("DT_INT64")), node("eq", "Equal", "y", "x", T=T("DT_FLOAT"))]
    info = graph_model(
        nodes,
        wired("s", {"x": "x:0"}, {"y": "y:0", "c": "c:0", "eq": "eq:0"}, y="DT_INT32", c="DT_INT64", eq="DT_BOOL"),
    )
    ((where, message),) = found(info, "GRAPH002")
    assert where == "serve/s/outputs/y"
    assert "says DT_INT32 but y:0 (Mul) produces DT_FLOAT" in message


def test_graph002_tf2_output_through_tout_and_function_arg():
    body = [node("Identity", "Identity", "x", T=T("DT_FLOAT"))]
    info = tf2_model(body, {"identity": "Identity:output:0"})
    assert found(info, "GRAPH002") == []
    mg = info.meta_graphs[0]
    wrong = replace(mg.signatures[0], outputs=(spec("out0", "DT_INT32", name="StatefulPartitionedCall:0"),))
    ((_, message),) = found(replace(info, meta_graphs=(replace(mg, signatures=(wrong,)),)), "GRAPH002")
    assert "DT_INT32" in message and "(StatefulPartitionedCall) produces DT_FLOAT" in message


def test_graph002_ref_dtypes_match_their_base():
    nodes = [node("counter", "VariableV2", dtype=T("DT_FLOAT"))]
    for declared in ("DT_FLOAT_REF", "DT_FLOAT"):
        assert found(graph_model(nodes, wired("get", {}, {"out": "counter:0"}, out=declared)), "GRAPH002") == []
    assert wheres(graph_model(nodes, wired("get", {}, {"out": "counter:0"}, out="DT_INT32_REF")), "GRAPH002") == [
        "serve/get/outputs/out"
    ]


def test_graph002_unknown_dtype_is_not_a_finding():
    nodes = TF1 + [node("z", "SomeCustomOp", "y")]
    assert found(graph_model(nodes, wired("s", {"x": "x:0"}, {"z": "z:0"}, z="DT_STRING")), "GRAPH002") == []


# --- GRAPH003: inputs are placeholders -----------------------------------------------------


def test_graph003_placeholders_and_identity_pass():
    nodes = TF1 + [
        node("d", "PlaceholderWithDefault", "two", dtype=T("DT_FLOAT")),
        node("alias", "Identity", "y", T=T("DT_FLOAT")),  # TF1's named entry point (half_plus_two's x)
    ]
    info = graph_model(nodes, wired("s", {"x": "x:0", "d": "d:0", "alias": "alias:0"}, {"y": "y:0"}))
    assert found(info, "GRAPH003") == []


def test_graph003_input_fed_into_computed_tensor():
    nodes = TF1 + [node("add", "AddV2", "x", "two", T=T("DT_FLOAT"))]
    ((where, message),) = found(graph_model(nodes, wired("s", {"x": "add:0"}, {"y": "y:0"})), "GRAPH003")
    assert where == "serve/s/inputs/x"
    assert "AddV2 'add'" in message and "not a placeholder" in message


# --- the repository's TensorFlow-written models, with TensorFlow asked live -------------------

MODEL_DIRS = [p.relative_to(TESTDATA).as_posix() for p in MODELS]

# What each deliberately broken model must raise; every other model raises no graph finding.
EXPECTED = {
    "tf/tf1_missing_tensor": {
        ("GRAPH001", "serve/serving_default/outputs/y"),  # the output node does not exist
        ("GRAPH001", "serve/missing_input/inputs/x"),
        ("GRAPH001", "serve/bad_output_index/outputs/y"),
        ("GRAPH001", "serve/name_without_index/outputs/y"),
        # missing_input feeds a node that does not exist, so y's real placeholder x is never fed.
        ("GRAPH005", "serve/missing_input/outputs/y"),
    },
    "tf/tf1_constant_output": {("GRAPH004", "serve/serving_default/outputs/y")},
    # classify_input_float feeds xf, but its scores come from the shape of the examples placeholder.
    "tf/tf1_invalid_classify": {("GRAPH005", "serve/classify_input_float/outputs/scores")},
}


@pytest.mark.parametrize("rel", MODEL_DIRS)
def test_graph_findings_on_testdata(rel):
    info = load(str(TESTDATA / rel), graph=True)
    got = {(f.rule, f.where) for f in run_checks(info, select=GRAPH_RULES)}
    assert got == EXPECTED.get(rel, set())


@pytest.mark.tf
def test_missing_tensors_are_what_tensorflow_cannot_run():
    """The signatures GRAPH001 flags are exactly those a TF session fails on (or fetches an operation from)."""
    broken = {
        run["signature_name"]
        for run in oracle()["tf/tf1_missing_tensor"]["runs"]
        if "error" in run or any(o.get("operation_fetched") for o in run["outputs"].values())
    }
    assert broken == {"serving_default", "missing_input", "bad_output_index", "name_without_index"}
    info = load(str(TESTDATA / "tf" / "tf1_missing_tensor"), graph=True)
    assert {f.where.split("/")[1] for f in run_checks(info, select={"GRAPH001"})} == broken


def test_constant_output_is_the_const_node():
    info = load(str(GEN / "tf1_constant_output"), graph=True)
    [finding] = run_checks(info, select={"GRAPH004"})
    assert finding.where == "serve/serving_default/outputs/y"
    assert "y:0 ← Const y" in finding.message


HALF_PLUS_TWO_TF1 = [d for d in MODEL_DIRS if "saved_model_half_plus_two_" in d and "tf2" not in d]


@pytest.mark.tf
@pytest.mark.parametrize("rel", HALF_PLUS_TWO_TF1)
def test_half_plus_two_tensorinfo_dtypes(rel):
    """TF's view: each classify/regress input's TensorInfo dtype agrees with the graph, so no GRAPH002;
    declaring DT_FLOAT on the DT_STRING tf_example placeholder (the bug clients trip on) is caught."""
    info = load(str(TESTDATA / rel), graph=True)
    mg = info.meta_graph(["serve"])
    tf_sigs = next(m for m in oracle()[rel]["meta_graphs"] if m["tags"] == ["serve"])["signature_defs"]
    string_inputs = []
    for key, sd in tf_sigs.items():
        if sd["method_name"] in ("tensorflow/serving/classify", "tensorflow/serving/regress"):
            ti = sd["inputs"]["inputs"]
            assert ti["dtype"] == {"tf_example:0": "DT_STRING", "x2:0": "DT_FLOAT"}[ti["name"]], key
            if ti["name"] == "tf_example:0":
                string_inputs.append(key)
    assert string_inputs and run_checks(info, select={"GRAPH002"}) == []

    key = string_inputs[0]
    broken_sig = mg.signature(key)
    broken_sig = replace(broken_sig, inputs=(replace(broken_sig.inputs[0], dtype="DT_FLOAT"),))
    broken = replace(info, meta_graphs=(replace(mg, signatures=(broken_sig,)),))
    (finding,) = run_checks(broken, select={"GRAPH002"})
    assert finding.where == f"serve/{key}/inputs/inputs"
    assert finding.message.startswith("TensorInfo says DT_FLOAT but placeholder tf_example:0 is DT_STRING")


def test_tf2_constant_is_found_through_the_call():
    """The real TF2 half_plus_two, with its predict function's result replaced by a Const: GRAPH004 follows
    StatefulPartitionedCall_5 through the signature wrapper into __inference_predict_235 (nested calls), and
    reports nothing on the real model."""
    info = load(str(REAL / "saved_model_half_plus_two_tf2_cpu" / "00000123"), graph=True)
    assert run_checks(info, select={"GRAPH004"}) == []
    mg = info.meta_graphs[0]
    predict = mg.graph.function("__inference_predict_235")
    frozen = replace(predict, nodes=(*predict.nodes, const("frozen")), ret=(("identity", "frozen:output:0"),))
    graph = Graph(mg.graph.nodes, tuple(frozen if f is predict else f for f in mg.graph.functions))
    changed = replace(info, meta_graphs=(replace(mg, graph=graph),))
    (finding,) = run_checks(changed, select={"GRAPH004"})
    assert finding.where == "serve/serving_default/outputs/y"
    assert (
        "StatefulPartitionedCall_5:0 → __inference_signature_wrapper_predict_245 output 0 ← Identity"
        " ← StatefulPartitionedCall → __inference_predict_235 output 0 ← Const frozen"
    ) in finding.message
