"""One run of `check`: the model, the options, and what several rules share, computed once.

run_checks makes a CheckContext per model and hands it to every rule; nothing
is kept between runs (no module state), so a long-lived process holds no graph
once its run is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sigtool.checks.dataflow import Dep, Tracer
from sigtool.model import MetaGraph, SavedModelInfo, Signature, TensorSpec
from sigtool.ops import parse_tensor_name


@dataclass(frozen=True)
class CheckOptions:
    method_check: bool = False  # Serving's --enable_signature_method_name_check
    deny_ops: frozenset[str] = frozenset()  # added to the unsafe-op list
    allow_ops: frozenset[str] = frozenset()  # removed from it


@dataclass(frozen=True)
class TracedOutput:
    """One output of an API signature, with what each of its tensors depends on."""

    meta_graph: MetaGraph
    signature: Signature
    output: TensorSpec
    tensors: tuple[tuple[str, Dep | None], ...]  # (tensor, dep); None: not in the graph, or out of budget


class CheckContext:
    """The model and options of one run, and the analyses rules share (each computed on first use)."""

    def __init__(self, info: SavedModelInfo, options: CheckOptions | None = None):
        self.info = info
        self.options = options or CheckOptions()

    @cached_property
    def traced_outputs(self) -> tuple[TracedOutput, ...]:
        """Every output of every API signature, followed backwards (GRAPH004 and GRAPH005 share the walk)."""
        found = []
        for mg in self.info.meta_graphs:
            if mg.graph is None:
                continue
            tracer = Tracer(mg.graph)
            for sig in mg.signatures:
                if sig.internal:
                    continue
                fed = feeds(sig)
                for t in sig.outputs:
                    traced = tuple((name, tracer.trace(name, fed)) for _, name, _ in components(t))
                    found.append(TracedOutput(mg, sig, t, traced))
        return tuple(found)


def components(t: TensorSpec) -> list[tuple[str, str, str]]:
    """(label, graph tensor name, dtype the TensorInfo declares, or "") for every tensor a TensorInfo names.

    A coo_sparse TensorInfo's dtype is that of its values; composite components carry their own.
    """
    if t.encoding == "coo_sparse" and t.sparse is not None:
        return [
            ("values", t.sparse.values, t.dtype),
            ("indices", t.sparse.indices, ""),
            ("dense_shape", t.sparse.dense_shape, ""),
        ]
    if t.encoding == "composite_tensor" and t.composite is not None:
        found: list[tuple[str, str, str]] = []
        todo: list[tuple[tuple[int, ...], TensorSpec]] = []  # (where, component), the next one last
        todo += [((i,), c) for i, c in enumerate(t.composite.components)][::-1]
        while todo:  # components nest (a ragged tensor of ragged tensors): no recursion
            at, c = todo.pop()
            if c.encoding == "composite_tensor" and c.composite is not None:
                todo += [(at + (i,), cc) for i, cc in enumerate(c.composite.components)][::-1]
            elif c.encoding == "coo_sparse" and c.sparse is not None:
                found += [(f"{_component(at)} {part}", name, dtype) for part, name, dtype in components(c)]
            elif c.name:
                found.append((_component(at), c.name, c.dtype))
        return found
    if t.name:
        return [("", t.name, t.dtype)]
    return []


def _component(at: tuple[int, ...]) -> str:
    if len(at) <= 4:
        return "component " + ".".join(map(str, at))
    return f"component {at[0]}.{at[1]}.….{at[-1]} (nested {len(at)} deep)"


def feeds(sig: Signature) -> set[tuple[str, int]]:
    """The tensors ("node", index) a signature feeds."""
    found = set()
    for t in sig.inputs:
        for _, name, _ in components(t):
            parsed = parse_tensor_name(name)
            if parsed:
                found.add(parsed)
    return found
