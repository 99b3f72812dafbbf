"""The table format: SavedModelInfo and check findings as rich renderables, for people.

Imported only when a table is printed, so that JSON and text output never
pay for rich.
"""

from __future__ import annotations

from rich.console import Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from sigtool import smcli
from sigtool.model import MetaGraph, SavedModelInfo, Signature, TensorSpec

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def show_table(info: SavedModelInfo) -> Group:
    parts: list = []
    for mg in info.meta_graphs:
        parts.append(_meta_graph_header(info, mg))
        if not mg.signatures:
            parts.append(Text("  (no signatures)", style="dim"))
        for sig in mg.signatures:
            parts += [Text(""), Padding(_signature_table(sig), (0, 0, 0, 2))]
        if mg.ops is not None:
            parts += [Text(""), Text(f"  ops ({len(mg.ops)}): " + (", ".join(mg.ops) or "none"))]
        if mg.functions:
            parts += [Text(""), Padding(_functions_table(mg), (0, 0, 0, 2))]
        parts.append(Text(""))
    return Group(*parts[:-1])


def _meta_graph_header(info: SavedModelInfo, mg: MetaGraph) -> Text:
    tags = ",".join(mg.tags) if mg.tags else "(no tags)"
    written = f"TF {mg.tensorflow_version}" if mg.tensorflow_version else "TF version not recorded"
    kind = "legacy SessionBundle" if info.legacy else "TF2 object graph" if mg.has_object_graph else "TF1 graph"
    text = Text()
    text.append("MetaGraph ", style="bold")
    text.append(tags, style="bold cyan")  # Text.append never parses markup
    text.append(f"  ({written}, {kind})")
    return text


def _signature_table(sig: Signature) -> Group:
    method = sig.method_name or "(no method name)"
    title = Text.assemble((sig.key, "bold green"), "  ", (method, "dim"))  # Text: keys are never markup
    table = _table("", "key", "dtype", "shape", "tensor")
    for io, specs in (("in", sig.inputs), ("out", sig.outputs)):
        if not specs:
            table.add_row(io, Text("(none)", style="dim"), "", "", "")
        for t in specs:
            for key, spec in _rows(t):
                table.add_row(*map(Text, (io, key, spec.dtype, shape_text(spec), tensor_text(spec))))
    return Group(title, table)


def _table(*columns: str) -> Table:
    """A borderless table whose cells wrap long names onto more lines rather than cutting them."""
    table = Table(box=None, pad_edge=False, header_style="dim")
    for name in columns:
        table.add_column(name, overflow="fold")
    return table


def _rows(t: TensorSpec):
    yield t.key, t
    if t.composite is not None:
        for c in t.composite.components:
            yield f"  {t.key}[{c.key}]", c


def shape_text(t: TensorSpec) -> str:
    """Shapes for people: (?, 1), () scalar, 'unknown rank'; an unset shape says so."""
    if t.encoding == "composite_tensor":
        return ""
    if not t.shape_present:
        return "() unset"
    if t.shape is None:
        return "unknown rank"
    dims = ", ".join("?" if d < 0 else str(d) for d in t.shape)
    if t.dim_names:
        dims = ", ".join(f"{n}={d}" if n else d for n, d in zip(t.dim_names, dims.split(", ")))
    return f"({dims},)" if len(t.shape) == 1 else f"({dims})"


def tensor_text(t: TensorSpec) -> str:
    if t.encoding == "coo_sparse" and t.sparse is not None:
        s = t.sparse
        return f"sparse values={s.values} indices={s.indices} dense_shape={s.dense_shape}"
    if t.encoding == "composite_tensor" and t.composite is not None:
        c = t.composite
        return f"{c.type_spec_class_name or c.type_spec_class} ({c.num_flat_components} components)"
    return t.name or "(no tensor name)"


def _functions_table(mg: MetaGraph) -> Table:
    table = _table("function", "concrete signature")
    for fn in mg.functions or ():
        if not fn.concrete_functions:
            table.add_row(Text(fn.name), Text("(not traced)", style="dim"))
        for cf in fn.concrete_functions:
            args = [smcli.py_repr(a) for a in cf.args]
            if cf.kwargs is not None and cf.kwargs.items:
                args += [f"{k}={smcli.py_repr(v)}" for k, v in zip(cf.kwargs.keys, cf.kwargs.items)]
            table.add_row(Text(fn.name), Text("(" + ", ".join(args) + ")"))
    return table


def findings_table(reports) -> Group:
    parts: list = []
    for report in reports:
        label = report.path + (f" (version {report.version})" if report.version else "")
        parts.append(Text(label, style="bold"))
        if not report.findings:
            parts += [Text("  no findings", style="green"), Text("")]
            continue
        table = _table("rule", "severity", "where", "message")
        for f in report.findings:
            severity = f.severity.value
            table.add_row(Text(f.rule), Text(severity, style=_SEVERITY_STYLE[severity]), Text(f.where or "-"), Text(f.message))
        parts += [Padding(table, (0, 0, 0, 2)), Text("")]
    return Group(*parts[:-1])


def rules_table(rules) -> Table:
    table = _table("rule", "severity", "summary")
    for r in rules:
        table.add_row(Text(r.id), Text(r.severity.value, style=_SEVERITY_STYLE[r.severity.value]), Text(r.summary))
    return table


def outputs_table(sig: Signature, outputs) -> Group:
    """run's summary: each output's dtype, shape and first values."""
    table = _table("output", "dtype", "shape", "values")
    for key in sorted(outputs):
        t = outputs[key]
        table.add_row(Text(key), Text(t.dtype), Text(str(list(t.shape))), Text(_preview(t)))
    return Group(Text.assemble((sig.key, "bold green"), "  ", (sig.method_name or "(no method name)", "dim")), table)


def _preview(t, limit: int = 8) -> str:
    def show(v):
        if isinstance(v, bytes):
            text = v.decode("utf-8", "replace")
            return repr(text[:40] + ("…" if len(text) > 40 else ""))
        if isinstance(v, float):
            return f"{v:.6g}"
        return str(v)

    values = [show(v) for v in t.values[:limit]]
    more = f" … ({len(t.values)} values)" if len(t.values) > limit else ""
    return ", ".join(values) + more
