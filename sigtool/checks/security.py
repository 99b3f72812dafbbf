"""Unsafe ops: a SavedModel is code, and some ops touch files, processes or the network.

The list itself is sigtool.ops.UNSAFE_OPS; unsafe_ops() finds them, for SEC001
and for `run`, which refuses such a model before TensorFlow loads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sigtool.checks.registry import Severity, rule
from sigtool.model import SavedModelInfo, format_tags
from sigtool.ops import UNSAFE_OPS


@dataclass(frozen=True)
class UnsafeOp:
    """One unsafe op in one MetaGraph, and where it is used."""

    tags: str  # the MetaGraph's tag-set, as format_tags writes it
    op: str
    reason: str  # "reads or writes files", "on the --deny-op list", ...
    places: tuple[str, ...]  # sorted node names; "function/node" inside a library function

    @property
    def summary(self) -> str:
        """ "op ReadFile reads or writes files": what it is, without where."""
        return f"op {self.op} {self.reason}"


def denied(deny: Iterable[str] = (), allow: Iterable[str] = ()) -> dict[str, str]:
    """op -> why it is unsafe: the default list, plus `deny`, less `allow`."""
    allow = frozenset(allow)
    ops = {op: why for op, why in UNSAFE_OPS.items() if op not in allow}
    ops.update({op: "on the --deny-op list" for op in deny if op not in allow})
    return ops


def unsafe_ops(info: SavedModelInfo, deny: Iterable[str] = (), allow: Iterable[str] = ()) -> list[UnsafeOp]:
    """The unsafe ops in every MetaGraph whose graph was read (load with graph=True), sorted by tag-set and op.

    deny adds ops to the default list (UNSAFE_OPS), allow removes them (--deny-op / --allow-op).
    """
    ops = denied(deny, allow)
    found: set[UnsafeOp] = set()
    for mg in info.meta_graphs:
        if mg.graph is None:
            continue
        places: dict[str, list[str]] = {}
        for node in mg.graph.nodes:
            if node.op in ops:
                places.setdefault(node.op, []).append(node.name)
        for fn in mg.graph.functions:
            for node in fn.nodes:
                if node.op in ops:
                    places.setdefault(node.op, []).append(f"{fn.name}/{node.name}")
        tags = format_tags(mg.tags)
        found.update(UnsafeOp(tags, op, ops[op], tuple(sorted(at))) for op, at in places.items())
    return sorted(found, key=lambda u: (u.tags, u.op, u.places))


@rule("SEC001", Severity.ERROR)
def no_unsafe_ops(ctx):
    """No op that touches files, processes or the network, in the graph or any library function.

    Loading a SavedModel runs its graph: ReadFile/WriteFile, Python callbacks,
    RPC or debug ops can read secrets, write files or call out. The default
    list extends saved_model_cli scan's three ops; --deny-op/--allow-op
    adjust it.
    """
    for u in unsafe_ops(ctx.info, ctx.options.deny_ops, ctx.options.allow_ops):
        shown = ", ".join(u.places[:3]) + (f" and {len(u.places) - 3} more" if len(u.places) > 3 else "")
        yield u.tags, f"{u.summary} (at {shown}); remove it, or --allow-op {u.op} if it is intended"
