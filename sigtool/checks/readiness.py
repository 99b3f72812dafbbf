"""Serving readiness: what TF Serving needs to load the model at all, and its warmup replay."""

from __future__ import annotations

import os
import re

from sigtool.checks.registry import Severity, rule, where
from sigtool.model import DEFAULT_SIGNATURE, SERVE_TAG, format_tags

# Ops that create variables; a graph holding one needs a checkpoint in variables/.
_VARIABLE_OPS = {"VariableV2", "Variable", "VarHandleOp", "AutoReloadVariable", "_VarHandlesOp"}
_SHARD = re.compile(r"variables\.data-(\d+)-of-(\d+)$")


@rule("SERVE001", Severity.ERROR)
def serve_tag_set_present(ctx):
    """A MetaGraph is tagged exactly "serve", the tag-set Serving loads by default.

    Serving matches tag-sets exactly (--saved_model_tags=serve): a MetaGraph
    tagged {serve, gpu} is not found unless the server is started with those
    tags.
    """
    if ctx.info.legacy or ctx.info.served_meta_graph is not None:
        return
    if any(".meta_info_def.tags[" in path for path in ctx.info.invalid_utf8):
        return  # a tag that is not UTF-8: FMT005 says why TF refuses the whole file; the tag-set is not the problem
    tag_sets = sorted({",".join(mg.tag_set) for mg in ctx.info.meta_graphs})
    hint = f"; start Serving with --saved_model_tags={tag_sets[0]}" if len(tag_sets) == 1 else ""
    yield "", f"no MetaGraph is tagged exactly 'serve' (tag-sets: {'; '.join(tag_sets) or 'none'}){hint}"


@rule("SERVE002", Severity.WARNING)
def serving_default_present(ctx):
    """The serve MetaGraph has a "serving_default" signature.

    Requests without a signature name use serving_default, and Serving has no
    fallback to "the only signature": clients must then always name one.
    """
    mg = ctx.info.served_meta_graph
    if mg is None or any(s.key == DEFAULT_SIGNATURE for s in mg.signatures):
        return
    keys = ", ".join(s.key for s in mg.signatures if not s.internal) or "none"
    yield format_tags(mg.tags), f"no serving_default signature (signatures: {keys}); requests must then name one"


@rule("SERVE003", Severity.ERROR)
def variables_complete(ctx):
    """variables/ holds the index and every data shard when the graph has variables.

    Serving restores variables from variables/variables.index and
    variables.data-NNNNN-of-MMMMM; a missing file fails the model load.
    """
    if ctx.info.legacy or ctx.info.files is None:
        return
    if not any(n.op in _VARIABLE_OPS for mg in ctx.info.meta_graphs if mg.graph for n in _all_nodes(mg.graph)):
        return
    names = ctx.info.files.variables
    if names is None:
        yield "variables/", "the graph has variables but there is no variables/ directory; copy the whole export"
        return
    if "variables.index" not in names:
        yield "variables/variables.index", "missing; the checkpoint cannot be restored without its index"
    shards = [m for m in map(_SHARD.match, names) if m]
    if not shards:
        yield "variables/", "no variables.data-*-of-* shard; the checkpoint holds no values"
        return
    total = int(shards[0].group(2))
    present = {int(m.group(1)) for m in shards}
    for i in range(total):
        if i not in present:
            yield f"variables/variables.data-{i:05d}-of-{total:05d}", "missing data shard"


def _all_nodes(graph):
    yield from graph.nodes
    for fn in graph.functions:
        yield from fn.nodes


@rule("SERVE004", Severity.ERROR)
def assets_present(ctx):
    """Every asset the MetaGraph names (asset_file_def) exists under assets/.

    TF feeds each asset's path into the graph at load time (vocabularies,
    lookup tables). A missing file fails the load; a path that leaves the model
    directory is reported and never opened.
    """
    if ctx.info.files is None:
        return
    available = set(ctx.info.files.assets)
    for mg in ctx.info.meta_graphs:
        for asset in mg.asset_files:
            path = os.path.normpath(asset.filename)
            if os.path.isabs(asset.filename) or path.startswith(".."):
                yield (
                    where(format_tags(mg.tags), "assets", asset.filename),
                    "asset path points outside the model directory; not opened",
                )
            elif path not in available:
                yield (
                    where(format_tags(mg.tags), "assets", asset.filename),
                    f"assets/{asset.filename} is missing (fed to {asset.tensor_name})",
                )


