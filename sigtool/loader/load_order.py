"""The order in which tf.saved_model.load creates a SavedModel's functions, derived from the file.

saved_model_cli's `show --all` loads the model and lists each object function's
concrete functions sorted by their names after loading. The loader renames each
library function "__inference_<base>_<n>", where <base> is the stored name
without its "__inference_" prefix and "_<number>" suffix, and <n> is a
process-wide counter that grows as functions are created. It creates them in a
topological order of the function library (callees first), computed as below
from the stored order. So the position in that order stands in for <n>; see
sigtool/smcli.py for the one thing that cannot be derived.
"""

from __future__ import annotations

from collections import defaultdict

from sigtool import wire

_CALL_OPS = ("StatefulPartitionedCall", "PartitionedCall")


def ranks(buf, graph_ranges) -> dict[str, int]:
    """Each library function's position in the loader's creation order; {} when TF would fail to order them."""
    functions: list[tuple[str, list[tuple[str, bytes, list[str]]]]] = []  # (name, [(op, gradient op type, called)])
    gradients: dict[bytes, str] = {}  # registered op type -> gradient function
    for f in (f for start, end in graph_ranges for f in wire.iter_fields(buf, start, end)):
        if f.number == 2 and f.wire_type == wire.LEN:  # GraphDef.library
            for g in wire.iter_fields(buf, f.value_start, f.end):
                if g.number == 1 and g.wire_type == wire.LEN:  # FunctionDefLibrary.function
                    functions.append(_function(buf, g.value_start, g.end))
                elif g.number == 3 and g.wire_type == wire.LEN:  # registered_gradients
                    func, op_type = _registered_gradient(buf, g.value_start, g.end)
                    if op_type:
                        gradients[op_type] = func
    return _creation_order(functions, gradients)


def _creation_order(functions, gradients: dict[bytes, str]) -> dict[str, int]:
    names = {name for name, _ in functions}
    deps: dict[str, set[str]] = {}
    for name, nodes in functions:
        found = set()
        for op, gradient_op_type, called in nodes:
            if op in names:
                found.add(op)
            elif gradient_op_type and gradient_op_type in gradients:
                found.add(gradients[gradient_op_type])
            else:
                found.update(called)
        deps[name] = found  # a repeated name: the last definition's dependencies, at the first one's place
    callers: dict[str, list[str]] = defaultdict(list)
    waiting: dict[str, int] = defaultdict(int)
    for name, found in deps.items():
        for dep in found:
            callers[dep].append(name)
            waiting[name] += 1
    ready = [name for name, _ in functions if waiting[name] == 0]
    order: list[str] = []
    while ready:  # a stack: the last ready function is created next
        name = ready.pop()
        order.append(name)
        for caller in callers[name]:
            waiting[caller] -= 1
            if not waiting[caller]:
                ready.append(caller)
    if len(order) != len(functions):
        return {}  # a cycle, or a call to a function the library lacks: TF's loader fails
    return {name: index for index, name in enumerate(order)}


def _function(buf, start: int, end: int) -> tuple[str, list[tuple[str, bytes, list[str]]]]:
    name, nodes = "", []
    for f in wire.iter_fields(buf, start, end):
        if f.number == 1 and f.wire_type == wire.LEN:  # signature (OpDef)
            for g in wire.iter_fields(buf, f.value_start, f.end):
                if g.number == 1 and g.wire_type == wire.LEN:
                    name = wire.text(buf, g)
        elif f.number == 3 and f.wire_type == wire.LEN:  # node_def
            nodes.append(_node(buf, f.value_start, f.end))
    return name, nodes


def _node(buf, start: int, end: int) -> tuple[str, bytes, list[str]]:
    """A node's op, its _gradient_op_type (not for call ops), and the functions its attrs name."""
    op, attrs = "", {}
    for f in wire.iter_fields(buf, start, end):
        if f.number == 2 and f.wire_type == wire.LEN:
            op = wire.text(buf, f)
        elif f.number == 5 and f.wire_type == wire.LEN:  # attr map entry: the last entry of a key wins
            key, value = "", None
            for g in wire.iter_fields(buf, f.value_start, f.end):
                if g.number == 1 and g.wire_type == wire.LEN:
                    key = wire.text(buf, g)
                elif g.number == 2 and g.wire_type == wire.LEN:
                    value = g
            attrs[key] = value
    gradient_op_type = b""
    if "_gradient_op_type" in attrs and op not in _CALL_OPS and attrs["_gradient_op_type"] is not None:
        gradient_op_type = _attr_s(buf, attrs["_gradient_op_type"])
    called = [name for value in attrs.values() if value is not None for name in _attr_functions(buf, value)]
    return op, gradient_op_type, called


def _attr_members(buf, value: wire.Field):
    """The fields of an AttrValue's `value` oneof that count: those of its last member."""
    member, fields = 0, []
    for f in wire.iter_fields(buf, value.value_start, value.end):
        if 1 <= f.number <= 10:
            if f.number != member:
                member, fields = f.number, []
            fields.append(f)
    return member, fields


def _attr_s(buf, value: wire.Field) -> bytes:
    member, fields = _attr_members(buf, value)
    return bytes(buf[fields[-1].value_start : fields[-1].end]) if member == 2 and fields[-1].wire_type == wire.LEN else b""


def _attr_functions(buf, value: wire.Field) -> list[str]:
    member, fields = _attr_members(buf, value)
    if member == 10:  # func: NameAttrList (occurrences merge; the last name wins)
        names = [_name_attr_list(buf, f) for f in fields if f.wire_type == wire.LEN]
        return [next((n for n in reversed(names) if n is not None), "")]
    if member == 1:  # list: its `func` entries (ListValue field 9)
        return [
            _name_attr_list(buf, g) or ""
            for f in fields
            if f.wire_type == wire.LEN
            for g in wire.iter_fields(buf, f.value_start, f.end)
            if g.number == 9 and g.wire_type == wire.LEN
        ]
    return []


def _name_attr_list(buf, f: wire.Field) -> str | None:
    name = None
    for g in wire.iter_fields(buf, f.value_start, f.end):
        if g.number == 1 and g.wire_type == wire.LEN:
            name = wire.text(buf, g)
    return name


def _registered_gradient(buf, start: int, end: int) -> tuple[str, bytes]:
    func, op_type = "", b""
    for f in wire.iter_fields(buf, start, end):
        if f.number == 1 and f.wire_type == wire.LEN:
            func = wire.text(buf, f)
        elif f.number == 2 and f.wire_type == wire.LEN:
            op_type = bytes(buf[f.value_start : f.end])
    return func, op_type
