"""sigtool warmup: write TF Serving warmup files from REST bodies (no TensorFlow), and list existing ones.

write: every body is checked against the signature with run's rules (sigtool.serving.requests) and becomes
the gRPC request Serving's REST handler would build: a PredictLog of TensorProtos, or a ClassifyLog /
RegressLog of tf.Examples. The file is a TFRecord of PredictionLogs with masked CRC32C, at most 1000
records (Serving fails the model load past that), written only where nothing is, unless overwrite is given.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass

from sigtool import loader
from sigtool.commands import Say, parse_tag_set, read_body, read_text, silent
from sigtool.errors import ExitCode, LoadError, SigtoolError, UsageError
from sigtool.model import DEFAULT_SIGNATURE, MetaGraph, SavedModelInfo, format_shape
from sigtool.serving.json_io import MAX_BODY_BYTES

WARMUP_PATH = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_RECORDS = 1000
SHOW_SCHEMA = "sigtool.warmup/1"


@dataclass(frozen=True)
class WarmupWriteRequest:
    model: str
    output: str | None = None  # -o FILE
    in_place: bool = False  # MODEL/assets.extra/tf_serving_warmup_requests (the version directory used)
    overwrite: bool = False
    input_json: tuple[str, ...] = ()  # each inline JSON, @file.json or - (stdin)
    requests_file: str | None = None  # JSON lines, one REST body a line (- for stdin)
    sample: bool = False
    batches: tuple[int, ...] = ()  # with sample: one record per batch size; () = (1,)
    seed: int = 0
    signature: str | None = None  # for every body (a body's own signature_name must then agree) and for sample
    tag_set: str | None = None  # comma-separated, as typed; default: the MetaGraph Serving loads
    model_version: str | None = None
    model_name: str = "default"  # ModelSpec.name in each request (Serving does not check it in warmup)
    method: str | None = None  # predict, classify, regress; None: from the body and the signature
    strict_shapes: bool = False  # refuse tensors whose shape contradicts the declared one


@dataclass(frozen=True)
class WarmupShowRequest:
    path: str  # a warmup file, or a model directory / base path holding one
    fmt: str = "table"  # "table" or "json"


@dataclass(frozen=True)
class WarmupResult:
    output: object  # str, or a tables.Layout for the table format
    exit_code: int = int(ExitCode.OK)
    error: SigtoolError | None = None  # shown after the output (a bad record: the ones before it are listed)


# --- write ---------------------------------------------------------------------------------


def write(request: WarmupWriteRequest, say: Say = silent) -> WarmupResult:
    """Write the warmup file; the output line names it with its record count and size."""
    from sigtool.loader import warmup_io

    _check_options(request)
    info = loader.load(request.model, version=request.model_version, graph=request.sample)
    for message in info.notes:
        say(f"Note: {message}")
    unparsable = loader.invalid_utf8_error(info)
    if unparsable:
        raise unparsable
    if info.legacy:
        raise LoadError(
            f"{info.source} is a legacy SessionBundle export: current TF Serving refuses it, and "
            "with it any warmup file; re-export it as a SavedModel"
        )
    target = _target(info, request)
    mg = info.pick_meta_graph(parse_tag_set(request.tag_set))
    records = [_record(mg, text, where, request) for text, where in _bodies(mg, request)]
    if not records:
        raise UsageError("no requests given; pass --input-json BODY, --requests FILE.jsonl or --sample")
    if len(records) > MAX_RECORDS:
        raise UsageError(
            f"{len(records)} requests given; TF Serving fails the model load past {MAX_RECORDS} "
            "warmup records, so give at most 1000"
        )
    size = warmup_io.write_file(target, records)
    plural = "s" if len(records) != 1 else ""
    return WarmupResult(f"{target}: {len(records)} record{plural} ({size} bytes)\n")


def _check_options(request: WarmupWriteRequest) -> None:
    if (request.output is None) == (not request.in_place):
        raise UsageError("give exactly one of -o FILE and --in-place")
    if (request.batches or request.seed) and not request.sample:
        raise UsageError("--batch and --seed go with --sample")
    if any(b < 1 for b in request.batches):
        raise UsageError(f"--batch must be at least 1, not {min(request.batches)}")
    stdin_users = list(request.input_json).count("-") + (request.requests_file == "-")
    if stdin_users > 1:
        raise UsageError("only one of --input-json and --requests can read stdin (-)")


def _target(info: SavedModelInfo, request: WarmupWriteRequest) -> str:
    if request.in_place:
        if loader.is_url(info.source):
            raise UsageError(
                f"--in-place writes into a local model; {request.model} is remote: write with -o FILE, then "
                f"upload it as {WARMUP_PATH} of the version directory"
            )
        target = os.path.join(os.path.dirname(info.source) or ".", WARMUP_PATH)
    else:
        assert request.output is not None  # _validate: exactly one of -o FILE and --in-place
        target = request.output
        if os.path.isdir(target):
            raise UsageError(
                f"-o {target} is a directory; give the file to write, e.g. {os.path.join(target, WARMUP_PATH)}"
            )
    if os.path.lexists(target) and not request.overwrite:
        raise UsageError(f"{target} exists; pass --overwrite to replace it")
    return target


def _bodies(mg: MetaGraph, request: WarmupWriteRequest):
    """(body text, where it came from) for every request, in the order given: --input-json, --requests, --sample."""
    for i, value in enumerate(request.input_json, 1):
        yield read_body(value), f"--input-json #{i}"
    if request.requests_file is not None:
        name = request.requests_file
        for number, line in enumerate(_read_requests(name).splitlines(), 1):
            if line.strip():
                yield line, f"--requests {name} line {number}"
    if request.sample:
        from sigtool import sample

        sig = mg.signature(request.signature or DEFAULT_SIGNATURE)
        for batch in request.batches or (1,):
            body = sample.sample_request(mg, sig, batch=batch, seed=request.seed)
            yield json.dumps(body), f"--sample --batch {batch}"


def _read_requests(name: str) -> str:
    text = read_text(name, "--requests")
    if len(text) > MAX_BODY_BYTES:
        raise UsageError(f"--requests {name}: larger than 64 MiB; split it")
    return text


def _record(mg: MetaGraph, text: str, where: str, request: WarmupWriteRequest) -> bytes:
    """One REST body -> a serialized PredictionLog, or a UsageError naming where the body came from."""
    from sigtool import emulate
    from sigtool.loader import warmup_io
    from sigtool.serving.examples import encode_example
    from sigtool.serving.requests import PredictRequest, parse_request

    try:
        chosen = mg.signature(request.signature) if request.signature else {s.key: s for s in mg.signatures}
        body = parse_request(text, chosen, method=request.method, check_shapes=request.strict_shapes)
        sig = mg.signature(request.signature or body.signature_name or DEFAULT_SIGNATURE)
        if isinstance(body, PredictRequest):
            return warmup_io.predict_record(request.model_name, sig.key, body.inputs)
        method = request.method if request.method in ("classify", "regress") else emulate.examples_api(sig)
        emulate.check_examples_api(sig, method)
    except SigtoolError as e:
        raise UsageError(f"{where}: {e.format_message()}") from None
    context = encode_example(body.context) if body.context is not None else None
    examples = [encode_example(e) for e in body.examples]
    return warmup_io.examples_record(method, request.model_name, sig.key, examples, context)


# --- show ----------------------------------------------------------------------------------


def show(request: WarmupShowRequest) -> WarmupResult:
    """List the records of a warmup file: table or JSON; a bad record ends the list with an error (exit 3)."""
    from sigtool.loader import warmup_io

    path = _warmup_file(request.path)
    try:
        listing = warmup_io.read_listing(path)
    except OSError as e:
        raise LoadError(f"{path}: cannot read the file ({e.strerror or e})") from None
    error = None
    if listing.error:
        error = LoadError(
            f"{path}: {listing.error}; TF Serving fails the model load on it "
            "(a warmup file is a TFRecord of PredictionLog records)"
        )
    output = _json(listing) if request.fmt == "json" else _table(listing)
    if listing.more_than_limit and error is None:
        error = LoadError(
            f"{path}: more than {MAX_RECORDS} records (the first {MAX_RECORDS + 1} are listed); "
            "TF Serving fails the model load after the 1001st"
        )
    return WarmupResult(output, int(error.exit_code) if error else int(ExitCode.OK), error)


def _warmup_file(path: str) -> str:
    """A warmup file as given, or the one inside a model directory or base path."""
    if not os.path.isdir(path):
        if not os.path.lexists(path):
            raise LoadError(f"{path}: no such file or directory")
        return path
    located = loader.locate(path)
    inside = os.path.join(os.path.dirname(located.display) or ".", WARMUP_PATH)
    if not os.path.isfile(inside):
        raise LoadError(f"{path} has no warmup file ({inside} is missing); write one with sigtool warmup write")
    return inside


def _json(listing) -> str:
    doc = {"schema": SHOW_SCHEMA, **dataclasses.asdict(listing)}
    doc["error"] = doc["error"] or None
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _table(listing):
    from sigtool.render.tables import Grid, Layout, Span

    out = Layout()
    count = len(listing.records)
    out.line(Span(listing.path, "bold"), f"  {count} record{'s' if count != 1 else ''}")
    if not listing.records:
        return out
    grid = Grid(("#", "method", "signature", "batch", "inputs"))
    for entry in listing.records:
        if entry.inputs:
            inputs = "; ".join(f"{t.key} {t.dtype} {format_shape(t.shape)}" for t in entry.inputs)
        elif entry.method in ("classify", "regress"):
            inputs = "examples with context" if entry.context else "examples"
        else:
            inputs = "-"
        batch = "-" if entry.batch_size is None else str(entry.batch_size)
        signature = entry.signature_name or f"({DEFAULT_SIGNATURE})"
        grid.add(str(entry.number), entry.method or "(none)", signature, batch, inputs)
    out.grid(grid, indent=2)
    return out
