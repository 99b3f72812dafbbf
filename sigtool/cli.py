"""Command-line wiring only: options, help, exit codes, and printing once."""

from __future__ import annotations

import sys
from dataclasses import replace

import click

from sigtool import __version__, loader, render
from sigtool.errors import ExitCode, SigtoolError, UsageError
from sigtool.model import SavedModelInfo

EXIT_CODES = "\n".join(
    [
        "\b",
        "Exit codes:",
        "  0  success (check: no errors; warnings allowed unless --strict)",
        "  1  check found errors (or warnings, with --strict)",
        "  2  usage error: bad option, unknown tag-set, signature key or version, bad input",
        "  3  the model could not be read: missing, corrupt, unsupported format",
        "  4  run: TensorFlow is not installed",
        "  5  run: TensorFlow failed to load or execute the model",
    ]
)


def _print_version(ctx, _param, value) -> None:
    """--version, with the versions of the libraries it runs on (looked up only when asked)."""
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import version

    deps = ", ".join(f"{name} {version(name)}" for name in ("click", "rich", "protobuf"))
    click.echo(f"sigtool {__version__} ({deps})")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version, help="Show the version and exit.")
def cli():
    """Inspect TensorFlow SavedModels: signatures, Serving readiness, sample runs.

    show and check never import TensorFlow.
    """


# --- shared options -------------------------------------------------------------------


def model_argument(fn):
    return click.argument("model", metavar="MODEL")(fn)


def selection_options(fn):
    fn = click.option("--version", "model_version", metavar="N", help="Version directory to use under a model base path (default: the highest, as TF Serving does).")(fn)
    fn = click.option("--signature", "--signature_def", "signature", metavar="KEY", help="Only this signature.")(fn)
    fn = click.option("--tag-set", "--tag_set", "tag_set", metavar="TAGS", help="Only the MetaGraph with exactly these tags, comma-separated (e.g. serve,gpu).")(fn)
    return fn


