"""sigtool.ops (op facts and tensor names, one copy) and checks.unsafe_ops (SEC001's findings as data)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sigtool import checks, ops
from sigtool.checks import CheckOptions, run_checks, unsafe_ops
from sigtool.model import Attr, FunctionGraph, Graph, MetaGraph, Node, SavedModelInfo

SIGTOOL = Path(ops.__file__).parent


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("x:0", ("x", 0)),
        ("scope/x:12", ("scope/x", 12)),
        ("a:b:1", ("a:b", 1)),
        ("x", None),  # no index: an operation, not a tensor
        ("^x:0", None),
        (":0", None),
        ("x:", None),
        ("x:one", None),
    ],
)
def test_parse_tensor_name(name, parsed):
    assert ops.parse_tensor_name(name) == parsed


def test_input_forms():
    assert ops.graph_input("x") == ("x", 0)
    assert ops.graph_input("x:2") == ("x", 2)
    assert ops.function_input("arg") == ("arg", "", 0)
    assert ops.function_input("call:output:1") == ("call", "output", 1)
    assert ops.function_input("n:y") == ("n", "y", 0)
    assert [ops.input_node(r) for r in ("n", "n:1", "n:output:0", "^n")] == ["n"] * 4
    assert ops.is_control("^n") and not ops.is_control("n:0")


def test_op_facts():
    assert {"PartitionedCall", "StatefulPartitionedCall"} == ops.CALL_OPS
    assert ops.UNFED_PLACEHOLDERS < ops.PLACEHOLDERS
    assert ops.REF_VARIABLE_OPS < ops.VARIABLE_OPS
    assert set(ops.UNSAFE_OPS) >= ops.SCAN_DEFAULT
    assert ops.is_stateful_op("VarHandleOp") and ops.is_stateful_op("RandomUniform") and not ops.is_stateful_op("Add")
    assert ops.is_update_op("AssignAddVariableOp") and not ops.is_update_op("ScatterNd")


@pytest.mark.slow
def test_one_copy_of_the_call_ops():
    """No module but ops.py spells out the call ops (or parses node inputs by hand)."""
    for path in SIGTOOL.rglob("*.py"):
        if (path.name == "ops.py" and path.parent == SIGTOOL) or "_proto" in path.parts:
            continue
        strings = {n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)}
        assert "StatefulPartitionedCall" not in strings, path


def test_checks_keep_no_module_state():
    """Per-run facts live on a CheckContext, never in a module global of sigtool/checks."""
    for path in (SIGTOOL / "checks").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, (ast.List, ast.Dict)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                assert all(n.strip("_").isupper() or n == "__all__" for n in names), (path.name, names)
                value = node.value
                assert not isinstance(value, ast.List) or value.elts, (path.name, names)  # no empty cache lists


def _model(*graphs: Graph) -> SavedModelInfo:
    mgs = tuple(MetaGraph(tags=tags, signatures=(), graph=g) for tags, g in zip((("serve",), ("train",)), graphs))
    source = "m/saved_model.pb"
    return SavedModelInfo(path="m", source=source, format="saved_model_pb", schema_version=1, meta_graphs=mgs)


def _graph() -> Graph:
    f = FunctionGraph("fn", (), (), (Node("py", "EagerPyFunc"), Node("rf", "ReadFile")), ())
    nodes = tuple(Node(f"read{i}", "ReadFile") for i in range(5)) + (
        Node("call", "StatefulPartitionedCall", attrs=(("f", Attr("func", "fn")),)),
        Node("mul", "Mul"),
    )
    return Graph(nodes, (f,))


def test_unsafe_ops_is_sec001_as_data():
    info = _model(_graph(), Graph((Node("p", "PrintV2"),), ()))
    found = unsafe_ops(info)
    assert [(u.tags, u.op, u.reason) for u in found] == [
        ("serve", "EagerPyFunc", "runs Python code"),
        ("serve", "ReadFile", "reads or writes files"),
        ("train", "PrintV2", "prints to the server's logs or a file"),
    ]
    assert found[1].places == ("fn/rf", "read0", "read1", "read2", "read3", "read4")
    assert found[1].summary == "op ReadFile reads or writes files"
    findings = run_checks(info, select={"SEC001"})
    assert [(f.where, f.message.split(" (at ")[0]) for f in findings] == [(u.tags, u.summary) for u in found]
    tail = "(at fn/rf, read0, read1 and 3 more); remove it, or --allow-op ReadFile if it is intended"
    assert findings[1].message.endswith(tail)


def test_unsafe_ops_deny_and_allow():
    info = _model(_graph())
    assert [u.op for u in unsafe_ops(info, deny={"Mul"}, allow={"ReadFile"})] == ["EagerPyFunc", "Mul"]
    assert unsafe_ops(info, deny={"Mul"})[1].reason == "on the --deny-op list"
    options = CheckOptions(deny_ops=frozenset({"Mul"}), allow_ops=frozenset({"ReadFile", "EagerPyFunc"}))
    assert [f.message.split()[1] for f in run_checks(info, options, select={"SEC001"})] == ["Mul"]
    assert checks.unsafe_ops is unsafe_ops
