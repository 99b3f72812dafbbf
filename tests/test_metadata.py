"""Serving's metadata body (sigtool.serving.metadata): TF Serving's own goldens, its byte layout, and TF's protos.

Goldens: testdata/metadata/ (TF Serving's test data, see PROVENANCE.md), for the models in testdata/real/.
Layout (Serving's http_rest_api_util.cc): model_spec and the SignatureDefMap printed by protobuf's JSON writer
(one space of indent) and glued with literal text. The oracle for every other model: TensorFlow's own
SignatureDef messages printed by protobuf's json_format with Serving's options, equal after parsing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import REAL, REPO, TESTDATA

from sigtool import loader
from sigtool.errors import UsageError
from sigtool.loader import signature_defs
from sigtool.serving.metadata import metadata_body, served_version

GOLDEN = TESTDATA / "metadata"
TWO_VERSIONS = "saved_model_half_plus_two_2_versions"


def _golden(name: str) -> dict:
    return json.loads((GOLDEN / name).read_text())


def _glued(doc: dict) -> str:
    """The golden's content in Serving's literal glue, signatures sorted by key."""
    sigs = doc["metadata"]["signature_def"]["signature_def"]
    spec = json.dumps(doc["model_spec"], indent=1) + "\n"
    sig_map = json.dumps({"signature_def": {k: sigs[k] for k in sorted(sigs)}}, indent=1) + "\n"
    return '{\n"model_spec":' + spec + ',\n"metadata": {"signature_def": ' + sig_map + "}\n}\n"


@pytest.mark.parametrize("path", [REAL / TWO_VERSIONS / "00000123", REAL / TWO_VERSIONS])
def test_two_versions_equals_servings_golden(path):
    info = loader.load(str(path), version="123" if path.name == TWO_VERSIONS else None)
    body = metadata_body(info, TWO_VERSIONS)
    golden = _golden("saved_model_half_plus_two_2_versions_metadata.json")
    assert json.loads(body) == golden
    assert body == _glued(golden)  # byte for byte: Serving's glue, its key order, one-space indent


def test_cpu_model_default_name_equals_servings_golden():
    body = metadata_body(loader.load(str(REAL / "saved_model_half_plus_two_cpu")))
    doc = json.loads(body)
    # The stored golden predates protobuf printing empty maps: "defaults": {} is absent there (same message).
    assert all(s.pop("defaults") == {} for s in doc["metadata"]["signature_def"]["signature_def"].values())
    golden = _golden("half_plus_two_model_metadata.json")
    assert doc == golden
    assert doc["model_spec"] == {"name": "default", "signature_name": "", "version": "123"}


def test_layout_starts_as_serving_glues_it():
    body = metadata_body(loader.load(str(REAL / "saved_model_half_plus_two_cpu")), "my_model")
    assert body.startswith(
        '{\n"model_spec":{\n "name": "my_model",\n "signature_name": "",\n "version": "123"\n}\n,\n'
        '"metadata": {"signature_def": {\n "signature_def": {\n  "classify_x_to_y": {\n   "inputs": {\n'
    )
    assert body.endswith("\n  }\n }\n}\n}\n}\n")


def test_tf2_defaults_and_init_op():
    """TF2: __saved_model_init_op is included, serving_default's defaults are TensorProtos with every field."""
    doc = json.loads(metadata_body(loader.load(str(REAL / "saved_model_half_plus_two_tf2_cpu"))))
    sigs = doc["metadata"]["signature_def"]["signature_def"]
    assert sigs["__saved_model_init_op"] == {
        "inputs": {},
        "method_name": "",
        "defaults": {},
        "outputs": {
            "__saved_model_init_op": {
                "dtype": "DT_INVALID",
                "tensor_shape": {"dim": [], "unknown_rank": True},
                "name": "NoOp",
            }
        },
    }
    x = sigs["serving_default"]["defaults"]["x"]
    assert x["dtype"] == "DT_FLOAT" and x["float_val"] == [0] and x["version_number"] == 0
    assert x["tensor_shape"] == {"dim": [{"size": "1", "name": ""}], "unknown_rank": False}
    assert x["tensor_content"] == "" and x["int64_val"] == [] and x["half_val"] == []
    assert list(x)[:5] == ["dtype", "tensor_shape", "version_number", "tensor_content", "half_val"]  # declaration order


def test_version_and_served_meta_graph_errors(tmp_path):
    info = loader.load(str(TESTDATA / "tf" / "tf2_dtypes"))
    with pytest.raises(UsageError, match="numbered version directory"):
        metadata_body(info)
    assert served_version(loader.load(str(REAL / TWO_VERSIONS))) == 124
    legacy = loader.load(str(REAL / "session_bundle_half_plus_two"))
    with pytest.raises(UsageError, match="legacy SessionBundle"):
        metadata_body(legacy)


def test_no_tensorflow_imported():
    code = (
        "import sys; from sigtool import loader; from sigtool.serving.metadata import metadata_body; "
        f"metadata_body(loader.load({str(REAL / 'saved_model_half_plus_two_tf2_cpu')!r})); "
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# --- every model against TensorFlow's own protos --------------------------------------------------

MODELS = sorted(
    [p for p in REAL.glob("*/*") if (p / "saved_model.pb").is_file()]
    + [p for p in (TESTDATA / "tf").iterdir() if (p / "saved_model.pb").is_file()]
)


@pytest.mark.tf
@pytest.mark.parametrize("path", MODELS, ids=[p.relative_to(TESTDATA).as_posix() for p in MODELS])
def test_signature_map_equals_tensorflows(path):
    pytest.importorskip("tensorflow")
    from google.protobuf import json_format
    from tensorflow.core.protobuf import saved_model_pb2

    model = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
    info = loader.load(str(path))
    for index, mg in enumerate(model.meta_graphs):
        expected = {
            key: json_format.MessageToDict(
                sig, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
            )
            for key, sig in mg.signature_def.items()
        }
        ours = json.loads(signature_defs.signature_def_map_json(info, index))
        assert ours == {"signature_def": expected}


def test_several_meta_graphs_only_the_served_one(tmp_path):
    """Serving loads the MetaGraph tagged exactly serve: its signatures only, whatever show narrowed info to."""
    model = tmp_path / "multi"
    shutil.copytree(TESTDATA / "tf" / "tf1_multi_metagraph", model / "7")
    info = loader.load(str(model))
    body = metadata_body(info, "multi")
    doc = json.loads(body)
    assert doc["model_spec"]["version"] == "7"
    assert sorted(doc["metadata"]["signature_def"]["signature_def"]) == ["plus_three", "serving_default"]
    assert metadata_body(info.select(("serve",)), "multi") == body
    with pytest.raises(UsageError, match="tagged exactly 'serve'"):
        metadata_body(info.select(("serve", "gpu")))
