"""Command-line wiring only: options, help, exit codes, and printing once."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import replace

import click

from sigtool import __version__, loader, render
from sigtool.errors import ExitCode, LoadError, SigtoolError, UnsafeModel, UsageError
from sigtool.model import DEFAULT_SIGNATURE, SavedModelInfo

EXIT_CODES = "\n".join(
    [
        "\b",
        "Exit codes:",
        "  0  success (check: no errors; warnings allowed unless --strict)",
        "  1  check found errors (or warnings, with --strict); run refused a model with unsafe ops",
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
    unparsable = loader.invalid_utf8_error(info)  # shown all the same, then exit 3
    try:
        info, tag_set_given = select(info, tag_set, signature)
    except UsageError:
        if unparsable:  # the garbled string is the cause
            raise unparsable from None
        raise
    if fmt == "table" and not show_all and signature is None:
        info = _hide_internal(info)
    view = render.ShowView(tag_set=tag_set_given, signature=signature is not None, all=show_all)
    emit(render.FORMATS[fmt](info, view))
    if unparsable:
        raise unparsable


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


def read_input_json(value: str) -> str:
    """--input-json: inline JSON, @file.json, or - for stdin."""
    if value == "-":
        return sys.stdin.read()
    if value.startswith("@"):
        try:
            with open(value[1:], "rb") as f:
                return f.read(64 * 1024 * 1024 + 1).decode("utf-8", "replace")
        except OSError as e:
            raise UsageError(f"--input-json {value}: cannot read the file ({e.strerror})") from None
    return value


def parse_inputs_option(items: tuple[str, ...]) -> list[tuple[str, str, str | None]]:
    """--inputs key=file.npy / key=file.npz[name] -> (key, path, name)."""
    parsed = []
    for item in items:
        match = re.fullmatch(r"([^=]+)=([^\[\]]+?)(?:\[([^\[\]]+)\])?", item)
        if not match:
            raise UsageError(f"--inputs {item!r}: write KEY=FILE.npy or KEY=FILE.npz[NAME]")
        parsed.append(match.groups())
    return parsed


@cli.command()
@click.argument("model", metavar="MODEL", required=False)
@click.option("--dir", "model_dir", metavar="MODEL", help="MODEL, as saved_model_cli spells it.")
@selection_options
@click.option("--input-json", metavar="JSON", help="A TF Serving REST request body: inline, @file.json, or - for stdin.")
@click.option("--inputs", "input_files", multiple=True, metavar="KEY=FILE", help="An input from FILE.npy or FILE.npz[NAME] (repeatable); pickles are never loaded.")
@click.option("--sample", is_flag=True, help="Synthesize inputs from the signature (tf.Examples for classify/regress).")
@click.option("--batch", type=click.IntRange(1, 10_000), default=1, show_default=True, help="With --sample: instances per request.")
@click.option("--seed", type=int, default=0, show_default=True, help="With --sample: random seed.")
@click.option("--values-per-feature", type=click.IntRange(1, 1000), default=1, show_default=True, help="With --sample: values in each var-len (sparse, ragged) tf.Example feature.")
@click.option("--dry-run", is_flag=True, help="With --sample: print the request JSON instead of running it.")
@click.option("--method", type=click.Choice(["predict", "classify", "regress"]), help="Serving API to emulate (default: from the request and the signature).")
@click.option("--strict-shapes", is_flag=True, help="Refuse inputs whose shape contradicts the signature (TF Serving does not check).")
@click.option("--device", type=click.Choice(["auto", "cpu"]), default="auto", show_default=True, help="auto uses a GPU when TensorFlow sees one.")
@click.option("--executor", type=click.Choice(["session", "function"]), default="session", show_default=True, help="session: a TF1 session over the MetaGraph, fed by tensor name, as TF Serving runs every model; function: tf.saved_model.load's signatures (the TF2 Python path).")
@click.option("--allow-unsafe-ops", is_flag=True, help="Run a model even if it holds file, process or network ops.")
@click.option("--outdir", type=click.Path(file_okay=False), help="Write each output to DIR/<output key>.npy.")
@click.option("--overwrite", is_flag=True, help="With --outdir: replace existing .npy files.")
@click.option("-f", "--format", "fmt", type=click.Choice(["summary", "json"]), default="summary", show_default=True, help="json: exactly TF Serving's REST response body.")
def run(model, model_dir, tag_set, signature, model_version, input_json, input_files, sample, batch, seed,
        values_per_feature, dry_run, method, strict_shapes, device, executor, allow_unsafe_ops, outdir, overwrite, fmt):
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
    from sigtool.serving.requests import PredictRequest, parse_request, shape_mismatches

    if (model is None) == (model_dir is None):
        raise UsageError("give the model once: as MODEL or as --dir MODEL" if model else "give a MODEL (or --dir MODEL)")
    model = model or model_dir
    sources = [name for name, given in (("--input-json", input_json), ("--inputs", input_files), ("--sample", sample)) if given]
    if len(sources) > 1:
        raise UsageError(f"give one input source, not {' and '.join(sources)}")
    if (dry_run or batch != 1 or seed or values_per_feature != 1) and not sample:
        raise UsageError("--dry-run, --batch, --seed and --values-per-feature go with --sample")
    if overwrite and not outdir:
        raise UsageError("--overwrite goes with --outdir")
    info = loader.load(model, version=model_version, graph=True)
    for message in info.notes:
        note(message)
    mg = _run_meta_graph(info, parse_tag_set(tag_set))
    signatures = {s.key: s for s in mg.signatures}
    if not dry_run:
        _refuse_unsafe(info, allow_unsafe_ops)
        _refuse_incomplete(info)

    if sample:
        import json

        from sigtool import sample as sampler

        body = sampler.sample_request(mg, mg.signature(signature or DEFAULT_SIGNATURE), batch=batch, seed=seed,
                                      values_per_feature=values_per_feature)
        if dry_run:
            emit(json.dumps(body, indent=2) + "\n")
            return
        input_json = json.dumps(body)
    if input_json is not None:
        chosen = mg.signature(signature) if signature else signatures
        request = parse_request(read_input_json(input_json), chosen, method=method, check_shapes=strict_shapes)
        sig = mg.signature(signature or request.signature_name or DEFAULT_SIGNATURE)
    else:
        sig = mg.signature(signature or DEFAULT_SIGNATURE)
        if sig.inputs and not input_files:
            raise UsageError(f"no input given for signature {sig.key} (inputs: {', '.join(t.key for t in sig.inputs)}); "
                             "pass --input-json JSON (a TF Serving REST body), --inputs KEY=FILE (.npy/.npz) or --sample")
        request = _request_from_files(sig, parse_inputs_option(input_files))
    if isinstance(request, PredictRequest):
        for message in shape_mismatches(request, sig):
            click.echo(f"Warning: {message}; TF Serving sends it as is", err=True)
    targets = _output_targets(outdir, sig, overwrite)

    from sigtool import emulate, runner

    result = emulate.serve(info, mg, sig, request, method=method, device=None if device == "auto" else device,
                           executor=executor, warn=lambda message: click.echo(f"Warning: {message}", err=True))
    if targets:
        os.makedirs(outdir, exist_ok=True)
    for key, path in targets.items():
        runner.save_npy(path, result.outputs[key])
    if fmt == "json":
        emit(result.body + "\n")
    else:
        emit(render.outputs_summary(sig, result.outputs))


def _run_meta_graph(info, tags):
    """The MetaGraph to run: --tag-set, else the one tagged exactly serve, else the only one."""
    if tags is not None:
        return info.meta_graph(tags)
    if info.served_meta_graph is not None:
        return info.served_meta_graph
    if len(info.meta_graphs) == 1:
        return info.meta_graphs[0]
    valid = "; ".join(sorted({",".join(mg.tag_set) for mg in info.meta_graphs}))
    raise UsageError(f"no MetaGraph is tagged 'serve'; pass --tag-set (one of: {valid})")


def _request_from_files(sig, items):
    """--inputs files (or nothing, for a signature without inputs) as a columnar predict request."""
    from sigtool import runner
    from sigtool.serving.requests import PredictRequest

    expected = {t.key for t in sig.inputs}
    given = {key for key, _, _ in items}
    unknown, missing = sorted(given - expected), sorted(expected - given)
    if unknown or missing:
        problems = ([f"unknown key(s) {', '.join(unknown)}"] if unknown else []) + ([f"missing {', '.join(missing)}"] if missing else [])
        raise UsageError(f"--inputs for {sig.key}: {'; '.join(problems)}; expected: {', '.join(sorted(expected)) or '(no inputs)'}")
    return PredictRequest(sig.key, False, {key: runner.load_array(path, name) for key, path, name in items})


def _refuse_unsafe(info, allowed: bool) -> None:
    from sigtool import checks

    findings = checks.run_checks(info, select={"SEC001"})
    if findings and not allowed:
        raise UnsafeModel(
            f"refusing to run a model with unsafe ops: {findings[0].message.split(' (at ')[0]}"
            + (f" and {len(findings) - 1} more" if len(findings) > 1 else "")
            + "; see sigtool check, or pass --allow-unsafe-ops if you trust it"
        )


def _refuse_incomplete(info) -> None:
    """Missing variable files stop the run before TensorFlow is imported, with check's SERVE003 finding."""
    from sigtool import checks

    findings = checks.run_checks(info, select={"SERVE003"})
    if findings:
        first = findings[0]
        more = f" and {len(findings) - 1} more" if len(findings) > 1 else ""
        raise LoadError(f"{first.where}: {first.message}{more} ({first.rule}); TensorFlow cannot restore the "
                        "model's variables without it, so it cannot run")


def _output_targets(outdir, sig, overwrite: bool) -> dict[str, str]:
    """DIR/<key>.npy per output, checked before anything runs so nothing is half-written."""
    if not outdir:
        return {}
    targets = {t.key: os.path.join(outdir, f"{t.key}.npy") for t in sig.outputs}
    for key, path in targets.items():
        if os.path.sep in key or key in (".", ".."):
            raise UsageError(f"output key {key!r} cannot be used as a file name under --outdir")
        if os.path.exists(path) and not overwrite:
            raise UsageError(f"{path} exists; pass --overwrite to replace it")
    return targets


def main() -> None:
    try:
        cli(prog_name="sigtool")
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error worth a traceback
        sys.exit(ExitCode.OK)
