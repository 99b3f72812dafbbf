"""`check`: every reason Serving or a client would fail, collected in one run.

Each rule is a small registered generator over the plain model (see rules.py
for the registry); the topic modules below are imported explicitly so that
every rule is visible from here.
"""

from __future__ import annotations

from sigtool.checks.rules import RULES, CheckOptions, Finding, Report, Rule, Severity, failed, run_checks

# Rule modules, each registering its rules on import.
from sigtool.checks import serving_api, readiness, security, graph, fmt, parse, ops  # noqa: E402,F401  isort: skip

__all__ = ["RULES", "CheckOptions", "Finding", "Report", "Rule", "Severity", "failed", "run_checks"]
