"""sigtool show: options onto commands.show."""

from __future__ import annotations

import sys

import click

from sigtool import render
from sigtool.cli import chosen_version, cli, emit, jobs_option, say, selection_options
from sigtool.errors import UsageError


@cli.command()
@click.argument("models", metavar="MODEL...", nargs=-1, required=True)
@selection_options
@jobs_option
@click.option(
    "--all", "show_all", is_flag=True, help="Also internal signatures, the ops used and TF2 function signatures."
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(sorted(render.FORMATS)),
    default="table",
    show_default=True,
    help="table for people, json for programs, smcli for saved_model_cli's exact text, metadata for "
    "TF Serving's GET /v1/models/NAME/metadata body.",
)
@click.option(
    "--model-name",
    default="default",
    show_default=True,
    help="With -f metadata: the model name Serving serves it under.",
)
def show(models, tag_set, signature, model_version, version_alias, jobs, show_all, fmt, model_name):
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
    from sigtool.commands import show as command

    version = chosen_version(model_version, version_alias)
    if model_name != "default" and fmt != "metadata":
        raise UsageError("--model-name goes with -f metadata")
    request = command.ShowRequest(models[0], tag_set, signature, version, show_all, fmt, model_name)
    if len(models) == 1 and not any(c in models[0] for c in "*?["):
        result = command.show(request, say)
        emit(result.output)
        if result.error:
            raise result.error
        return
    many = command.show_many(models, request, jobs, say)
    emit(many.output)
    for error in many.errors:
        error.show()
    sys.exit(many.exit_code)
