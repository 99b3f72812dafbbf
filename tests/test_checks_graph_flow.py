"""`check`'s dataflow rules on small hand-built graphs: GRAPH004 (an output that depends on no input or state,
a constant frozen at trace time) and GRAPH005 (an output that needs a placeholder the signature does not feed).
"""

from __future__ import annotations

from factories import TF1, T, const, fn, found, func, graph_model, node, placeholder, tf2_model, types, wheres, wired

from sigtool.checks.dataflow import Tracer, render_path
from sigtool.model import Graph

# --- GRAPH004: outputs that depend on no input ---------------------------------------------


def test_graph004_output_computed_from_input_passes():
    assert found(graph_model(TF1, wired("s", {"x": "x:0"}, {"y": "y:0"})), "GRAPH004") == []


def test_graph004_tf1_constant_output_with_path():
    nodes = TF1 + [const("y_const"), node("neg", "Neg", "y_const", "^x", T=T("DT_FLOAT"))]  # ^x: control only
    info = graph_model(nodes, wired("s", {"x": "x:0"}, {"y": "y:0", "c": "y_const:0", "n": "neg:0"}))
    messages = dict(found(info, "GRAPH004"))
    assert set(messages) == {"serve/s/outputs/c", "serve/s/outputs/n"}
    assert (
        "output c does not depend on any input: y_const:0 ← Const y_const (a value frozen at trace time?)"
        in messages["serve/s/outputs/c"]
    )
    assert "neg:0 ← Neg neg ← Const y_const" in messages["serve/s/outputs/n"]


def test_graph004_variable_read_is_not_constant():
    nodes = TF1 + [
        node("w", "VariableV2", dtype=T("DT_FLOAT")),
        node("w/read", "Identity", "w", T=T("DT_FLOAT")),
        node("scaled", "Mul", "w/read", "two", T=T("DT_FLOAT")),
    ]
    assert found(graph_model(nodes, wired("s", {"x": "x:0"}, {"w": "scaled:0"})), "GRAPH004") == []


def test_graph004_random_and_table_ops_are_not_constant():
    nodes = TF1 + [
        node("r", "RandomUniform", "two", dtype=T("DT_FLOAT")),
        node("table", "HashTableV2"),
        node("size", "LookupTableSizeV2", "table"),
    ]
    assert found(graph_model(nodes, wired("s", {"x": "x:0"}, {"r": "r:0", "size": "size:0"})), "GRAPH004") == []


def test_graph004_zero_input_signature_is_skipped():
    info = graph_model(TF1 + [const("c")], wired("constant", {}, {"c": "c:0"}))
    assert found(info, "GRAPH004") == []


def test_graph004_fed_tensor_cuts_the_walk():
    # The input is fed at an Identity of a Const: the output depends on what the client sends.
    nodes = [const("c"), node("alias", "Identity", "c", T=T("DT_FLOAT")), node("y", "Neg", "alias", T=T("DT_FLOAT"))]
    assert found(graph_model(nodes, wired("s", {"x": "alias:0"}, {"y": "y:0"})), "GRAPH004") == []


def test_graph004_tf2_call_returning_a_constant():
    body = [const("Const"), node("Identity", "Identity", "Const:output:0", T=T("DT_FLOAT"))]
    ((where, message),) = found(tf2_model(body, {"identity": "Identity:output:0"}), "GRAPH004")
    assert where == "serve/serving_default/outputs/out0"
    assert "StatefulPartitionedCall:0 → __inference_f_42 output 0 ← Identity ← Const" in message


def test_graph004_tf2_call_using_its_argument_passes():
    body = [node("Identity", "Identity", "x", T=T("DT_FLOAT"))]
    assert found(tf2_model(body, {"identity": "Identity:output:0"}), "GRAPH004") == []


def test_graph004_tf2_variable_read_through_captured_resource_passes():
    body = [
        node("ReadVariableOp", "ReadVariableOp", "readvariableop_resource", dtype=T("DT_FLOAT")),
        node("Identity", "Identity", "ReadVariableOp:value:0", T=T("DT_FLOAT")),
    ]
    assert found(tf2_model(body, {"identity": "Identity:output:0"}), "GRAPH004") == []


def test_graph004_tf2_each_output_followed_on_its_own():
    body = [node("Identity", "Identity", "x", T=T("DT_FLOAT")), const("c")]
    info = tf2_model(
        body,
        {"identity": "Identity:output:0", "identity_1": "c:output:0"},
        outputs=(("identity", "DT_FLOAT"), ("identity_1", "DT_FLOAT")),
        tout=("DT_FLOAT", "DT_FLOAT"),
    )
    assert wheres(info, "GRAPH004") == ["serve/serving_default/outputs/out1"]


def test_graph004_nested_calls():
    inner_const = fn(
        "__inference_inner_7", [("a", "DT_FLOAT")], [("identity", "DT_FLOAT")], [const("k")], {"identity": "k:output:0"}
    )
    inner_arg = fn(
        "__inference_echo_8",
        [("a", "DT_FLOAT")],
        [("identity", "DT_FLOAT")],
        [node("Identity", "Identity", "a", T=T("DT_FLOAT"))],
        {"identity": "Identity:output:0"},
    )
    # out0: PartitionedCall of a function returning a constant; out1: a call whose op is the function itself
    body = [
        node("PartitionedCall", "PartitionedCall", "x", f=func(inner_const.name), Tout=types("DT_FLOAT")),
        node("echo", inner_arg.name, "x"),
    ]
    info = tf2_model(
        body,
        {"identity": "PartitionedCall:output:0", "identity_1": "echo:identity:0"},
        outputs=(("identity", "DT_FLOAT"), ("identity_1", "DT_FLOAT")),
        tout=("DT_FLOAT", "DT_FLOAT"),
        extra_functions=(inner_const, inner_arg),
    )
    ((where, message),) = found(info, "GRAPH004")
    assert where == "serve/serving_default/outputs/out0"
    assert (
        "StatefulPartitionedCall:0 → __inference_f_42 output 0 ← PartitionedCall → __inference_inner_7 output 0"
        " ← Const k"
    ) in message


