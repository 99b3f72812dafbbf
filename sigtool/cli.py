"""Command-line wiring only: options, help, exit codes, and printing once."""

from __future__ import annotations

import sys

import click

from sigtool import __version__, render
from sigtool.errors import ExitCode, UsageError

EXIT_CODES = "\n".join(
    [
        "\b",
        "Exit codes:",
        "  0  success (check: no errors; warnings allowed unless --strict)",
        "  1  check found errors, diff a breaking change (or warnings, with --strict); run refused unsafe ops",
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


# "--help" first: click 8.1 (Python 3.9) names the first one in "Try ... for help."
@click.group(context_settings={"help_option_names": ["--help", "-h"]}, epilog=EXIT_CODES)
@click.option(
    "-V",
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
def cli():
    """Inspect TensorFlow SavedModels: signatures, Serving readiness, sample runs.

    show and check never import TensorFlow.
    """


# --- shared options -------------------------------------------------------------------


def selection_options(fn):
    fn = click.option("--version", "version_alias", metavar="N", hidden=True, help="Old spelling of --model-version.")(
        fn
    )
    fn = click.option(
        "--model-version",
        "model_version",
        metavar="N",
        help="Version directory to use under a model base path (default: the highest, as TF Serving does).",
    )(fn)
    fn = click.option("--signature", "--signature_def", "signature", metavar="KEY", help="Only this signature.")(fn)
    fn = click.option(
        "--tag-set",
        "--tag_set",
        "tag_set",
        metavar="TAGS",
        help="Only the MetaGraph with exactly these tags, comma-separated (e.g. serve,gpu).",
    )(fn)
    return fn


def chosen_version(model_version: str | None, version_alias: str | None) -> str | None:
    if model_version is not None and version_alias is not None:
        raise UsageError("give --model-version once (--version is its old spelling)")
    return model_version if model_version is not None else version_alias


# --- output ---------------------------------------------------------------------------


def emit(output) -> None:
    """The one place that writes data to stdout: a string, or a tables.Layout."""
    if not isinstance(output, str):
        from sigtool import tables

        if sys.stdout.isatty():
            from rich.console import Console  # colours, on a terminal only

            Console(highlight=False).print(tables.rich_renderable(output))
            return
        output = tables.plain_text(output)
    click.echo(output, nl=False)


def say(line: str) -> None:
    """Diagnostics go to stderr, never into the data on stdout."""
    click.echo(line, err=True)


# --- commands ---------------------------------------------------------------------------


@cli.command()
@click.argument("models", metavar="MODEL...", nargs=-1, required=True)
@selection_options
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="With several MODELs: models read at once.",
)
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
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="Models read at once (for many or remote models).",
)
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


@cli.command()
@click.argument("model", metavar="MODEL", required=False)
@click.option("--dir", "model_dir", metavar="MODEL", help="MODEL, as saved_model_cli spells it.")
@selection_options
@click.option(
    "--input-json", metavar="JSON", help="A TF Serving REST request body: inline, @file.json, or - for stdin."
)
@click.option(
    "--inputs",
    "input_files",
    multiple=True,
    metavar="KEY=FILE",
    help="An input from FILE.npy or FILE.npz[NAME] (repeatable); pickles are never loaded.",
)
@click.option("--sample", is_flag=True, help="Synthesize inputs from the signature (tf.Examples for classify/regress).")
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    default=1,
    show_default=True,
    help="With --sample: instances per request.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="With --sample: random seed.")
@click.option(
    "--values-per-feature",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="With --sample: values in each var-len (sparse, ragged) tf.Example feature.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="With --sample: print the request JSON; with --input-json: only validate it. TensorFlow is not imported.",
)
@click.option(
    "--method",
    type=click.Choice(["predict", "classify", "regress"]),
    help="Serving API to emulate (default: from the request and the signature).",
)
@click.option(
    "--strict-shapes",
    is_flag=True,
    help="Refuse inputs whose shape contradicts the signature (TF Serving does not check).",
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu"]),
    default="auto",
    show_default=True,
    help="auto uses a GPU when TensorFlow sees one.",
)
@click.option(
    "--executor",
    type=click.Choice(["session", "function"]),
    default="session",
    show_default=True,
    help="session: a TF1 session over the MetaGraph, fed by tensor name, as TF Serving runs every model; "
    "function: tf.saved_model.load's signatures (the TF2 Python path).",
)
@click.option("--allow-unsafe-ops", is_flag=True, help="Run a model even if it holds file, process or network ops.")
@click.option("--outdir", type=click.Path(file_okay=False), help="Write each output to DIR/<output key>.npy.")
@click.option("--overwrite", is_flag=True, help="With --outdir: replace existing .npy files.")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["summary", "json"]),
    default="summary",
    show_default=True,
    help="json: exactly TF Serving's REST response body.",
)
def run(
    model,
    model_dir,
    tag_set,
    signature,
    model_version,
    version_alias,
    input_json,
    input_files,
    sample,
    batch,
    seed,
    values_per_feature,
    dry_run,
    method,
    strict_shapes,
    device,
    executor,
    allow_unsafe_ops,
    outdir,
    overwrite,
    fmt,
):
    """Run a signature on sample input, the way a TF Serving client calls it.

    MODEL (or --dir MODEL, as saved_model_cli spells it) is a SavedModel
    directory or a model base path. Input is a TF Serving REST body
    (--input-json), .npy/.npz files (--inputs), or synthesized (--sample).
    Everything is checked against the signature before TensorFlow is
    imported. Every model, TF2 included, runs in a TF1 session over its
    MetaGraph, fed and fetched by tensor name, as TF Serving runs it
    (--executor function uses tf.saved_model.load instead). -f json prints
    exactly the body Serving would answer.

    \b
    Examples:
      sigtool run models/half_plus_two --input-json '{"instances": [[1.0], [2.0]]}' -f json
      sigtool run models/half_plus_two --signature classify_x_to_y --input-json @request.json
      sigtool run models/half_plus_two --sample --dry-run > request.json
    """
    from sigtool.commands.run import RunRequest
    from sigtool.commands.run import run as run_model

    if (model is None) == (model_dir is None):
        raise UsageError(
            "give the model once: as MODEL or as --dir MODEL" if model else "give a MODEL (or --dir MODEL)"
        )
    request = RunRequest(
        model or model_dir,
        tag_set,
        signature,
        chosen_version(model_version, version_alias),
        input_json,
        input_files,
        sample,
        batch,
        seed,
        values_per_feature,
        dry_run,
        method,
        strict_shapes,
        None if device == "auto" else device,
        executor,
        allow_unsafe_ops,
        outdir,
        overwrite,
        fmt,
    )
    emit(run_model(request, say))


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


