"""sigtool diff: options onto commands.diff."""

from __future__ import annotations

import sys

import click

from sigtool.cli import cli, emit, say


@cli.command()
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="[NEW]", required=False)
@click.option("--old-version", metavar="N", help="Version directory of OLD (a model base path).")
@click.option("--new-version", metavar="N", help="Version directory of NEW (a model base path).")
@click.option(
    "--tag-set",
    "--tag_set",
    "tag_set",
    metavar="TAGS",
    help="The MetaGraph to compare, comma-separated (default: serve, as Serving loads).",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too (exit 1).")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["github", "json", "junit", "table"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def diff(old, new, old_version, new_version, tag_set, strict, fmt):
    """Show what NEW changes for TF Serving's clients of OLD: breaking changes fail (exit 1).

    OLD and NEW are anything show reads, or a saved GetModelMetadata response
    (the JSON of GET /v1/models/NAME/metadata). With one MODEL_BASE_PATH, its
    two highest versions are compared. Changes go to stdout, a one-line
    summary to stderr. Never imports TensorFlow.

    \b
    Examples:
      sigtool diff models/half_plus_two/1 models/half_plus_two/2
      sigtool diff models/half_plus_two
      sigtool diff deployed_metadata.json models/half_plus_two/3 -f github
    """
    from sigtool.commands.diff import DiffRequest, diff_models

    result = diff_models(DiffRequest(old, new, old_version, new_version, tag_set, strict, fmt), say)
    emit(result.output)
    say(result.summary)
    sys.exit(result.exit_code)
