"""sigtool diff: what a new model version changes for Serving's clients, classified, with an exit code for CI.

OLD and NEW are anything `show` reads, or a saved GetModelMetadata response (JSON); one MODEL_BASE_PATH
compares its two highest versions (the one Serving would switch to against the one before it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sigtool import loader
from sigtool.commands import Say, parse_tag_set, silent
from sigtool.diff import changes as diff_changes
from sigtool.diff import engine, metadata_json
from sigtool.errors import ExitCode, UsageError
from sigtool.model import SavedModelInfo
from sigtool.render.diff import FORMATS, DiffReport, Side


@dataclass(frozen=True)
class DiffRequest:
    old: str  # a model, a metadata response, or (new None) a model base path
    new: str | None = None
    old_version: str | None = None  # version directories under a base path
    new_version: str | None = None
    tag_set: str | None = None  # "serve,gpu" as typed; default: the MetaGraph Serving loads
    strict: bool = False  # warnings fail too
    fmt: str = "table"  # a key of sigtool.render.diff.FORMATS


@dataclass(frozen=True)
class DiffResult:
    output: object  # str, or a tables.Layout for the table format
    summary: str  # the one-line summary for stderr, e.g. "2 breaking, 1 warning, 0 info: FAILED"
    exit_code: int  # 0, or 1 on a breaking change (a warning too, with strict)
    report: DiffReport


def diff_models(request: DiffRequest, say: Say = silent) -> DiffResult:
    if request.fmt not in FORMATS:
        raise UsageError(f"unknown format {request.fmt!r}; valid formats: {', '.join(sorted(FORMATS))}")
    tags = parse_tag_set(request.tag_set)
    old_path, new_path, old_version, new_version = _paths(request, say)
    old_meta, new_meta = (metadata_json.looks_like_metadata(p) for p in (old_path, new_path))
    for path, version, meta in ((old_path, old_version, old_meta), (new_path, new_version, new_meta)):
        if meta and version is not None:
            raise UsageError(f"{path} is a metadata response: --old-version/--new-version need a model base path")

    old = None if old_meta else _load(old_path, old_version, graph=False)
    served_tags = tags or (engine.pick_meta_graph(old, None).tag_set if old is not None else None)
    if old is None:
        old = metadata_json.read(old_path, served_tags)
    new = metadata_json.read(new_path, served_tags) if new_meta else _load(new_path, new_version, graph=False)
    for info in (old, new):
        for message in info.notes:
            say(f"Note: {message}")

    strings = engine.string_inputs(old, tags)
    if strings and (old_meta or new_meta):
        say("Note: tf.Example features were not compared: a metadata response has no graph to read them from")
    elif strings:  # the parse ops' feature specs live in the graph: read it only when it is needed
        old, new = _load(old_path, old_version, graph=True), _load(new_path, new_version, graph=True)

    variables = None
    if not (old_meta or new_meta):
        variables = (_variables_bytes(old), _variables_bytes(new))
    changes = engine.compare(old, new, tags, variables=variables)
    report = DiffReport(
        _side(old),
        _side(new),
        engine.pick_meta_graph(old, tags).tag_set,
        engine.compared_signatures(old, new, tags),
        tuple(changes),
    )
    failed = diff_changes.failed(changes, strict=request.strict)
    return DiffResult(
        output=FORMATS[request.fmt](report, request.strict),
        summary=diff_changes.summary_line(changes, request.strict),
        exit_code=int(ExitCode.CHECK_FAILED if failed else ExitCode.OK),
        report=report,
    )


def _paths(request: DiffRequest, say: Say) -> tuple[str, str, str | None, str | None]:
    if request.new is not None:
        return request.old, request.new, request.old_version, request.new_version
    versions = loader.model_versions(request.old)
    if len(versions) < 2:
        found = f"it has one version ({versions[0]})" if versions else "it is not a model base path"
        raise UsageError(
            f"diff with one argument compares the two highest versions of a model base path, but "
            f"{found}; give OLD and NEW"
        )
    by_number = {int(v): v for v in versions}
    new_version = request.new_version if request.new_version is not None else versions[-1]
    if request.old_version is not None:
        old_version = request.old_version
    else:
        below = [n for n in sorted(by_number) if n < int(new_version)] if _numeric(new_version) else []
        if not below:
            raise UsageError(f"no version below {new_version} under {request.old}; versions: {', '.join(versions)}")
        old_version = by_number[below[-1]]
    newest = " (the newest, which Serving would switch to)" if new_version == versions[-1] else ""
    say(f"Note: comparing version {old_version} with version {new_version}{newest} of {request.old}")
    if not all(v in versions for v in (old_version, new_version)):  # as typed: the loader says which exist
        return request.old, request.old, old_version, new_version
    return os.path.join(request.old, old_version), os.path.join(request.old, new_version), None, None


def _numeric(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def _load(path: str, version: str | None, *, graph: bool) -> SavedModelInfo:
    info = loader.load(path, version=version, ops=True, graph=graph)
    error = loader.invalid_utf8_error(info)
    if error is not None:
        raise error
    return info


def _side(info: SavedModelInfo) -> Side:
    return Side(info.path, info.source, info.format, info.version)


def _variables_bytes(info: SavedModelInfo) -> int | None:
    """Bytes under the model's variables/ directory; None when it has none (or is not a directory model)."""
    if info.format == "session_bundle":
        return None
    directory = os.path.join(os.path.dirname(info.source) or ".", "variables")
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return None
    return sum(e.stat().st_size for e in entries if e.is_file())
