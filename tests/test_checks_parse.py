"""FMT005 (sigtool/checks/parse.py): string fields that are not UTF-8, which TensorFlow refuses to parse.

The rule reads SavedModelInfo.invalid_utf8, which the loader fills (tests/test_loader_messages.py runs
it on a model per kind of string field); here, the rule itself on plain data.
"""

from __future__ import annotations

import json

from sigtool.checks import RULES, CheckOptions, Severity, run_checks
from sigtool.model import MetaGraph, SavedModelInfo


def info(*paths: str) -> SavedModelInfo:
    mg = MetaGraph(tags=("serve",), signatures=())
    return SavedModelInfo(
        path="m",
        source="m/saved_model.pb",
        format="saved_model_pb",
        schema_version=1,
        meta_graphs=(mg,),
        invalid_utf8=paths,
    )


def fmt005(model: SavedModelInfo):
    return run_checks(model, CheckOptions(), select={"FMT005"})


def test_one_error_per_field_naming_it():
    paths = ("meta_graphs[0].meta_info_def.tags[0]", "meta_graphs[0].graph_def.node[3].name")
    found = fmt005(info(*paths))
    assert RULES["FMT005"].severity is Severity.ERROR
    assert [f.severity for f in found] == [Severity.ERROR, Severity.ERROR]
    assert {f.where for f in found} == {"m/saved_model.pb"}
    assert sorted(f.message for f in found) == sorted(
        f"TensorFlow will not parse this file: string field {p} is not valid UTF-8" for p in paths
    )


def test_silent_when_every_string_is_utf8():
    assert fmt005(info()) == []


def test_a_tag_that_is_not_utf8_is_fmt005_alone_not_a_missing_serve_tag_set():
    from conftest import TESTDATA, invoke

    result = invoke("check", "-f", "json", str(TESTDATA / "wild" / "loader" / "utf8" / "tag"))
    rules = sorted({f["rule"] for m in json.loads(result.stdout)["models"] for f in m["findings"]})
    assert "FMT005" in rules and "SERVE001" not in rules