def parse_tag_set(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(t for t in (part.strip() for part in value.split(",")) if t)


def select(info: SavedModelInfo, tag_set: str | None, signature: str | None) -> tuple[SavedModelInfo, bool]:
    """Narrow to the asked tag-set and signature; a lone MetaGraph is implied for --signature."""
    tags = parse_tag_set(tag_set)
    if tags is None and signature is not None:
        if len(info.meta_graphs) != 1:
            valid = "; ".join(sorted({",".join(mg.tag_set) for mg in info.meta_graphs}))
            raise UsageError(f"the model has several MetaGraphs: pass --tag-set with --signature (one of: {valid})")
        tags = info.meta_graphs[0].tags
    return info.select(tags, signature), tags is not None


# --- output ---------------------------------------------------------------------------


def stdout_console():
    from rich.console import Console  # only the table formats need rich

    console = Console(highlight=False)
    if not console.is_terminal:
        # Piped or captured: never wrap or cut names to a guessed terminal width.
        console = Console(highlight=False, width=100_000, color_system=None)
    return console


def emit(output) -> None:
    """The one place that writes data to stdout."""
    if not isinstance(output, str):
        console = stdout_console()
        if console.is_terminal:
            console.print(output)
            return
        with console.capture() as captured:
            console.print(output)
        output = "".join(line.rstrip() + "\n" for line in captured.get().splitlines())
    click.echo(output, nl=False)


def note(message: str) -> None:
    """Diagnostics go to stderr, never into the data on stdout."""
    click.echo(f"Note: {message}", err=True)


# --- commands ---------------------------------------------------------------------------


@cli.command()
@model_argument
@selection_options
@click.option("--all", "show_all", is_flag=True, help="Also internal signatures, the ops used and TF2 function signatures.")
@click.option("-f", "--format", "fmt", type=click.Choice(sorted(render.FORMATS)), default="table", show_default=True, help="table for people, json for programs, smcli for saved_model_cli's exact text.")
def show(model, tag_set, signature, model_version, show_all, fmt):
    """Show the signatures of a SavedModel: inputs, outputs, dtypes, shapes, methods.

    MODEL is a SavedModel directory, a TF Serving model base path (numbered
    version directories), a saved_model.pb/.pbtxt file, or a legacy
    SessionBundle export. Never imports TensorFlow.

    \b
    Examples:
      sigtool show models/half_plus_two
      sigtool show models/half_plus_two --signature serving_default -f json
      sigtool show models/half_plus_two --all -f smcli
    """
    info = loader.load(model, version=model_version, ops=show_all, functions=show_all)
    for message in info.notes:
        note(message)
    info, tag_set_given = select(info, tag_set, signature)
    if fmt == "table" and not show_all and signature is None:
        info = _hide_internal(info)
    view = render.ShowView(tag_set=tag_set_given, signature=signature is not None, all=show_all)
    emit(render.FORMATS[fmt](info, view))


def _hide_internal(info: SavedModelInfo) -> SavedModelInfo:
    hidden = sorted({s.key for mg in info.meta_graphs for s in mg.signatures if s.internal})
    if hidden:
        note(f"internal signature{'s' if len(hidden) > 1 else ''} {', '.join(hidden)} hidden; --all shows {'them' if len(hidden) > 1 else 'it'}")
    return replace(
        info,
        meta_graphs=tuple(replace(mg, signatures=tuple(s for s in mg.signatures if not s.internal)) for mg in info.meta_graphs),
    )


@cli.command()
@click.argument("models", metavar="MODEL...", nargs=-1)
@click.option("--strict", is_flag=True, help="Fail on warnings too (exit 1).")
@click.option("--method-check", is_flag=True, help="Apply Serving's --enable_signature_method_name_check semantics.")
@click.option("--select", "selected", multiple=True, metavar="ID", help="Only these rules (repeatable).")
@click.option("--ignore", "ignored", multiple=True, metavar="ID", help="Skip these rules (repeatable).")
@click.option("--deny-op", "deny_ops", multiple=True, metavar="OP", help="Also treat this op as unsafe (repeatable).")
@click.option("--allow-op", "allow_ops", multiple=True, metavar="OP", help="Do not treat this op as unsafe (repeatable).")
@click.option("--list-rules", is_flag=True, help="List the rules (id, severity, summary) and exit.")
@click.option("-f", "--format", "fmt", type=click.Choice(sorted(render.CHECK_FORMATS)), default="table", show_default=True, help="Output format.")
def check(models, strict, method_check, selected, ignored, deny_ops, allow_ops, list_rules, fmt):
    """Find every reason TF Serving or a client would fail on a model, in one run.

    MODEL is a SavedModel directory or file, or a model base path (every
    version is checked). Findings go to stdout, a one-line summary to stderr.
    Exit 0 when clean (warnings allowed), 1 on errors (or warnings with
    --strict), 3 when a model cannot be read. Never imports TensorFlow.

    \b
    Examples:
      sigtool check --strict models/half_plus_two
      sigtool check --method-check --ignore SHAPE001 -f json models/*
    """
    from sigtool import checks

    if list_rules:
        emit(render.rules_table(checks.RULES[r] for r in sorted(checks.RULES)))
        return
    if not models:
        raise UsageError("give at least one MODEL (or --list-rules)")
    unknown = sorted((set(selected) | set(ignored)) - set(checks.RULES))
    if unknown:
        raise UsageError(f"unknown rule id(s) {', '.join(unknown)}; see sigtool check --list-rules")
    options = checks.CheckOptions(method_check, frozenset(deny_ops), frozenset(allow_ops))
    reports, unreadable = [], []
    for model in models:
        for version in loader.model_versions(model) or [None]:
            try:
                info = loader.load(model, version=version, graph=True)
            except SigtoolError as e:
                unreadable.append(e)
                continue
            findings = tuple(checks.run_checks(info, options, set(selected), set(ignored)))
            reports.append(checks.Report(model, info.source, info.version, findings, checks.failed(findings, strict=strict)))
    if reports:
        emit(render.CHECK_FORMATS[fmt](reports, strict))
        click.echo(render.summary_line(reports, strict), err=True)
    for error in unreadable:
        error.show()
    if unreadable:
        sys.exit(unreadable[0].exit_code)
    if any(r.failed for r in reports):
        sys.exit(ExitCode.CHECK_FAILED)


def main() -> None:
    try:
        cli(prog_name="sigtool")
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error worth a traceback
        sys.exit(ExitCode.OK)
