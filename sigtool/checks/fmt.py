"""Format notes: facts about how the model was written, worth knowing before serving it."""

from __future__ import annotations

from sigtool.checks.registry import Severity, rule
from sigtool.model import format_tags


@rule("FMT001", Severity.INFO)
def writer_version(ctx):
    """Which TensorFlow version wrote each MetaGraph.

    Serving must be at least as new as the TF that wrote the model for every
    op it uses.
    """
    for mg in ctx.info.meta_graphs:
        version = mg.tensorflow_version or "not recorded"
        yield (
            format_tags(mg.tags),
            f"written by TensorFlow {version}" + (" (legacy SessionBundle)" if ctx.info.legacy else ""),
        )


@rule("FMT002", Severity.INFO)
def stripped_default_attrs(ctx):
    """Default-valued attributes were stripped from the graph.

    This is what lets an older TF load the graph: an attribute that a newer
    TF added to an op is left out while it keeps its default, so a TF (or
    Serving) that predates the attribute does not reject the node. Ops that
    are newer than the loading TF still fail (OPS001 names them).
    """
    for mg in ctx.info.meta_graphs:
        if mg.stripped_default_attrs:
            writer = f"TensorFlow {mg.tensorflow_version}" if mg.tensorflow_version else "the TensorFlow that wrote it"
            yield (
                format_tags(mg.tags),
                (
                    f"default attrs stripped: TensorFlow or Serving older than {writer} can load its nodes, "
                    f"as long as it registers every op"
                ),
            )


@rule("FMT003", Severity.WARNING)
def schema_version_one(ctx):
    """saved_model_schema_version is 1, the only version TensorFlow writes.

    Another value means the file was written by something else or edited.
    """
    if not ctx.info.legacy and ctx.info.schema_version != 1:
        yield ctx.info.source, f"saved_model_schema_version is {ctx.info.schema_version}, not 1"


@rule("FMT004", Severity.INFO)
def binary_format(ctx):
    """The model is binary saved_model.pb rather than text saved_model.pbtxt.

    Serving and TF read .pbtxt too, but it is larger and slower to parse, and
    binary is what tf.saved_model.save writes.
    """
    if ctx.info.format == "saved_model_pbtxt":
        yield ctx.info.source, "text format (saved_model.pbtxt): larger and slower to load than saved_model.pb"
