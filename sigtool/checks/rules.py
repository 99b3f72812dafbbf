"""The rule registry and what a rule produces: Findings with a severity."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from sigtool.model import SavedModelInfo


class Severity(Enum):
    ERROR = "error"  # Serving or a client would fail
    WARNING = "warning"  # likely to break a client; fails only under --strict
    INFO = "info"  # worth knowing; never fails


@dataclass(frozen=True)
class CheckOptions:
    method_check: bool = False  # Serving's --enable_signature_method_name_check
    deny_ops: frozenset[str] = frozenset()  # added to the unsafe-op list
    allow_ops: frozenset[str] = frozenset()  # removed from it


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
    func: Callable[[SavedModelInfo, CheckOptions], Iterator[tuple[str, str]]] = field(repr=False)

    @property
    def explanation(self) -> str:
        doc = inspect.getdoc(self.func) or ""
        return doc.partition("\n")[2].strip()


RULES: dict[str, Rule] = {}


def rule(id: str, severity: Severity):
    """Register a generator of (where, message) pairs as rule `id`."""

    def register(func):
        if id in RULES:
            raise ValueError(f"duplicate rule id {id}")
        summary = (inspect.getdoc(func) or "").partition("\n")[0]
        if not summary:
            raise ValueError(f"rule {id} needs a docstring")
        RULES[id] = Rule(id, severity, summary, func)
        return func

    return register


def run_checks(info: SavedModelInfo, options: CheckOptions = CheckOptions(), select=None, ignore=()) -> list[Finding]:
    """Every finding of every selected rule, sorted by rule id and place."""
    found = [
        Finding(r.id, r.severity, where, message)
        for r in RULES.values()
        if (not select or r.id in select) and r.id not in ignore
        for where, message in r.func(info, options)
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


def tags_of(mg) -> str:
    return ",".join(mg.tags) or "(no tags)"
