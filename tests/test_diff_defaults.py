"""SignatureDef defaults (TF2 functions with default arguments): read by the loader, shown in JSON, and what
decides whether a new input breaks old requests in diff (DIFF210 vs DIFF006)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REAL, TESTDATA, invoke

from sigtool._proto import saved_model_pb2

OLD = TESTDATA / "diff" / "identical" / "old"


def _with_new_input(tmp_path: Path, default: bool) -> Path:
    """OLD's serving_default plus an input 'extra' (fed to x:0), with or without a default value for it."""
    model = saved_model_pb2.SavedModel.FromString((OLD / "saved_model.pb").read_bytes())
    [mg] = model.meta_graphs
    sig = mg.signature_def["serving_default"]
    sig.inputs["extra"].CopyFrom(next(iter(sig.inputs.values())))
    if default:
        sig.defaults["extra"].dtype = sig.inputs["extra"].dtype
        sig.defaults["extra"].float_val.append(0.0)
    out = tmp_path / ("with_default" if default else "without_default")
    out.mkdir()
    (out / "saved_model.pb").write_bytes(model.SerializeToString())
    return out


def _changes(result) -> list[tuple[str, str, str]]:
    return [(c["code"], c["severity"], c["where"]) for c in json.loads(result.stdout)["changes"]]


def test_a_new_input_with_a_default_keeps_old_requests_working(tmp_path):
    result = invoke("diff", str(OLD), str(_with_new_input(tmp_path, default=True)), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert ("DIFF210", "info", "serve/serving_default/inputs/extra") in _changes(result)


def test_a_new_input_without_a_default_breaks_them(tmp_path):
    result = invoke("diff", str(OLD), str(_with_new_input(tmp_path, default=False)), "-f", "json")
    assert result.exit_code == 1
    assert ("DIFF006", "breaking", "serve/serving_default/inputs/extra") in _changes(result)


def test_show_json_lists_the_inputs_with_defaults(tmp_path):
    shown = json.loads(invoke("show", str(_with_new_input(tmp_path, default=True)), "-f", "json").stdout)
    [sig] = [s for s in shown["meta_graphs"][0]["signatures"] if s["key"] == "serving_default"]
    assert sig["defaults"] == ["extra"]
    plain = json.loads(invoke("show", str(OLD), "-f", "json").stdout)
    assert all("defaults" not in s for s in plain["meta_graphs"][0]["signatures"])


def test_defaults_from_a_tf2_model_match_the_metadata_response():
    """TF Serving's TF2 half_plus_two has defaults; the metadata body sigtool prints, read back by diff, agrees."""
    model = REAL / "saved_model_half_plus_two_tf2_cpu" / "00000123"
    shown = json.loads(invoke("show", str(model), "-f", "json").stdout)
    with_defaults = {s["key"]: s["defaults"] for s in shown["meta_graphs"][0]["signatures"] if "defaults" in s}
    assert with_defaults, "the TF2 model has signature defaults"
    body = invoke("show", str(model), "-f", "metadata").stdout
    metadata = json.loads(body)["metadata"]["signature_def"]["signature_def"]
    assert {k: sorted(v.get("defaults", {})) for k, v in metadata.items() if v.get("defaults")} == with_defaults
