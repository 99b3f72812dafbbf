"""The dataflow engine behind GRAPH004/005: what a tensor depends on, followed backwards.

Data inputs, and control inputs that run a state update, through the main graph
and into the functions it calls; see Tracer. The op facts it relies on (which
ops are stateful, update state, call functions) are sigtool.ops's.
"""

from __future__ import annotations

from typing import Any

from sigtool.model import FunctionGraph, Graph, Node
from sigtool.ops import (
    CALL_OPS,
    CONST_OPS,
    UNFED_PLACEHOLDERS,
    called_function,
    function_input,
    graph_input,
    input_node,
    is_control,
    is_stateful_op,
    is_update_op,
    parse_tensor_name,
)

_PATH_HEAD = 8  # steps of a long dependency path shown before "…" (the last two are always shown)
BUDGET = 500_000  # node visits per MetaGraph before GRAPH004/005 stop following (and stay silent)
_EMPTY: frozenset = frozenset()


class _Step:
    """One step of a dependency path, linked to the rest (a _Step, a _Join or None)."""

    __slots__ = ("call", "name", "op", "rest")

    def __init__(self, op: str, name: str, call: str, rest):
        self.op, self.name, self.call, self.rest = op, name, call, rest

    @property
    def label(self) -> str:
        if self.call or self.op == self.name:
            return self.name
        return f"{self.op} {self.name}"


class _Join:
    """A function's path, which ends at one of its arguments, continued by the path of the call's input."""

    __slots__ = ("inner", "outer")

    def __init__(self, inner, outer):
        self.inner, self.outer = inner, outer


class Dep:
    """What a value depends on (Tracer.trace's answer)."""

    __slots__ = ("args", "end_arg", "live", "path", "unfed")

    def __init__(self, live=False, unfed=_EMPTY, args=_EMPTY, path=None, end_arg=None):
        self.live = live  # a fed input, state (variables, tables, randomness, files) or something unknown
        self.unfed = unfed  # main graph: Placeholders reached that the signature does not feed
        self.args = args  # in a function: positions of the arguments it depends on
        self.path = path  # unless live or unfed: how it is built, down to a Const or an argument
        self.end_arg = end_arg  # the path ends at this argument

    @property
    def constant(self) -> bool:
        return not self.live and not self.unfed and not self.args


_LIVE = Dep(live=True)
_NOTHING = Dep()  # a control input that changes nothing: ignored


class _Budget(Exception):
    pass


def _data_count(node: Node) -> int:
    return sum(1 for r in node.inputs if not is_control(r))


def _with_control(dep: Dep, control: list[Dep]) -> Dep:
    """dep, made live (or needing placeholders or arguments) by what its control inputs depend on.

    The path stays the data path: a Const with ^AssignAdd is not built from the update, only run after it.
    """
    if not control or all(c.constant for c in control):
        return dep
    live = dep.live or any(c.live for c in control)
    unfed = dep.unfed.union(*(c.unfed for c in control))
    args = dep.args.union(*(c.args for c in control))
    if live or unfed:
        return _LIVE if not unfed and not args else Dep(live=live, unfed=unfed, args=args)
    return Dep(args=args, path=dep.path, end_arg=dep.end_arg)


