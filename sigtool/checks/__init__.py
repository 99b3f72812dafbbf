"""`check`: every reason Serving or a client would fail, collected in one run.

Each rule is a small registered generator over one CheckContext (registry.py
holds the registry, context.py the per-run context); the topic modules below
are imported explicitly so that every rule is visible from here.

    run_checks(info, options, select, ignore) -> [Finding]
    unsafe_ops(info, deny=(), allow=()) -> [UnsafeOp]   what SEC001 reports, as data (for `run`)
"""

from __future__ import annotations

from sigtool.checks.context import CheckContext, CheckOptions
from sigtool.checks.registry import RULES, Finding, Report, Rule, Severity, failed, run_checks
from sigtool.checks.security import UnsafeOp, unsafe_ops

# Rule modules, each registering its rules on import.
from sigtool.checks import serving_api, readiness, security, graph, fmt, parse, op_support  # noqa: F401  isort: skip

__all__ = [
    "RULES",
    "CheckContext",
    "CheckOptions",
    "Finding",
    "Report",
    "Rule",
    "Severity",
    "UnsafeOp",
    "failed",
    "run_checks",
    "unsafe_ops",
]