@cli.group()
def warmup():
    """Write or list TF Serving warmup files (assets.extra/tf_serving_warmup_requests). Never imports TensorFlow."""


@warmup.command("write")
@click.argument("model", metavar="MODEL")
@click.option("-o", "--output", metavar="FILE", help="The warmup file to write.")
@click.option(
    "--in-place", is_flag=True, help="Write MODEL/assets.extra/tf_serving_warmup_requests, where Serving reads it."
)
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@click.option(
    "--input-json",
    multiple=True,
    metavar="JSON",
    help="A TF Serving REST request body: inline, @file.json, or - for stdin (repeatable).",
)
@click.option(
    "--requests", "requests_file", metavar="FILE.jsonl", help="REST bodies, one JSON object a line (- for stdin)."
)
@click.option("--sample", is_flag=True, help="Add synthesized requests, one per --batch size.")
@click.option(
    "--batch",
    "batches",
    multiple=True,
    type=click.IntRange(1, 10_000),
    help="With --sample: a batch size (repeatable; default 1).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="With --sample: random seed.")
@click.option(
    "--signature",
    metavar="KEY",
    help="The signature for every request (default: each body's signature_name, else serving_default).",
)
@click.option(
    "--tag-set",
    "tag_set",
    metavar="TAGS",
    help="The MetaGraph, comma-separated tags (default: serve, as Serving loads).",
)
@click.option("--model-version", metavar="N", help="Version directory under a model base path (default: the highest).")
@click.option("--model-name", default="default", show_default=True, help="The model name written into each request.")
@click.option(
    "--method",
    type=click.Choice(["predict", "classify", "regress"]),
    help="Serving API of every body (default: from the body and the signature).",
)
@click.option(
    "--strict-shapes",
    is_flag=True,
    help="Refuse inputs whose shape contradicts the signature (TF Serving does not check).",
)
def warmup_write(
    model,
    output,
    in_place,
    overwrite,
    input_json,
    requests_file,
    sample,
    batches,
    seed,
    signature,
    tag_set,
    model_version,
    model_name,
    method,
    strict_shapes,
):
    """Write a warmup file of the requests TF Serving would build from REST bodies.

    Every body is checked against the signature with run's rules first. At
    most 1000 records (Serving's limit); an existing file is kept unless
    --overwrite is given.

    \b
    Examples:
      sigtool warmup write models/half_plus_two/1 --in-place --sample --batch 1 --batch 8
      sigtool warmup write models/half_plus_two -o warmup --requests bodies.jsonl
    """
    from sigtool.commands import warmup as command

    request = command.WarmupWriteRequest(
        model,
        output,
        in_place,
        overwrite,
        tuple(input_json),
        requests_file,
        sample,
        tuple(batches),
        seed,
        signature,
        tag_set,
        model_version,
        model_name,
        method,
        strict_shapes,
    )
    emit(command.write(request, say).output)


@warmup.command("show")
@click.argument("path", metavar="FILE")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["json", "table"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def warmup_show(path, fmt):
    """List the records of a warmup file: method, signature, inputs, batch size.

    FILE is a warmup file, or a model directory holding one. A bad record
    (CRC, truncation, not a PredictionLog) is named, after the records
    before it, with exit 3.
    """
    from sigtool.commands import warmup as command

    result = command.show(command.WarmupShowRequest(path, fmt))
    emit(result.output)
    if result.error:
        raise result.error


def main() -> None:
    try:
        cli(prog_name="sigtool")
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error worth a traceback
        sys.exit(ExitCode.OK)