class Tracer:
    """Follows data inputs (and control inputs that run an update) backwards, through the main graph and
    into called functions.

    Keys: ("", node, index) in the main graph, (function, node, index) in a
    function body (index: the output, for call nodes; None for other nodes,
    whose outputs all count alike), and (function, output) for a function's
    result. A function's result is summarized once as the arguments it
    depends on, so nested and repeated calls cost nothing more; main-graph
    answers depend on what the signature feeds and are kept per set of fed
    tensors. The walk keeps its own stack (no Python recursion), and a cycle
    (TF1 while loops, recursive functions) counts as live, never as constant.
    """

    def __init__(self, graph: Graph, budget: int = BUDGET):
        self.graph = graph
        self.budget = budget
        self._nodes = {n.name: n for n in graph.nodes}
        self._functions = {f.name: f for f in graph.functions}
        self._fn_memo: dict = {}
        self._main_memos: dict = {}
        self._fn_nodes: dict[str, dict[str, Node]] = {}
        self._has_state: dict[str, bool] = {}
        self._updates: dict[str, bool] = {}
        self._update_memo: dict[str, dict[str, bool]] = {}
        self._stateful: dict[str, bool] = {}  # op -> is_stateful_op(op), asked once per op

    def trace(self, tensor: str, feeds: set[tuple[str, int]]) -> Dep | None:
        """What main-graph tensor "node:index" depends on, given the fed tensors; None if unknown."""
        parsed = parse_tensor_name(tensor)
        if parsed is None or self._nodes.get(parsed[0]) is None:
            return None
        need = self._main_edge(f"{parsed[0]}:{parsed[1]}", feeds)
        if isinstance(need, Dep):
            return need
        try:
            return self._solve(need, feeds, self._main_memos.setdefault(frozenset(feeds), {}))
        except _Budget:
            return None

    # -- edges: what a node input refers to ------------------------------------------------

    def _main_edge(self, ref: str, feeds):
        name, index = graph_input(ref)
        if (name, index) in feeds:
            return _LIVE
        node = self._nodes.get(name)
        if node is None:
            return _LIVE
        return ("", name, index if isinstance(self._callee(node), FunctionGraph) else None)

    def _fn_edge(self, fn: FunctionGraph, ref: str, nodes: dict[str, Node]):
        if ":" not in ref:  # one of the function's arguments
            for i, a in enumerate(fn.inputs):
                if a.name == ref:
                    return Dep(args=frozenset([i]), path=_Step("arg", ref, "", None), end_arg=i)
            return _LIVE
        name, output, index = function_input(ref)
        node = nodes.get(name)
        if node is None:
            return _LIVE
        callee = self._callee(node)
        if not isinstance(callee, FunctionGraph):
            return (fn.name, node.name, None)
        if node.op not in CALL_OPS:  # the op is the function: outputs are named by its output args
            names = [a.name for a in callee.outputs]
            if output not in names:
                return (fn.name, node.name, None)
            index += names.index(output)
        return (fn.name, node.name, index)

    def _callee(self, node: Node) -> FunctionGraph | str | None:
        if node.op in CALL_OPS:
            return called_function(node, self.graph)
        return self._functions.get(node.op)

    def _called_name(self, node: Node) -> str:
        """The function a call keyed with an output index calls (keys get an index only when it is known)."""
        callee = self._callee(node)
        assert isinstance(callee, FunctionGraph)
        return callee.name

    def _function_nodes(self, fn: FunctionGraph) -> dict[str, Node]:
        nodes = self._fn_nodes.get(fn.name)
        if nodes is None:
            nodes = self._fn_nodes[fn.name] = {n.name: n for n in fn.nodes}
        return nodes

    # -- what a key needs, and how the answers combine ----------------------------------------

    def _needs(self, key, feeds) -> tuple[list, Node | None]:
        if len(key) == 2:  # a function's output
            fn = self._functions.get(key[0])
            if fn is None or key[1] >= len(fn.outputs):
                return [_LIVE], None
            ref = dict(fn.ret).get(fn.outputs[key[1]].name)
            return ([_LIVE] if ref is None else [self._fn_edge(fn, ref, self._function_nodes(fn))]), None
        scope, name, index = key
        if scope:
            fn = self._functions.get(scope)
            nodes = self._function_nodes(fn) if fn else {}
            node = nodes.get(name)
            if fn is None or node is None:  # no fn: no nodes, so no node either
                return [_LIVE], None
            needs = [self._fn_edge(fn, r, nodes) for r in node.inputs if not is_control(r)]
            needs += [self._control_edge(r[1:], nodes, scope) for r in node.inputs if is_control(r)]
        else:
            node = self._nodes.get(name)
            if node is None:
                return [_LIVE], None
            needs = [self._main_edge(r, feeds) for r in node.inputs if not is_control(r)]
            needs += [self._control_edge(r[1:], self._nodes, "") for r in node.inputs if is_control(r)]
        if index is not None:  # a call: the callee's summary for this output first, then the call's inputs
            needs.insert(0, (self._called_name(node), index))
        return needs, node

    def _control_edge(self, name: str, nodes: dict[str, Node], scope: str):
        """A control input "^name" counts when running that op runs a state update: the op itself, anything
        it needs (data or control, transitively), or a function it calls. A TF1 metric's Const value fetched
        with ^AssignAdd (or ^update_op, which reads the updated variables) changes with every request.
        Other control inputs order the run without changing any value; TF2 puts one on every function
        output (^StatefulPartitionedCall), so a function that updates nothing adds nothing.
        """
        if name not in nodes:
            return _LIVE
        return (scope, name, None) if self._runs_update(name, nodes, scope) else _NOTHING

    def _runs_update(self, name: str, nodes: dict[str, Node], scope: str) -> bool:
        """Whether running node `name` runs an update; memoized per scope, one pass over what it needs."""
        memo = self._update_memo.setdefault(scope, {})
        if name in memo:
            return memo[name]
        frames: list[list[Any]] = [[name, None, False]]  # node, iterator over its inputs (None: not started), found
        on_path = {name}
        while frames:
            frame = frames[-1]
            current, inputs, hit = frame
            node = nodes.get(current)
            if inputs is None:
                callees = (node.calls + ((node.op,) if node.op in self._functions else ())) if node else ()
                if node is None or is_update_op(node.op) or any(self._function_updates(f) for f in callees):
                    hit = frame[2] = node is not None
                    inputs = frame[1] = iter(())
                else:
                    inputs = frame[1] = iter(node.inputs)
            pushed = False
            if not hit:
                for ref in inputs:
                    before = input_node(ref)
                    if before in memo:
                        if memo[before]:
                            hit = frame[2] = True
                            break
                    elif before not in on_path and before in nodes:
                        frames.append([before, None, False])
                        on_path.add(before)
                        pushed = True
                        break
            if pushed:
                continue
            memo[current] = hit
            on_path.discard(current)
            frames.pop()
            if frames and hit:
                frames[-1][2] = True
        return memo[name]

    def _function_updates(self, name: str) -> bool:
        """Whether a library function (or one it calls) updates state; unknown functions count as updating."""
        if name in self._updates:
            return self._updates[name]
        seen, todo, found = {name}, [name], False
        while todo and not found:
            fn = self._functions.get(todo.pop())
            if fn is None:
                found = True
                break
            for n in fn.nodes:
                if is_update_op(n.op):
                    found = True
                    break
                for callee in n.calls + ((n.op,) if n.op in self._functions else ()):
                    if callee not in seen:
                        seen.add(callee)
                        todo.append(callee)
        self._updates[name] = found
        return found

    def _combine(self, key, needs: list, node: Node | None, memo) -> Dep:
        if len(key) == 2 or node is None:
            return self._answer(needs[0], memo)
        scope, _, index = key
        if index is not None:
            return self._combine_call(node, index, needs, memo)
        op = node.op
        if op in UNFED_PLACEHOLDERS:  # fed ones were cut off at the edge
            return Dep(unfed=frozenset([node.name])) if not scope else _LIVE
        data = _data_count(node)
        needs, control = needs[:data], [self._answer(n, memo) for n in needs[data:]]
        if not needs:
            if op not in CONST_OPS and op != "NoOp":
                return _LIVE
            return _with_control(Dep(path=_Step(op, node.name, "", None)), control)
        live = self._is_stateful(op) or (bool(node.calls) and self._calls_state(node))
        return _with_control(self._merge(live, [self._answer(n, memo) for n in needs], op, node.name, ""), control)

    def _combine_call(self, node: Node, index: int, needs: list, memo) -> Dep:
        data = 1 + _data_count(node)
        summary, inputs = self._answer(needs[0], memo), needs[1:data]
        control = [self._answer(n, memo) for n in needs[data:]]
        if any(i >= len(inputs) for i in summary.args):
            return _LIVE
        used = [self._answer(inputs[i], memo) for i in sorted(summary.args)]
        call = f"→ {self._called_name(node)} output {index}"
        dep = self._merge(summary.live, used, node.op, node.name, call)
        if not dep.live and not dep.unfed:
            tail = self._answer(inputs[summary.end_arg], memo) if summary.end_arg is not None else None
            dep.path = _Step(node.op, node.name, call, _Join(summary.path, tail.path if tail else None))
            dep.end_arg = tail.end_arg if tail else None
        return _with_control(dep, control)

    @staticmethod
    def _merge(live: bool, deps: list[Dep], op: str, name: str, call: str) -> Dep:
        unfed = args = _EMPTY
        first = None
        for d in deps:
            live = live or d.live
            if d.unfed and d.unfed is not unfed:
                unfed = unfed | d.unfed if unfed else d.unfed
            if d.args and d.args is not args:
                args = args | d.args if args else d.args
            if first is None and d.path is not None:
                first = d
        if live or unfed:
            return _LIVE if not unfed and not args else Dep(live=live, unfed=unfed, args=args)
        return Dep(
            args=args,
            path=_Step(op, name, call, first.path if first else None),
            end_arg=first.end_arg if first else None,
        )

    def _is_stateful(self, op: str) -> bool:
        found = self._stateful.get(op)
        if found is None:
            found = self._stateful[op] = is_stateful_op(op)
        return found

    def _calls_state(self, node: Node) -> bool:
        """A control-flow node (If, While, Case, ...) whose functions read state anywhere inside."""
        return any(self._function_has_state(name) for name in node.calls)

    def _function_has_state(self, name: str) -> bool:
        if name in self._has_state:
            return self._has_state[name]
        seen, todo, found = {name}, [name], False
        while todo and not found:
            fn = self._functions.get(todo.pop())
            if fn is None:  # not in the library: unknown, so not a constant
                found = True
                break
            for n in fn.nodes:
                source = not n.inputs and n.op not in CONST_OPS and n.op != "NoOp" and not n.calls
                if source or self._is_stateful(n.op) or n.op in UNFED_PLACEHOLDERS:
                    found = True
                    break
                for callee in n.calls + ((n.op,) if self._functions.get(n.op) else ()):
                    if callee not in seen:
                        seen.add(callee)
                        todo.append(callee)
        self._has_state[name] = found
        return found

    # -- the walk ----------------------------------------------------------------------------

    def _memo_of(self, key, memo) -> dict:
        return memo if len(key) == 3 and not key[0] else self._fn_memo

    def _answer(self, need, memo) -> Dep:
        if type(need) is Dep:
            return need
        return self._memo_of(need, memo).get(need, _LIVE)  # unanswered: a cycle back to a caller

    def _solve(self, root, feeds, memo) -> Dep:
        found = self._memo_of(root, memo).get(root)
        if found is not None:
            return found
        stack = [[root, *self._needs(root, feeds), 0]]
        on_path = {root}
        while stack:
            frame = stack[-1]
            key, needs, node, pos = frame
            while pos < len(needs):
                need = needs[pos]
                pos += 1
                if type(need) is Dep or need in on_path or need in self._memo_of(need, memo):
                    continue
                self.budget -= 1
                if self.budget < 0:
                    raise _Budget
                frame[3] = pos
                stack.append([need, *self._needs(need, feeds), 0])
                on_path.add(need)
                break
            else:
                self._memo_of(key, memo)[key] = self._combine(key, needs, node, memo)
                on_path.discard(key)
                stack.pop()
        return self._memo_of(root, memo)[root]


def render_path(tensor: str, path) -> str:
    """ "y:0 ← Const y" / "StatefulPartitionedCall:0 → f output 0 ← Identity ← Const" from a dependency path."""
    head: list[_Step] = []
    tail: list[_Step] = []
    count, todo = 0, [path]
    while todo:
        p = todo.pop()
        if isinstance(p, _Step):
            count += 1
            if len(head) <= _PATH_HEAD:
                head.append(p)
            else:
                tail = [*tail[-1:], p]
            todo.append(p.rest)
        elif isinstance(p, _Join):
            todo += [p.outer, p.inner]
    node = graph_input(tensor)[0]
    parts = [tensor]
    for i, s in enumerate(head):
        if i == 0 and s.call and s.name == node:
            parts[0] += f" {s.call}"
        else:
            parts.append(f"{s.label} {s.call}".rstrip())
    if count > len(head) + len(tail):
        parts.append("…")
    parts += [f"{s.label} {s.call}".rstrip() for s in tail]
    return " ← ".join(parts)
