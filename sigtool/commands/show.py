"""sigtool show: load only what is displayed, narrow to the asked tag-set/signature, render."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sigtool import loader, render
from sigtool.commands import Say, parse_tag_set, silent
from sigtool.errors import SigtoolError, UsageError
from sigtool.model import SavedModelInfo


@dataclass(frozen=True)
class ShowRequest:
    model: str
    tag_set: str | None = None  # comma-separated, as typed
    signature: str | None = None
    model_version: str | None = None
    show_all: bool = False
    fmt: str = "table"  # a key of render.FORMATS
    model_name: str = "default"  # -f metadata only


@dataclass(frozen=True)
class ShowResult:
    output: object  # str, or a tables.Layout for the table format
    error: SigtoolError | None = None  # shown after the output (invalid UTF-8: displayed, then exit 3)


def show(request: ShowRequest, say: Say = silent) -> ShowResult:
    info = loader.load(request.model, version=request.model_version, ops=request.show_all, functions=request.show_all)
    for message in info.notes:
        say(f"Note: {message}")
    unparsable = loader.invalid_utf8_error(info)
    if request.fmt == "metadata":  # Serving's whole response: every signature of the MetaGraph it loads
        if request.tag_set is not None or request.signature is not None or request.show_all:
            raise UsageError(
                "-f metadata is Serving's whole metadata response; --tag-set, --signature and --all do not apply"
            )
        if unparsable:
            raise unparsable
        return ShowResult(render.FORMATS["metadata"](info, render.ShowView(model_name=request.model_name)))
    tags = parse_tag_set(request.tag_set)
    try:
        info = info.select(tags, request.signature)
    except UsageError:
        if unparsable:  # the garbled string is the cause
            raise unparsable from None
        raise
    if request.fmt == "table" and not request.show_all and request.signature is None:
        info = _hide_internal(info, say)
    view = render.ShowView(
        tag_set=tags is not None or request.signature is not None,
        signature=request.signature is not None,
        all=request.show_all,
    )
    return ShowResult(render.FORMATS[request.fmt](info, view), unparsable)


def _hide_internal(info: SavedModelInfo, say: Say) -> SavedModelInfo:
    hidden = sorted({s.key for mg in info.meta_graphs for s in mg.signatures if s.internal})
    if hidden:
        plural = len(hidden) > 1
        say(
            f"Note: internal signature{'s' if plural else ''} {', '.join(hidden)} hidden; "
            f"--all shows {'them' if plural else 'it'}"
        )
    return replace(
        info,
        meta_graphs=tuple(
            replace(mg, signatures=tuple(s for s in mg.signatures if not s.internal)) for mg in info.meta_graphs
        ),
    )


@dataclass(frozen=True)
class ShowManyResult:
    output: str  # every model's output, in the order given
    errors: tuple[SigtoolError, ...]  # models that could not be shown, each one Error: line
    exit_code: int


def show_many(patterns: tuple[str, ...], request: ShowRequest, jobs: int, say: Say = silent) -> ShowManyResult:
    """Several MODELs or glob patterns (local or remote), read `jobs` at a time.

    table and smcli: each model's text under a "==> MODEL <==" line; json: one array of show documents.
    """
    import json

    from sigtool.render import tables

    if request.fmt == "metadata":
        raise UsageError("-f metadata describes one model; give one MODEL")
    models = loader.expand_models(patterns, jobs)

    def one(model: str):
        said: list[str] = []
        return show(replace(request, model=model), said.append), said

    texts, errors = [], []
    for model, done, error in loader.run_all(one, models, jobs):
        if error is not None:
            if not isinstance(error, SigtoolError):
                raise error
            errors.append(error)
            continue
        result, said = done
        for line in said:
            say(line)
        text = result.output if isinstance(result.output, str) else tables.plain_text(result.output)
        texts.append((model, text))
        if result.error:
            errors.append(result.error)
    if request.fmt == "json":
        output = json.dumps([json.loads(t) for _, t in texts], indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    else:
        output = "\n".join(f"==> {model} <==\n{text}" for model, text in texts)
    return ShowManyResult(output if texts else "", tuple(errors), int(errors[0].exit_code) if errors else 0)
