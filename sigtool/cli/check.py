"""sigtool check: options onto commands.check."""

from __future__ import annotations

import sys

import click

from sigtool import render
from sigtool.cli import cli, emit, jobs_option, say


@cli.command()
@click.argument("models", metavar="MODEL...", nargs=-1)
@click.option("--strict", is_flag=True, help="Fail on warnings too (exit 1).")
@click.option("--method-check", is_flag=True, help="Apply Serving's --enable_signature_method_name_check semantics.")
@click.option("--select", "selected", multiple=True, metavar="ID", help="Only these rules (repeatable).")
@click.option("--ignore", "ignored", multiple=True, metavar="ID", help="Skip these rules (repeatable).")
@click.option("--deny-op", "deny_ops", multiple=True, metavar="OP", help="Also treat this op as unsafe (repeatable).")
@click.option(
    "--allow-op", "allow_ops", multiple=True, metavar="OP", help="Do not treat this op as unsafe (repeatable)."
)
@click.option("--list-rules", is_flag=True, help="List the rules (id, severity, summary) and exit.")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(sorted(render.CHECK_FORMATS)),
    default="table",
    show_default=True,
    help="Output format.",
)
@jobs_option
def check(models, strict, method_check, selected, ignored, deny_ops, allow_ops, list_rules, fmt, jobs):
    """Find every reason TF Serving or a client would fail on a model, in one run.

    MODEL is a SavedModel directory or file, or a model base path (every
    version is checked), local or s3://, gs://, https://; a quoted glob
    pattern ('s3://bucket/models/*') checks every model it matches.
    Findings go to stdout, a one-line summary to stderr.
    Exit 0 when clean (warnings allowed), 1 on errors (or warnings with
    --strict), 3 when a model cannot be read. Never imports TensorFlow.

    \b
    Examples:
      sigtool check --strict models/half_plus_two
      sigtool check --method-check --ignore SHAPE001 -f json models/*
    """
    from sigtool.commands import check as command

    if list_rules:
        emit(command.list_rules())
        return
    result = command.check(
        command.CheckRequest(
            models,
            strict,
            method_check,
            frozenset(selected),
            frozenset(ignored),
            frozenset(deny_ops),
            frozenset(allow_ops),
            fmt,
            jobs=jobs,
        )
    )
    if result.output is not None:
        emit(result.output)
    if result.summary is not None:  # given with the output: both come from the reports
        say(result.summary)
    for error in result.unreadable:
        error.show()
    sys.exit(result.exit_code)
