"""The table format, for people: SavedModelInfo, check findings and run outputs as a Layout.

A Layout is plain data (styled lines and grids). Piped or captured, it is
printed as aligned plain text, as wide as its content (names are never cut);
on a terminal, rich draws it with colours. rich is imported only then, which
keeps `show` quick in scripts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sigtool.model import MetaGraph, SavedModelInfo, Signature, TensorSpec, format_shape
from sigtool.render.pyrepr import py_repr

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


@dataclass(frozen=True)
class Span:
    text: str
    style: str = ""


@dataclass(frozen=True)
class Grid:
    """Columns of cells, with a header row; cells are Spans."""

    columns: tuple[str, ...]
    rows: list[tuple[Span, ...]] = field(default_factory=list)

    def add(self, *cells: str | Span) -> None:
        self.rows.append(tuple(c if isinstance(c, Span) else Span(c) for c in cells))


@dataclass
class Layout:
    """Blocks to print one under the other: (indent, a line of Spans or a Grid)."""

    blocks: list[tuple[int, tuple[Span, ...] | Grid]] = field(default_factory=list)

    def line(self, *spans: str | Span, indent: int = 0) -> None:
        self.blocks.append((indent, tuple(s if isinstance(s, Span) else Span(s) for s in spans)))

    def grid(self, grid: Grid, indent: int = 0) -> None:
        self.blocks.append((indent, grid))


# --- show ----------------------------------------------------------------------------


def show_table(info: SavedModelInfo, view: object = None) -> Layout:
    out = Layout()
    for index, mg in enumerate(info.meta_graphs):
        if index:
            out.line()
        _meta_graph_header(out, info, mg)
        if not mg.signatures:
            out.line(Span("(no signatures)", "dim"), indent=2)
        for sig in mg.signatures:
            out.line()
            _signature(out, sig)
        if mg.ops is not None:
            out.line()
            out.line(f"ops ({len(mg.ops)}): " + (", ".join(mg.ops) or "none"), indent=2)
        if mg.functions:
            out.line()
            out.grid(_functions_grid(mg), indent=2)
    return out


def _meta_graph_header(out: Layout, info: SavedModelInfo, mg: MetaGraph) -> None:
    tags = ",".join(mg.tags) if mg.tags else "(no tags)"
    written = f"TF {mg.tensorflow_version}" if mg.tensorflow_version else "TF version not recorded"
    kind = "legacy SessionBundle" if info.legacy else "TF2 object graph" if mg.has_object_graph else "TF1 graph"
    out.line(Span("MetaGraph ", "bold"), Span(tags, "bold cyan"), f"  ({written}, {kind})")


def _signature(out: Layout, sig: Signature) -> None:
    out.line(Span(sig.key, "bold green"), "  ", Span(sig.method_name or "(no method name)", "dim"), indent=2)
    grid = Grid(("", "key", "dtype", "shape", "tensor"))
    for io, specs in (("in", sig.inputs), ("out", sig.outputs)):
        if not specs:
            grid.add(io, Span("(none)", "dim"), "", "", "")
        for t in specs:
            for key, spec in _rows(t):
                grid.add(io, key, spec.dtype, shape_text(spec), tensor_text(spec))
    out.grid(grid, indent=2)


def _rows(t: TensorSpec):
    yield t.key, t
    if t.composite is not None:
        for c in t.composite.components:
            yield f"  {t.key}[{c.key}]", c


def shape_text(t: TensorSpec) -> str:
    """Shapes for people (model.format_shape), with dimension names; an unset shape says so."""
    if t.encoding == "composite_tensor":
        return ""
    if not t.shape_present:
        return "() unset"
    text = format_shape(t.shape)
    if t.shape is None or not t.dim_names:
        return text
    dims = ["?" if d < 0 else str(d) for d in t.shape]
    named = ", ".join(f"{n}={d}" if n else d for n, d in zip(t.dim_names, dims))
    return f"({named},)" if len(dims) == 1 else f"({named})"


def tensor_text(t: TensorSpec) -> str:
    if t.encoding == "coo_sparse" and t.sparse is not None:
        s = t.sparse
        return f"sparse values={s.values} indices={s.indices} dense_shape={s.dense_shape}"
    if t.encoding == "composite_tensor" and t.composite is not None:
        c = t.composite
        return f"{c.type_spec_class_name or c.type_spec_class} ({c.num_flat_components} components)"
    return t.name or "(no tensor name)"


def _functions_grid(mg: MetaGraph) -> Grid:
    grid = Grid(("function", "concrete signature"))
    for fn in mg.functions or ():
        if not fn.concrete_functions:
            grid.add(fn.name, Span("(not traced)", "dim"))
        for cf in fn.concrete_functions:
            args = [py_repr(a) for a in cf.args]
            if cf.kwargs is not None and cf.kwargs.items:
                args += [f"{k}={py_repr(v)}" for k, v in zip(cf.kwargs.keys, cf.kwargs.items)]
            grid.add(fn.name, "(" + ", ".join(args) + ")")
    return grid


# --- check and run --------------------------------------------------------------------


def findings_table(reports, strict: bool = False) -> Layout:
    out = Layout()
    for index, report in enumerate(reports):
        if index:
            out.line()
        out.line(Span(report.path + (f" (version {report.version})" if report.version else ""), "bold"))
        if not report.findings:
            out.line(Span("no findings", "green"), indent=2)
            continue
        grid = Grid(("rule", "severity", "where", "message"))
        for f in report.findings:
            severity = f.severity.value
            grid.add(f.rule, Span(severity, _SEVERITY_STYLE[severity]), f.where or "-", f.message)
        out.grid(grid, indent=2)
    return out


def rules_table(rules) -> Layout:
    grid = Grid(("rule", "severity", "summary"))
    for r in rules:
        grid.add(r.id, Span(r.severity.value, _SEVERITY_STYLE[r.severity.value]), r.summary)
    out = Layout()
    out.grid(grid)
    return out


def outputs_table(sig: Signature, outputs) -> Layout:
    """run's summary: each output's dtype, shape and first values."""
    out = Layout()
    out.line(Span(sig.key, "bold green"), "  ", Span(sig.method_name or "(no method name)", "dim"))
    grid = Grid(("output", "dtype", "shape", "values"))
    for key in sorted(outputs):
        t = outputs[key]
        grid.add(key, t.dtype, str(list(t.shape)), _preview(t))
    out.grid(grid)
    return out


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


# --- printing a Layout ----------------------------------------------------------------


def plain_text(layout: Layout) -> str:
    """Aligned plain text, as wide as the content: no colours, no terminal width, no trailing spaces."""
    lines = []
    for indent, block in layout.blocks:
        pad = " " * indent
        if isinstance(block, Grid):
            table = [tuple(Span(c) for c in block.columns), *block.rows]
            widths = [max(_cells(row[i].text) for row in table) for i in range(len(block.columns))]
            for row in table:
                cells = [c.text + " " * (w - _cells(c.text)) for c, w in zip(row, widths)]
                lines.append((pad + "  ".join(cells)).rstrip())
        else:
            lines.append((pad + "".join(s.text for s in block)).rstrip())
    return "".join(line + "\n" for line in lines)


def _cells(text: str) -> int:
    """Terminal cells a string takes: East Asian wide characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1 for ch in text)


def rich_renderable(layout: Layout):
    """The same Layout for a terminal: colours, and long cells folded at the terminal's width."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    parts: list[Padding | Text] = []
    for indent, block in layout.blocks:
        if isinstance(block, Grid):
            table = Table(box=None, pad_edge=False, header_style="dim")
            for name in block.columns:
                table.add_column(name, overflow="fold")
            for row in block.rows:
                table.add_row(*(Text(c.text, style=c.style) for c in row))  # Text: names are never markup
            parts.append(Padding(table, (0, 0, 0, indent)))
        else:
            parts.append(Text(" " * indent).append_text(Text.assemble(*((s.text, s.style) for s in block))))
    return Group(*parts)
