"""sigtool run: options onto commands.run."""

from __future__ import annotations

import click

from sigtool.cli import chosen_version, cli, emit, request_check_options, say, selection_options
from sigtool.errors import UsageError


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
@request_check_options
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
