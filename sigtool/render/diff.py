"""A DiffReport -> what `sigtool diff` prints: a table (tables.Layout), JSON, GitHub commands, JUnit XML.

One function per format behind one interface (FORMATS: report, strict -> str | Layout).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sigtool.diff.changes import Change, Severity
from sigtool.model import format_tags
from sigtool.render import ci as ci_formats

JSON_SCHEMA = "sigtool.diff/1"
_LEVEL = {Severity.BREAKING: "error", Severity.WARNING: "warning", Severity.INFO: "info"}
_STYLE = {Severity.BREAKING: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


@dataclass(frozen=True)
class Side:
    """One side of the comparison, as the user named it and as it was read."""

    path: str  # as typed
    source: str  # the file read
    format: str  # saved_model_pb, saved_model_pbtxt, session_bundle or metadata_json
    version: str | None  # the version directory (or the response's model_spec.version)


@dataclass(frozen=True)
class DiffReport:
    old: Side
    new: Side
    tag_set: tuple[str, ...]  # the tag-set compared
    signatures: tuple[str, ...]  # every signature key compared (either side), serving_default first
    changes: tuple[Change, ...]  # sorted


def _signature_of(c: Change) -> str:
    parts = c.where.split("/")
    return parts[1] if len(parts) > 1 else ""


def _relative(c: Change) -> str:
    return "/".join(c.where.split("/")[2:]) or "-"


def _label(side: Side) -> str:
    return side.path + (f" (version {side.version})" if side.version else "")


# ---------------------------------------------------------------- table


def diff_table(report: DiffReport, strict: bool):
    from sigtool.render.tables import Grid, Layout, Span

    out = Layout()
    out.line(Span("old  ", "dim"), _label(report.old))
    out.line(Span("new  ", "dim"), _label(report.new))
    tags = format_tags(report.tag_set)
    groups: dict[str, list[Change]] = {}
    for c in report.changes:
        groups.setdefault(_signature_of(c), []).append(c)
    for key in ["", *report.signatures]:
        changes = groups.get(key)
        if not changes:
            continue
        out.line()
        out.line(Span(f"{tags}/{key}" if key else f"{tags} (model)", "bold"))
        grid = Grid(("change", "severity", "where", "old -> new", "message"))
        for c in changes:
            grid.add(
                c.code,
                Span(c.severity.value, _STYLE[c.severity]),
                _relative(c),
                f"{c.old or '-'} -> {c.new or '-'}",
                c.message,
            )
        out.grid(grid, indent=2)
    unchanged = [k for k in report.signatures if k not in groups]
    if unchanged:
        out.line()
        out.line(Span("unchanged: ", "dim"), ", ".join(unchanged))
    if not report.changes:
        out.line()
        out.line(Span("no changes", "green"))
    return out


# ---------------------------------------------------------------- JSON


def diff_json(report: DiffReport, strict: bool) -> str:
    """The documented schema sigtool.diff/1 (README), keys sorted."""

    def side(s: Side) -> dict:
        return {
            "path": s.path,
            "source": s.source,
            "format": s.format,
            "version": s.version,
            "tag_set": list(report.tag_set),
        }

    plain = {
        "schema": JSON_SCHEMA,
        "old": side(report.old),
        "new": side(report.new),
        "changes": [
            {
                "code": c.code,
                "severity": c.severity.value,
                "where": c.where,
                "old": c.old,
                "new": c.new,
                "message": c.message,
            }
            for c in report.changes
        ],
    }
    return json.dumps(plain, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- CI formats


def _item(c: Change) -> ci_formats.Item:
    return ci_formats.Item(_LEVEL[c.severity], c.where, c.code, c.message, c.severity.value)


def diff_github(report: DiffReport, strict: bool) -> str:
    return ci_formats.github([_item(c) for c in report.changes], "sigtool diff")


def diff_junit(report: DiffReport, strict: bool) -> str:
    """One <testcase> per compared signature; changes that belong to no signature go to <system-out>,
    except a lost tag-set (DIFF001), which fails every signature the old model served."""
    tags = format_tags(report.tag_set)
    lost = [c for c in report.changes if c.code == "DIFF001"]
    cases = []
    for key in report.signatures:
        items = [_item(c) for c in (*lost, *(c for c in report.changes if _signature_of(c) == key))]
        cases.append(ci_formats.Case(tags, key, tuple(items)))
    model_level = tuple(_item(c) for c in report.changes if not _signature_of(c) and c.code != "DIFF001")
    name = f"{_label(report.old)} -> {_label(report.new)}"
    return ci_formats.junit("sigtool diff", [ci_formats.Suite(name, tuple(cases), model_level)], strict)


FORMATS = {"table": diff_table, "json": diff_json, "github": diff_github, "junit": diff_junit}
