"""sigtool run: check a request against the signature before TensorFlow is imported, then run it as
TF Serving would and give back Serving's response (or a summary), optionally saving outputs as .npy."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from sigtool import loader
from sigtool.commands import Say, parse_tag_set, read_body, silent
from sigtool.errors import LoadError, RunError, UnsafeModel, UsageError
from sigtool.model import DEFAULT_SIGNATURE, MetaGraph, SavedModelInfo, Signature
from sigtool.render import tables


@dataclass(frozen=True)
class RunRequest:
    model: str
    tag_set: str | None = None  # comma-separated, as typed
    signature: str | None = None
    model_version: str | None = None
    input_json: str | None = None  # inline JSON, @file.json or - (stdin)
    input_files: tuple[str, ...] = ()  # KEY=FILE.npy / KEY=FILE.npz[NAME]
    sample: bool = False
    batch: int = 1
    seed: int = 0
    values_per_feature: int = 1
    dry_run: bool = False  # with --sample: print the body; with --input-json: only validate it
    method: str | None = None  # predict, classify, regress; None: from the body and the signature
    strict_shapes: bool = False
    device: str | None = None  # None: TensorFlow's choice; "cpu"
    executor: str = "session"
    allow_unsafe_ops: bool = False
    outdir: str | None = None
    overwrite: bool = False
    fmt: str = "summary"  # or "json": Serving's exact response body


def run(request: RunRequest, say: Say = silent):
    """What to print on stdout: Serving's body, a summary (tables.Layout), or a dry run's text."""
    _check_options(request)
    info = loader.load(request.model, version=request.model_version, graph=True)
    for message in info.notes:
        say(f"Note: {message}")
    unparsable = loader.invalid_utf8_error(info)
    if unparsable:  # TensorFlow refuses the whole file
        raise unparsable
    mg = info.pick_meta_graph(parse_tag_set(request.tag_set))
    if request.sample and request.dry_run:
        return json.dumps(_sample_body(mg, request), indent=2) + "\n"
    if not request.dry_run:  # what stops any run comes before the request's own problems
        _refuse_unsafe(info, request.allow_unsafe_ops)
        _refuse_incomplete(info)
    sig, body = _parse_request(mg, request)
    if request.dry_run:
        return _dry_run_text(sig, body, request)
    return _execute(info, mg, sig, body, request, say)


def _check_options(request: RunRequest) -> None:
    given = (
        ("--input-json", request.input_json is not None),
        ("--inputs", request.input_files),
        ("--sample", request.sample),
    )
    sources = [name for name, present in given if present]
    if len(sources) > 1:
        raise UsageError(f"give one input source, not {' and '.join(sources)}")
    if (request.batch != 1 or request.seed or request.values_per_feature != 1) and not request.sample:
        raise UsageError("--batch, --seed and --values-per-feature go with --sample")
    if request.dry_run and not (request.sample or request.input_json is not None):
        raise UsageError("--dry-run goes with --sample (print the request) or --input-json (validate it)")
    if request.overwrite and not request.outdir:
        raise UsageError("--overwrite goes with --outdir")


def _sample_body(mg: MetaGraph, request: RunRequest) -> dict:
    from sigtool import sample

    sig = mg.signature(request.signature or DEFAULT_SIGNATURE)
    return sample.sample_request(
        mg, sig, batch=request.batch, seed=request.seed, values_per_feature=request.values_per_feature
    )


def _parse_request(mg: MetaGraph, request: RunRequest):
    """(signature, parsed request) from whichever input source was given."""
    from sigtool.serving.requests import parse_request

    if request.sample or request.input_json is not None:
        if request.sample:
            text = json.dumps(_sample_body(mg, request))
        else:
            assert request.input_json is not None  # the condition above
            text = read_body(request.input_json)
        chosen = mg.signature(request.signature) if request.signature else {s.key: s for s in mg.signatures}
        body = parse_request(text, chosen, method=request.method, check_shapes=request.strict_shapes)
        return mg.signature(request.signature or body.signature_name or DEFAULT_SIGNATURE), body
    sig = mg.signature(request.signature or DEFAULT_SIGNATURE)
    if sig.inputs and not request.input_files:
        raise UsageError(
            f"no input given for signature {sig.key} (inputs: {', '.join(t.key for t in sig.inputs)}); "
            "pass --input-json JSON (a TF Serving REST body), --inputs KEY=FILE (.npy/.npz) or --sample"
        )
    return sig, _request_from_files(sig, parse_inputs_option(request.input_files))


def _dry_run_text(sig: Signature, body, request: RunRequest) -> str:
    """What a validated --input-json body would call; nothing is run."""
    from sigtool import emulate
    from sigtool.serving.requests import PredictRequest

    if isinstance(body, PredictRequest):
        api = "Predict"
        size = ", ".join(f"{key} {list(t.shape)}" for key, t in sorted(body.inputs.items()))
        detail = f"{'row' if body.row_format else 'columnar'} format; inputs: {size or '(none)'}"
    else:
        api = (request.method or emulate.examples_api(sig)).capitalize()
        emulate.check_examples_api(sig, api.lower())
        detail = f"{len(body.examples)} example(s){' with context' if body.context is not None else ''}"
    return f"valid: would call {api} on signature {sig.key} ({detail})\n"


def _execute(info: SavedModelInfo, mg: MetaGraph, sig: Signature, body, request: RunRequest, say: Say):
    from sigtool import emulate, runner
    from sigtool.serving.requests import PredictRequest, shape_mismatches

    if isinstance(body, PredictRequest):
        for message in shape_mismatches(body, sig):
            say(f"Warning: {message}; TF Serving sends it as is")
    targets = _output_targets(request.outdir, sig, request.overwrite)
    try:
        with loader.local_copy(info) as local:  # a remote model is downloaded (TensorFlow needs files), removed after
            result = emulate.serve(
                local,
                mg,
                sig,
                body,
                method=request.method,
                device=request.device,
                executor=request.executor,
                warn=lambda message: say(f"Warning: {message}"),
            )
    except RunError as e:
        raise _with_op_hint(e, mg) from None
    if targets:
        assert request.outdir is not None  # targets come from --outdir
        os.makedirs(request.outdir, exist_ok=True)
    for key, path in targets.items():
        runner.save_npy(path, result.outputs[key])
    if request.fmt == "json":
        return result.body + "\n"
    return tables.outputs_table(sig, result.outputs)


def _with_op_hint(error: RunError, mg: MetaGraph) -> RunError:
    """An op TensorFlow does not register (or has no kernel for): name it and the version problem."""
    message = error.format_message()
    if not re.search(r"not registered|No OpKernel was registered", message):
        return error
    from sigtool import runner
    from sigtool.checks.op_support import unregistered_ops

    problems = unregistered_ops(mg, runner.tensorflow_version())
    if not problems:
        return error
    ops = ", ".join(op for op, _ in problems)
    return RunError(f"{message}; op data for TensorFlow {runner.tensorflow_version()}: {ops}: {problems[0][1]}")


def parse_inputs_option(items: tuple[str, ...]) -> list[tuple[str, str, str | None]]:
    """--inputs key=file.npy / key=file.npz[name] -> (key, path, name)."""
    parsed = []
    for item in items:
        match = re.fullmatch(r"([^=]+)=([^\[\]]+?)(?:\[([^\[\]]+)\])?", item)
        if not match:
            raise UsageError(f"--inputs {item!r}: write KEY=FILE.npy or KEY=FILE.npz[NAME]")
        key, path, name = match.groups()
        parsed.append((key, path, name))
    return parsed


def _request_from_files(sig: Signature, items):
    """--inputs files (or nothing, for a signature without inputs) as a columnar predict request."""
    from sigtool.arrays import load_array
    from sigtool.serving.requests import PredictRequest

    expected = {t.key for t in sig.inputs}
    given = {key for key, _, _ in items}
    unknown, missing = sorted(given - expected), sorted(expected - given)
    if unknown or missing:
        problems = ([f"unknown key(s) {', '.join(unknown)}"] if unknown else []) + (
            [f"missing {', '.join(missing)}"] if missing else []
        )
        raise UsageError(
            f"--inputs for {sig.key}: {'; '.join(problems)}; expected: {', '.join(sorted(expected)) or '(no inputs)'}"
        )
    return PredictRequest(sig.key, False, {key: load_array(path, name) for key, path, name in items})


def _refuse_unsafe(info: SavedModelInfo, allowed: bool) -> None:
    from sigtool.checks import unsafe_ops

    found = unsafe_ops(info)
    if found and not allowed:
        raise UnsafeModel(
            f"refusing to run a model with unsafe ops: {found[0].summary}"
            + (f" and {len(found) - 1} more" if len(found) > 1 else "")
            + "; see sigtool check, or pass --allow-unsafe-ops if you trust it"
        )


def _refuse_incomplete(info: SavedModelInfo) -> None:
    """Missing variable files stop the run before TensorFlow is imported, with check's SERVE003 finding."""
    from sigtool import checks

    findings = checks.run_checks(info, select={"SERVE003"})
    if findings:
        first = findings[0]
        more = f" and {len(findings) - 1} more" if len(findings) > 1 else ""
        raise LoadError(
            f"{first.where}: {first.message}{more} ({first.rule}); TensorFlow cannot restore the "
            "model's variables without it, so it cannot run"
        )


def _output_targets(outdir: str | None, sig: Signature, overwrite: bool) -> dict[str, str]:
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
