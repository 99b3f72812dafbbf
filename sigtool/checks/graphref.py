"""Names in a graph: tensor names, node inputs, the ops that feed, hold constants or call functions.

Shared by the graph rules (graph.py) and the dependency walk (tracer.py).
"""

from __future__ import annotations

import re

from sigtool.model import FunctionGraph, Graph, Node

PLACEHOLDERS = {"Placeholder", "PlaceholderV2", "PlaceholderWithDefault"}
UNFED_PLACEHOLDERS = {"Placeholder", "PlaceholderV2"}  # without a default: must be fed
CALL_OPS = {"PartitionedCall", "StatefulPartitionedCall"}
CONST_OPS = {"Const", "HostConst", "_HostConst"}
INDEX = re.compile(r"[0-9]+")


def parse_tensor_name(name: str) -> tuple[str, int] | None:
    """("node", index) for a TensorInfo name "node:index"; None when it is not one."""
    node, sep, index = name.rpartition(":")
    if not sep or not node or node.startswith("^") or not INDEX.fullmatch(index):
        return None
    return node, int(index)


def edge(ref: str) -> tuple[str, int]:
    """A main-graph node input ("x", "x:1") as (node, index)."""
    node, sep, index = ref.rpartition(":")
    if sep and INDEX.fullmatch(index):
        return node, int(index)
    return ref, 0


def called_function(node: Node, graph: Graph) -> FunctionGraph | str | None:
    """For a call node (PartitionedCall, StatefulPartitionedCall, or an op that is itself a library
    function): the function, or its name when the library lacks it. None for other nodes."""
    if node.op in CALL_OPS:
        f = node.attr("f")
        if f is None or f.kind != "func" or not f.value:
            return None
        return graph.function(f.value) or f.value
    return graph.function(node.op)
