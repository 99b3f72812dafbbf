"""The rule registry and what a rule produces: Findings with a severity.

A rule is a generator of (where, message) pairs over one CheckContext (context.py):
the model, the options, and what several rules share, computed once per run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from sigtool.checks.context import CheckContext, CheckOptions
from sigtool.model import SavedModelInfo


class Severity(Enum):
    ERROR = "error"  # Serving or a client would fail
    WARNING = "warning"  # likely to break a client; fails only under --strict
    INFO = "info"  # worth knowing; never fails


@dataclass(frozen=True)
class Finding:
    rule: str  # stable id, e.g. "SRV001"
    severity: Severity
    where: str  # tag-set/signature/inputs|outputs/key, or a file
    message: str


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str  # first docstring line, shown by --list-rules
    check: Callable[[CheckContext], Iterator[tuple[str, str]]] = field(repr=False)  # the registered generator

    @property
    def explanation(self) -> str:
        doc = inspect.getdoc(self.check) or ""
        return doc.partition("\n")[2].strip()

    def func(self, info: SavedModelInfo, options: CheckOptions | None = None) -> Iterator[tuple[str, str]]:
        """This rule alone on one model, in a context of its own: its (where, message) pairs."""
        return self.check(CheckContext(info, options))


RULES: dict[str, Rule] = {}


def rule(id: str, severity: Severity):
    """Register a generator of (where, message) pairs over a CheckContext as rule `id`."""

    def register(func):
        if id in RULES:
            raise ValueError(f"duplicate rule id {id}")
        summary = (inspect.getdoc(func) or "").partition("\n")[0]
        if not summary:
            raise ValueError(f"rule {id} needs a docstring")
        RULES[id] = Rule(id, severity, summary, func)
        return func

    return register


def run_checks(info: SavedModelInfo, options: CheckOptions | None = None, select=None, ignore=()) -> list[Finding]:
    """Every finding of every selected rule, sorted by rule id and place."""
    ctx = CheckContext(info, options or CheckOptions())
    found = [
        Finding(r.id, r.severity, where, message)
        for r in RULES.values()
        if (not select or r.id in select) and r.id not in ignore
        for where, message in r.check(ctx)
    ]
    return sorted(set(found), key=lambda f: (f.rule, f.where, f.message))


@dataclass(frozen=True)
class Report:
    """The findings for one model (one version of a model base path)."""

    path: str  # as the user typed it
    source: str  # the file that was read
    version: str | None
    findings: tuple[Finding, ...]
    failed: bool  # errors, or warnings under --strict


def failed(findings, *, strict: bool) -> bool:
    """Errors fail; warnings fail only under --strict; info never does."""
    return any(f.severity is Severity.ERROR or (strict and f.severity is Severity.WARNING) for f in findings)


def where(*parts: str) -> str:
    return "/".join(p for p in parts if p)
