"""sigtool warmup write / show: options onto commands.warmup."""

from __future__ import annotations

import click

from sigtool.cli import cli, emit, request_check_options, say


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
@request_check_options
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
