"""Parse rules: what makes TensorFlow refuse the whole file before any other rule matters."""

from __future__ import annotations

from sigtool.checks.registry import Severity, rule


@rule("FMT005", Severity.ERROR)
def invalid_utf8(ctx):
    """Every proto3 string field (tags, keys, names) is valid UTF-8, as protobuf requires.

    Protobuf refuses a string field that is not UTF-8 ("String field had bad
    UTF-8"), so TensorFlow, TF Serving and saved_model_cli cannot parse the file
    at all. sigtool reads on and shows the bad bytes as replacement characters,
    so findings about the garbled name (an unknown tag-set, a missing key) follow
    from this one; fix the exporter and re-export.
    """
    for path in ctx.info.invalid_utf8:
        yield ctx.info.source, f"TensorFlow will not parse this file: string field {path} is not valid UTF-8"
