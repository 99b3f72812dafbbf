"""Everything sigtool prints, in one package; here, the formats of show and check.

Each format is one function behind one interface: FORMATS (show: info, view -> output) and
CHECK_FORMATS (check: reports, strict -> output). Output is a string, or a tables.Layout that the
CLI prints as plain text, or through rich on a terminal. The other modules:

    tables   the table format for people (Layout: plain data; rich only on a terminal)
    smcli    saved_model_cli's show text, byte for byte
    pyrepr   Python's repr()/str() of the values TensorFlow rebuilds (function signatures)
    ci       GitHub workflow commands and JUnit XML, for check and diff
    diff     diff's table, JSON, github and junit output
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from sigtool.model import SavedModelInfo
from sigtool.render import ci, smcli, tables

JSON_SCHEMA = "sigtool.show/1"


@dataclass(frozen=True)
class ShowView:
    """What the user asked to see; the formats that mirror saved_model_cli need it."""

    tag_set: bool = False  # --tag-set was given
    signature: bool = False  # --signature was given
    all: bool = False  # --all
    model_name: str = "default"  # -f metadata: the name Serving was started with (--model_name)


# --- JSON ------------------------------------------------------------------------------


def show_json(info: SavedModelInfo, view: ShowView) -> str:
    """The documented JSON schema (README): the dataclasses as they are, keys sorted."""
    plain = {"schema": JSON_SCHEMA, **dataclasses.asdict(dataclasses.replace(info, files=None))}
    del plain["notes"]  # diagnostics go to stderr, never into data
    del plain["files"]  # what check reads beside the model is not part of show
    if not plain["invalid_utf8"]:
        del plain["invalid_utf8"]  # present only when TF would refuse the file
    for mg in plain["meta_graphs"]:
        del mg["graph"]
        for sig in mg["signatures"]:
            if not sig["defaults"]:
                del sig["defaults"]  # present only when some input has a default
        for fn in mg["functions"] or ():
            for cf in fn["concrete_functions"]:
                del cf["load_order"]  # for -f smcli only
    return json.dumps(_finite(plain), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def _finite(value):
    """Strict JSON: a NaN or infinite float (a function's default value) becomes "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


# --- saved_model_cli text ------------------------------------------------------------------


def show_smcli(info: SavedModelInfo, view: ShowView) -> str:
    if view.all:
        return smcli.show_all(info)
    if not view.tag_set:
        return smcli.tag_sets(info)
    mg = info.meta_graphs[0]
    if view.signature:
        return smcli.signature(mg.signatures[0])
    return smcli.signature_keys(mg)


def show_metadata(info: SavedModelInfo, view: ShowView) -> str:
    """Serving's GET /v1/models/NAME/metadata body for the MetaGraph it loads."""
    from sigtool.serving.metadata import metadata_body

    return metadata_body(info, view.model_name)


FORMATS: dict[str, Callable[[SavedModelInfo, ShowView], object]] = {
    "table": tables.show_table,
    "json": show_json,
    "smcli": show_smcli,
    "metadata": show_metadata,
}


# --- check ----------------------------------------------------------------------------------

JSON_CHECK_SCHEMA = "sigtool.check/1"


def findings_json(reports, strict: bool) -> str:
    plain = {"schema": JSON_CHECK_SCHEMA, "strict": strict, "models": [dataclasses.asdict(r) for r in reports]}
    return json.dumps(plain, indent=2, sort_keys=True, ensure_ascii=False, default=lambda o: o.value) + "\n"


def summary_line(reports, strict: bool) -> str:
    """One line for stderr, e.g. '2 errors, 1 warning, 3 notes: FAILED'."""

    def count(severity: str, word: str) -> str:
        n = sum(f.severity.value == severity for r in reports for f in r.findings)
        return f"{n} {word}{'s' * (n != 1)}"

    words = [count("error", "error"), count("warning", "warning"), count("info", "note")]
    verdict = "FAILED" if any(r.failed for r in reports) else "PASSED"
    models = f" in {len(reports)} models" if len(reports) > 1 else ""
    return ", ".join(words) + models + f": {verdict}" + (" (--strict: warnings fail)" if strict else "")


CHECK_FORMATS: dict[str, Callable[[list, bool], object]] = {
    "table": tables.findings_table,
    "json": findings_json,
    "github": ci.check_github,
    "junit": ci.check_junit,
}
