"""sigtool check: every rule over every model (and every version of a base path), one summary."""

from __future__ import annotations

from dataclasses import dataclass

from sigtool import loader, render
from sigtool.errors import ExitCode, SigtoolError, UsageError
from sigtool.render import tables


@dataclass(frozen=True)
class CheckRequest:
    models: tuple[str, ...]
    strict: bool = False
    method_check: bool = False
    select: frozenset[str] = frozenset()  # rule ids; empty = all
    ignore: frozenset[str] = frozenset()
    deny_ops: frozenset[str] = frozenset()
    allow_ops: frozenset[str] = frozenset()
    fmt: str = "table"  # a key of render.CHECK_FORMATS
    jobs: int = loader.DEFAULT_JOBS  # models read at once (remote models: requests in flight)


@dataclass(frozen=True)
class CheckResult:
    output: object | None  # findings (str or tables.Layout); None when no model could be read
    summary: str | None  # the one-line summary for stderr
    unreadable: tuple[SigtoolError, ...]  # models that could not be read, each shown as its Error: line
    exit_code: int


def list_rules():
    from sigtool import checks

    return tables.rules_table(checks.RULES[r] for r in sorted(checks.RULES))


def check(request: CheckRequest) -> CheckResult:
    from sigtool import checks

    if not request.models:
        raise UsageError("give at least one MODEL (or --list-rules)")
    unknown = sorted((request.select | request.ignore) - set(checks.RULES))
    if unknown:
        raise UsageError(f"unknown rule id(s) {', '.join(unknown)}; see sigtool check --list-rules")
    options = checks.CheckOptions(request.method_check, request.deny_ops, request.allow_ops)
    reports, unreadable = [], []
    models = loader.expand_models(request.models, request.jobs)  # glob patterns, local or remote
    items = []

    def versions_of(model: str) -> list[str | None]:
        return list(loader.model_versions(model)) or [None]  # [None]: the model itself, not a base path

    for model, versions, error in loader.run_all(versions_of, models, request.jobs):
        if error is not None:
            unreadable.append(_user_error(error))
            continue
        items += [(model, version) for version in versions]
    loaded = loader.run_all(lambda item: loader.load(item[0], version=item[1], graph=True), items, request.jobs)
    for (model, _), info, error in loaded:
        if error is not None:
            unreadable.append(_user_error(error))
            continue
        findings = tuple(checks.run_checks(info, options, set(request.select), set(request.ignore)))
        failed = checks.failed(findings, strict=request.strict)
        reports.append(checks.Report(model, info.source, info.version, findings, failed))
    output = render.CHECK_FORMATS[request.fmt](reports, request.strict) if reports else None
    summary = render.summary_line(reports, request.strict) if reports else None
    if unreadable:
        code = unreadable[0].exit_code
    else:
        code = ExitCode.CHECK_FAILED if any(r.failed for r in reports) else ExitCode.OK
    return CheckResult(output, summary, tuple(unreadable), int(code))


def _user_error(error: Exception) -> SigtoolError:
    """A model that could not be read is reported; anything else is a bug and is raised."""
    if isinstance(error, SigtoolError):
        return error
    raise error
