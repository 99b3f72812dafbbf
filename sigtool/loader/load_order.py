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
from sigtool.loader.fields import (
    AttrList,
    AttrValue,
    FunctionDef,
    FunctionDefLibrary,
    GraphDef,
    MapEntry,
    NameAttrList,
    NodeDef,
    OpDef,
    RegisteredGradient,
)
from sigtool.ops import CALL_OPS


def ranks(buf, graph_ranges) -> dict[str, int]:
    """Each library function's position in the loader's creation order; {} when TF would fail to order them."""
    functions: list[tuple[str, list[tuple[str, bytes, list[str]]]]] = []  # (name, [(op, gradient op type, called)])
    gradients: dict[bytes, str] = {}  # registered op type -> gradient function
    for start, end in graph_ranges:
        for number, wire_type, value_start, stop in _scan(buf, start, end):
            if number == GraphDef.library and wire_type == wire.LEN:
                for n, t, a, b in _scan(buf, value_start, stop):
                    if n == FunctionDefLibrary.function and t == wire.LEN:
                        functions.append(_function(buf, a, b))
                    elif n == FunctionDefLibrary.registered_gradients and t == wire.LEN:
                        func, op_type = _registered_gradient(buf, a, b)
                        if op_type:
                            gradients[op_type] = func
    return _creation_order(functions, gradients)


def _scan(buf, pos: int, end: int):
    """(number, wire type, value start, end) of each field: wire.iter_fields without its objects, for speed."""
    while pos < end:
        tag_start = pos
        tag = buf[pos]
        if tag < 0x80:
            pos += 1
        else:
            tag, pos = wire.read_varint(buf, pos, end)
        number, wire_type = tag >> 3, tag & 7
        if number == 0:
            raise wire.WireError("field number 0")
        if wire_type == wire.LEN:
            if pos >= end:
                raise wire.WireError(f"the data ends inside a number at byte {pos}")
            length = buf[pos]
            if length < 0x80:
                pos += 1
            else:
                length, pos = wire.read_varint(buf, pos, end)
            stop = pos + length
        elif wire_type == wire.VARINT:
            _, stop = wire.read_varint(buf, pos, end)
        elif wire_type in (wire.I64, wire.I32):
            stop = pos + (8 if wire_type == wire.I64 else 4)
        else:  # groups, and malformed input: the general walker says what is wrong
            for f in wire.iter_fields(buf, tag_start, end):
                yield f.number, f.wire_type, f.value_start, f.end
            return
        if stop > end:
            raise wire.WireError(f"at byte {tag_start}, field {number} runs past the end of its message")
        yield number, wire_type, pos, stop
        pos = stop


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
    for number, wire_type, a, b in _scan(buf, start, end):
        if number == FunctionDef.signature and wire_type == wire.LEN:  # an OpDef
            for n, t, c, d in _scan(buf, a, b):
                if n == OpDef.name and t == wire.LEN:
                    name = _text(buf, c, d)
        elif number == FunctionDef.node_def and wire_type == wire.LEN:
            nodes.append(_node(buf, a, b))
    return name, nodes


def _text(buf, start: int, end: int) -> str:
    return bytes(buf[start:end]).decode("utf-8", "replace")


# First tag byte of an AttrValue whose only member is `list` or `func`, or `s`.
_LIST_TAG, _S_TAG, _FUNC_TAG = (number << 3 | wire.LEN for number in (AttrValue.list, AttrValue.s, AttrValue.func))


def _node(buf, start: int, end: int) -> tuple[str, bytes, list[str]]:
    """A node's op, its _gradient_op_type (not for call ops), and the functions its attrs name."""
    op, attrs = "", {}
    for number, wire_type, a, b in _scan(buf, start, end):
        if number == NodeDef.op and wire_type == wire.LEN:
            op = _text(buf, a, b)
        elif number == NodeDef.attr and wire_type == wire.LEN:  # a map entry: the last entry of a key wins
            key, value = b"", None
            for n, t, c, d in _scan(buf, a, b):
                if n == MapEntry.key and t == wire.LEN:
                    key = bytes(buf[c:d])
                elif n == MapEntry.value and t == wire.LEN:
                    value = (c, d)
            attrs[key] = value
    gradient_op_type = b""
    gradient = attrs.get(b"_gradient_op_type")
    if gradient is not None and op not in CALL_OPS:
        gradient_op_type = _attr_s(buf, *gradient)
    called = [name for value in attrs.values() if value is not None for name in _attr_functions(buf, *value)]
    return op, gradient_op_type, called


def _attr_members(buf, start: int, end: int) -> tuple[int, list[tuple[int, int, int]]]:
    """The last member of an AttrValue's `value` oneof, with its occurrences (wire type, start, end)."""
    member = 0
    fields: list[tuple[int, int, int]] = []
    for number, wire_type, a, b in _scan(buf, start, end):
        if number in AttrValue.VALUE:
            if number != member:
                member, fields = number, []
            fields.append((wire_type, a, b))
    return member, fields


def _attr_s(buf, start: int, end: int) -> bytes:
    member, fields = _attr_members(buf, start, end)
    wire_type, a, b = fields[-1] if fields else (0, 0, 0)
    return bytes(buf[a:b]) if member == AttrValue.s and wire_type == wire.LEN else b""


def _attr_functions(buf, start: int, end: int) -> list[str]:
    if start < end and buf[start] not in (_LIST_TAG, _FUNC_TAG):
        # Almost every attr holds one member (a type, a shape, ...): one field spanning the value.
        first_end = next(_scan(buf, start, end))[3]
        if first_end == end:
            return []
    member, fields = _attr_members(buf, start, end)
    if member == AttrValue.func:  # a NameAttrList (occurrences merge; the last name wins)
        names = [_name_attr_list(buf, a, b) for wire_type, a, b in fields if wire_type == wire.LEN]
        return [next((n for n in reversed(names) if n is not None), "")]
    if member == AttrValue.list:  # its `func` entries
        return [
            _name_attr_list(buf, c, d) or ""
            for wire_type, a, b in fields
            if wire_type == wire.LEN
            for n, t, c, d in _scan(buf, a, b)
            if n == AttrList.func and t == wire.LEN
        ]
    return []


def _name_attr_list(buf, start: int, end: int) -> str | None:
    name = None
    for number, wire_type, a, b in _scan(buf, start, end):
        if number == NameAttrList.name and wire_type == wire.LEN:
            name = _text(buf, a, b)
    return name


def _registered_gradient(buf, start: int, end: int) -> tuple[str, bytes]:
    func, op_type = "", b""
    for number, wire_type, a, b in _scan(buf, start, end):
        if number == RegisteredGradient.gradient_func and wire_type == wire.LEN:
            func = _text(buf, a, b)
        elif number == RegisteredGradient.registered_op_type and wire_type == wire.LEN:
            op_type = bytes(buf[a:b])
    return func, op_type