def test_graph004_function_arguments_map_by_position():
    # f(a, b) returns b: called with (Const, input) it depends on the input; with (input, Const) it is constant.
    second = fn(
        "__inference_second_3",
        [("a", "DT_FLOAT"), ("b", "DT_FLOAT")],
        [("identity", "DT_FLOAT")],
        [node("Identity", "Identity", "b", T=T("DT_FLOAT"))],
        {"identity": "Identity:output:0"},
    )
    nodes = [
        placeholder("x"),
        const("c"),
        node("good", "PartitionedCall", "c", "x", f=func(second.name), Tout=types("DT_FLOAT")),
        node("bad", "PartitionedCall", "x", "c", f=func(second.name), Tout=types("DT_FLOAT")),
    ]
    info = graph_model(nodes, wired("s", {"x": "x:0"}, {"good": "good:0", "bad": "bad:0"}), functions=(second,))
    ((where, message),) = found(info, "GRAPH004")
    assert where == "serve/s/outputs/bad"
    assert "bad:0 → __inference_second_3 output 0 ← Identity ← arg b ← Const c" in message


def test_graph004_cycles_terminate_and_are_not_constant():
    nodes = TF1 + [node("m", "Merge", "two", "next"), node("next", "NextIteration", "m")]
    assert found(graph_model(nodes, wired("s", {"x": "x:0"}, {"m": "m:0"})), "GRAPH004") == []
    loop = fn(
        "__inference_loop_1",
        [("a", "DT_FLOAT")],
        [("identity", "DT_FLOAT")],
        [node("again", "__inference_loop_1", "a")],
        {"identity": "again:identity:0"},
    )
    nodes = TF1 + [node("call", "PartitionedCall", "two", f=func(loop.name), Tout=types("DT_FLOAT"))]
    assert found(graph_model(nodes, wired("s", {"x": "x:0"}, {"c": "call:0"}), functions=(loop,)), "GRAPH004") == []


def test_graph004_control_flow_reading_state_is_not_constant():
    branch = fn(
        "__inference_then_1",
        [("r", "DT_RESOURCE")],
        [("identity", "DT_FLOAT")],
        [node("read", "ReadVariableOp", "r", dtype=T("DT_FLOAT"))],
        {"identity": "read:value:0"},
    )
    pure = fn(
        "__inference_else_2",
        [("r", "DT_RESOURCE")],
        [("identity", "DT_FLOAT")],
        [const("k")],
        {"identity": "k:output:0"},
    )
    nodes = TF1 + [
        const("cond", "DT_BOOL"),
        node("v", "VarHandleOp", dtype=T("DT_FLOAT")),
        node("if", "StatelessIf", "cond", "two", then_branch=func(branch.name), else_branch=func(pure.name)),
    ]
    info = graph_model(nodes, wired("s", {"x": "x:0"}, {"y": "if:0"}), functions=(branch, pure))
    assert found(info, "GRAPH004") == []


def test_graph004_long_chains_use_no_recursion():
    chain = [const("c")] + [node(f"n{i}", "Neg", f"n{i - 1}" if i else "c") for i in range(20_000)]
    ((_, message),) = found(graph_model(TF1 + chain, wired("s", {"x": "x:0"}, {"z": "n19999:0"})), "GRAPH004")
    assert "n19999:0 ← Neg n19999 ← " in message and " ← … ← Neg n0 ← Const c" in message


def test_graph004_budget_gives_up_silently():
    chain = [const("c")] + [node(f"n{i}", "Neg", f"n{i - 1}" if i else "c") for i in range(100)]
    tracer = Tracer(Graph(tuple(chain), ()), budget=10)
    assert tracer.trace("n99:0", set()) is None
    assert Tracer(Graph(tuple(chain), ())).trace("n99:0", set()).constant


def test_render_path_short():
    tracer = Tracer(Graph((const("c"), node("y", "Neg", "c")), ()))
    assert render_path("y:0", tracer.trace("y:0", set()).path) == "y:0 ← Neg y ← Const c"


# --- GRAPH005: outputs need only fed placeholders -------------------------------------------


def test_graph005_output_needs_an_unfed_placeholder():
    nodes = TF1 + [placeholder("tf_example", "DT_STRING"), node("n", "Size", "tf_example")]
    info = graph_model(nodes, wired("s", {"x": "x:0"}, {"y": "y:0", "n": "n:0"}))
    ((where, message),) = found(info, "GRAPH005")
    assert where == "serve/s/outputs/n"
    assert "needs placeholder tf_example, which s does not feed" in message
    assert found(info, "GRAPH004") == []  # failing is not being constant


def test_graph005_placeholder_with_default_need_not_be_fed():
    nodes = TF1 + [
        node("rate", "PlaceholderWithDefault", "two", dtype=T("DT_FLOAT")),
        node("out", "Mul", "y", "rate", T=T("DT_FLOAT")),
    ]
    assert found(graph_model(nodes, wired("s", {"x": "x:0"}, {"out": "out:0"})), "GRAPH005") == []