@rule("SERVE005", Severity.INFO)
def in_version_directory(ctx):
    """The model sits in a numbered version directory, as Serving's model base path needs.

    Serving loads MODEL_BASE_PATH/<version>/ and silently skips children whose
    names are not numbers.
    """
    if ctx.info.version is not None:
        return
    directory = os.path.basename(os.path.dirname(os.path.normpath(ctx.info.source)))
    if not re.fullmatch(r"\s*[+-]?\d+\s*", directory):
        yield (
            "",
            (
                "the model is not in a numbered version directory; Serving needs BASE/<version>/ "
                "(e.g. move it to BASE/1/ and serve --model_base_path=BASE)"
            ),
        )


@rule("SERVE006", Severity.ERROR)
def warmup_requests_valid(ctx):
    """assets.extra/tf_serving_warmup_requests is well formed and its requests fit the model.

    Serving replays these requests while loading; a malformed file, more than
    1000 records, an unsupported log type, or a request naming a missing
    signature or input fails the model load.
    """
    warmup = ctx.info.files.warmup if ctx.info.files else None
    if warmup is None:
        return
    if warmup.error:
        yield warmup.path, f"{warmup.error}; Serving fails the load (it must be a TFRecord of PredictionLog)"
    if warmup.more_than_limit:
        yield warmup.path, "more than 1000 records; Serving fails the load after the 1001st"
    mg = ctx.info.served_meta_graph or (ctx.info.meta_graphs[0] if ctx.info.meta_graphs else None)
    if mg is None:
        return
    signatures = {s.key: s for s in mg.signatures}
    for record in warmup.records:
        place = f"{warmup.path}#{record.index + 1}"
        if record.log_type in ("session_run_log", "predict_streamed_log"):
            yield place, f"log type {record.log_type} is not supported for warmup by Serving's classic runtime"
            continue
        if not record.log_type:
            continue
        name = record.signature_name or DEFAULT_SIGNATURE
        sig = signatures.get(name)
        if sig is None:
            yield place, f"requests signature {name!r}, which the model does not have"
            continue
        if record.log_type == "predict_log":
            expected = {t.key for t in sig.inputs}
            unknown = sorted(set(record.input_keys) - expected)
            missing = sorted(expected - set(record.input_keys))
            if unknown or missing:
                yield place, f"inputs do not match {name}: unknown {unknown}, missing {missing}"


@rule("SERVE007", Severity.ERROR)
def not_legacy_bundle(ctx):
    """The model is a SavedModel, not a legacy SessionBundle export.

    Current Serving answers "Session Bundle is deprecated and removed." for a
    directory holding export.meta, before it even looks for saved_model.pb.
    """
    if ctx.info.legacy:
        yield (
            ctx.info.source,
            (
                "legacy SessionBundle export: current Serving refuses it; load it with TF 1.x and re-export with "
                "tf.compat.v1.saved_model.Builder (or convert with TF <= 1.15's bundle shim), then drop export.meta"
            ),
        )


@rule("SERVE008", Severity.INFO)
def one_meta_graph_served(ctx):
    """With several MetaGraphs, Serving loads only the one whose tags match --saved_model_tags.

    The others (e.g. {serve, gpu} or {train}) are never served unless the
    server is started with their exact tag-set; their signatures are not reachable.
    """
    if len(ctx.info.meta_graphs) < 2:
        return
    seen = {(SERVE_TAG,)}  # the served tag-set; a later copy of any tag-set is SERVE009's
    for mg in ctx.info.meta_graphs:
        if mg.tag_set not in seen:
            seen.add(mg.tag_set)
            yield (
                format_tags(mg.tags),
                (
                    f"not served by default (Serving loads tags 'serve'); start it with "
                    f"--saved_model_tags={','.join(mg.tag_set)} to serve this MetaGraph instead"
                ),
            )


@rule("SERVE009", Severity.WARNING)
def tag_sets_unique(ctx):
    """No two MetaGraphs have the same tag-set (compared as sets).

    TensorFlow's loader and Serving take the first MetaGraph whose tags match
    and never look further: a second one with the same tag-set is dead, and
    its signatures are unreachable (saved_model_cli shows both, which makes
    the dead one look servable). Re-export with one MetaGraph per tag-set.
    """
    first: dict[tuple[str, ...], int] = {}
    count = len(ctx.info.meta_graphs)
    for i, mg in enumerate(ctx.info.meta_graphs):
        if mg.tag_set not in first:
            first[mg.tag_set] = i
            continue
        j = first[mg.tag_set]
        keys = ", ".join(s.key for s in mg.signatures if not s.internal) or "none"
        yield (
            f"{format_tags(mg.tags)} (MetaGraph {i + 1} of {count})",
            (
                f"same tag-set as MetaGraph {j + 1}, which TensorFlow and Serving load instead: this one is never "
                f"loaded and its signatures ({keys}) are unreachable; drop it or give it its own tags"
            ),
        )
