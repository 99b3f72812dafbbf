"""sigtool's own .proto schema (protos/, compiled into the descriptor set
sigtool/_proto/descriptors.binpb) is wire-compatible with TensorFlow's,
TensorFlow Serving's and the legacy SessionBundle manifest's, the committed
descriptor set is current, and the classes built from it live in a private
pool that never meets TensorFlow's.

* TensorFlow messages and enums are compared with TensorFlow's own descriptors
  (needs TensorFlow; skipped without it).
* TensorFlow Serving and manifest messages are compared with the fact tables
  below (tensorflow-serving-api is not needed).
* The SavedModels, text model and legacy export under testdata/ are parsed
  with our classes: nothing may be unknown, and TensorFlow must read our
  re-serialization as it reads the original.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, text_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet

import sigtool._proto

ROOT = Path(__file__).resolve().parents[1]
PROTO_DIR = ROOT / "protos" / "sigtool" / "_proto"
GEN_DIR = ROOT / "sigtool" / "_proto"
TESTDATA = ROOT / "testdata"

OUR_PREFIX = "sigtool.tf."
# Our files whose messages live in package tensorflow.serving upstream. Every
# other file of ours transcribes the TensorFlow file of the same base name.
SERVING_FILES = frozenset(
    {
        "classification",
        "inference",
        "input",
        "logging",
        "logging_config",
        "model",
        "predict",
        "prediction_log",
        "regression",
        "session_service",
    }
)
MANIFEST_FILES = frozenset({"manifest"})
TF_MODULE_PACKAGES = (
    "tensorflow.core.framework",
    "tensorflow.core.protobuf",
    "tensorflow.core.example",
)

# Fields declared as `bytes` where upstream has a message we do not transcribe.
# Both are length-delimited on the wire, so the bytes hold the serialized message.
BYTES_FOR_MESSAGE = {
    "sigtool.tf.SessionRunRequest.options": "tensorflow.RunOptions",
    "sigtool.tf.SessionRunResponse.metadata": "tensorflow.RunMetadata",
}

# TensorFlow messages whose every field must be declared here; the test below
# holds every TensorFlow message to that unless it is listed in PARTIAL_OK.
KEY_MESSAGES = (
    "SavedModel",
    "MetaGraphDef",
    "MetaGraphDef.MetaInfoDef",
    "CollectionDef",
    "SignatureDef",
    "TensorInfo",
    "TensorInfo.CooSparse",
    "TensorInfo.CompositeTensor",
    "TensorShapeProto",
    "TensorShapeProto.Dim",
    "SavedObjectGraph",
    "SavedObject",
    "SavedFunction",
    "SavedConcreteFunction",
    "FunctionSpec",
    "StructuredValue",
    "TypeSpecProto",
    "TensorSpecProto",
    "NodeDef",
    "GraphDef",
    "FunctionDef",
    "AttrValue",
    "TensorProto",
)
KEY_ENUMS = ("DataType", "TypeSpecProto.TypeSpecClass", "FunctionSpec.JitCompile")
PARTIAL_OK: frozenset[str] = frozenset()  # none: every message is transcribed whole


# --- our descriptors ---------------------------------------------------------


# One X_pb2 module per .proto file, built from the committed descriptor set
# (whose freshness test_descriptor_set_is_current checks).
MODULE_NAMES = sorted(f"{p.stem}_pb2" for p in PROTO_DIR.glob("*.proto"))
OUR_FILES = [getattr(sigtool._proto, name).DESCRIPTOR for name in MODULE_NAMES]


def _base(desc) -> str:
    return Path(desc.file.name).stem


def _nested(messages) -> Iterator[Descriptor]:
    for message in messages:
        if message.GetOptions().map_entry:
            continue  # covered by the map<K, V> type of the field using it
        yield message
        yield from _nested(message.nested_types)


def _messages() -> dict[str, Descriptor]:
    return {m.full_name: m for f in OUR_FILES for m in _nested(f.message_types_by_name.values())}


def _enums() -> dict[str, EnumDescriptor]:
    found = {e.full_name: e for f in OUR_FILES for e in f.enum_types_by_name.values()}
    for message in _messages().values():
        found.update((e.full_name, e) for e in message.enum_types)
    return found


MESSAGES = _messages()
ENUMS = _enums()


def _short(name: str) -> str:
    assert name.startswith(OUR_PREFIX), name
    return name[len(OUR_PREFIX) :]


def upstream_name(desc) -> str:
    """The full name TensorFlow (or TF Serving) gives our message/enum `desc`."""
    if not desc.full_name.startswith(OUR_PREFIX):
        return desc.full_name  # google.protobuf.*
    package = "tensorflow.serving." if _base(desc) in SERVING_FILES | MANIFEST_FILES else "tensorflow."
    return package + _short(desc.full_name)


def _of_kind(files: frozenset[str] | None, table: dict) -> list[str]:
    """Short names of our messages/enums in `files` (None: the TensorFlow files)."""
    upstream = SERVING_FILES | MANIFEST_FILES
    return sorted(
        _short(name)
        for name, desc in table.items()
        if (_base(desc) not in upstream if files is None else _base(desc) in files)
    )


TF_MESSAGES = _of_kind(None, MESSAGES)
TF_ENUMS = _of_kind(None, ENUMS)
SERVING_MESSAGES = _of_kind(SERVING_FILES | MANIFEST_FILES, MESSAGES)
SERVING_ENUMS = _of_kind(SERVING_FILES | MANIFEST_FILES, ENUMS)


# --- field facts -------------------------------------------------------------

_SCALAR = {
    getattr(FieldDescriptor, name): name[len("TYPE_") :].lower()
    for name in dir(FieldDescriptor)
    if name.startswith("TYPE_")
}


def _type_name(field: FieldDescriptor, name_of) -> str:
    if field.full_name in BYTES_FOR_MESSAGE and field.type == FieldDescriptor.TYPE_BYTES:
        return BYTES_FOR_MESSAGE[field.full_name]
    if field.message_type is not None:
        entry = field.message_type
        if entry.GetOptions().map_entry:
            key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
            return f"map<{_type_name(key, name_of)}, {_type_name(value, name_of)}>"
        return name_of(entry)
    if field.enum_type is not None:
        return name_of(field.enum_type)
    return _SCALAR[field.type]


def _proto3_optional(field: FieldDescriptor) -> bool:
    proto = descriptor_pb2.DescriptorProto()
    field.containing_type.CopyToProto(proto)
    return any(f.number == field.number and f.proto3_optional for f in proto.field)


def _oneof(field: FieldDescriptor) -> str | None:
    """The field's real oneof (not the synthetic one of a proto3 `optional`)."""
    if field.containing_oneof is None or _proto3_optional(field):
        return None
    return field.containing_oneof.name


def facts(field: FieldDescriptor, name_of) -> dict:
    """What decides how a field reads and writes, plus its name."""
    return {
        "name": field.name,
        "number": field.number,
        "type": _type_name(field, name_of),  # TYPE_* and, for message/enum, the type
        "repeated": field.is_repeated,
        "oneof": _oneof(field),
        "presence": field.has_presence,
        "packed": field.is_packed,
    }


def _same(desc) -> str:
    return desc.full_name


# --- TensorFlow --------------------------------------------------------------


@pytest.fixture(scope="module")
def tf_pool():
    pytest.importorskip("tensorflow")
    from google.protobuf import descriptor_pool

    stems = {Path(f.name).stem for f in OUR_FILES} - SERVING_FILES - MANIFEST_FILES
    for stem in sorted(stems) + ["config"]:  # config: RunOptions / RunMetadata
        for package in TF_MODULE_PACKAGES:
            try:
                importlib.import_module(f"{package}.{stem}_pb2")
                break
            except ImportError:
                continue
        else:
            pytest.fail(f"TensorFlow has no {stem}.proto in {TF_MODULE_PACKAGES}")
    return descriptor_pool.Default()


def _tf_message(pool, ours: Descriptor) -> Descriptor:
    try:
        return pool.FindMessageTypeByName(upstream_name(ours))
    except KeyError:
        pytest.fail(f"TensorFlow has no message {upstream_name(ours)} (ours: {ours.full_name})")


def test_our_schema_is_in_its_own_package():
    assert OUR_FILES, "no .proto files under protos/sigtool/_proto"
    for file in OUR_FILES:
        assert file.package == "sigtool.tf", file.name
        assert file.name == f"sigtool/_proto/{Path(file.name).name}"
        assert file.pool is sigtool._proto.pool()


@pytest.mark.parametrize("name", TF_MESSAGES)
def test_tf_message_is_wire_compatible(name, tf_pool):
    ours = MESSAGES[OUR_PREFIX + name]
    theirs = _tf_message(tf_pool, ours)
    assert Path(theirs.file.name).name == Path(ours.file.name).name, "declared in another file than TF's"
    their_fields = {f.number: facts(f, _same) for f in theirs.fields}
    for field in ours.fields:
        assert facts(field, upstream_name) == their_fields.get(field.number), field.full_name
    if name not in PARTIAL_OK:
        missing = sorted(set(their_fields) - {f.number for f in ours.fields})
        assert not missing, [their_fields[n]["name"] for n in missing]
    # Same declaration order: JSON and text output list fields as TF does.
    declared = [f.number for f in ours.fields]
    assert declared == [f.number for f in theirs.fields if f.number in declared]


@pytest.mark.parametrize("name", TF_ENUMS)
def test_tf_enum_is_wire_compatible(name, tf_pool):
    ours = ENUMS[OUR_PREFIX + name]
    theirs = tf_pool.FindEnumTypeByName(upstream_name(ours))
    their_values = {v.name: v.number for v in theirs.values}
    our_values = {v.name: v.number for v in ours.values}
    assert {k: their_values.get(k) for k in our_values} == our_values
    if name not in PARTIAL_OK:
        assert our_values == their_values


def test_key_messages_are_declared_whole():
    for name in KEY_MESSAGES:
        assert name in TF_MESSAGES and name not in PARTIAL_OK, name
    for name in KEY_ENUMS:
        assert name in TF_ENUMS and name not in PARTIAL_OK, name


def test_bytes_stand_ins_replace_tf_messages(tf_pool):
    for field_name, upstream in BYTES_FOR_MESSAGE.items():
        message_name, _, field = field_name.rpartition(".")
        ours = MESSAGES[message_name].fields_by_name[field]
        assert ours.type == FieldDescriptor.TYPE_BYTES and not ours.is_repeated
        tf_pool.FindMessageTypeByName(upstream)  # a message, hence length-delimited too


# --- TensorFlow Serving and the legacy manifest: fact tables -------------------
# (name, number, type[, "repeated" | "optional" | "oneof <name>"]), upstream
# names. Serving: tensorflow/serving tensorflow_serving/apis/*.proto and
# config/logging_config.proto. Manifest: ../shared/reference/tf_serving.md §5.2.

TFS = "tensorflow.serving."
UPSTREAM_FIELDS: dict[str, list[tuple]] = {
    # model.proto
    "ModelSpec": [
        ("name", 1, "string"),
        ("version", 2, "google.protobuf.Int64Value", "oneof version_choice"),
        ("version_label", 4, "string", "oneof version_choice"),
        ("signature_name", 3, "string"),
    ],
    # input.proto
    "ExampleList": [("examples", 1, "tensorflow.Example", "repeated")],
    "ExampleListWithContext": [
        ("examples", 1, "tensorflow.Example", "repeated"),
        ("context", 2, "tensorflow.Example"),
    ],
    "Input": [
        ("example_list", 1, TFS + "ExampleList", "oneof kind"),
        ("example_list_with_context", 2, TFS + "ExampleListWithContext", "oneof kind"),
    ],
    # classification.proto
    "Class": [("label", 1, "string"), ("score", 2, "float")],
    "Classifications": [("classes", 1, TFS + "Class", "repeated")],
    "ClassificationResult": [("classifications", 1, TFS + "Classifications", "repeated")],
    "ClassificationRequest": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("input", 2, TFS + "Input"),
    ],
    "ClassificationResponse": [
        ("model_spec", 2, TFS + "ModelSpec"),
        ("result", 1, TFS + "ClassificationResult"),
    ],
    # regression.proto
    "Regression": [("value", 1, "float")],
    "RegressionResult": [("regressions", 1, TFS + "Regression", "repeated")],
    "RegressionRequest": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("input", 2, TFS + "Input"),
    ],
    "RegressionResponse": [
        ("model_spec", 2, TFS + "ModelSpec"),
        ("result", 1, TFS + "RegressionResult"),
    ],
    # inference.proto
    "InferenceTask": [("model_spec", 1, TFS + "ModelSpec"), ("method_name", 2, "string")],
    "InferenceResult": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("classification_result", 2, TFS + "ClassificationResult", "oneof result"),
        ("regression_result", 3, TFS + "RegressionResult", "oneof result"),
    ],
    "MultiInferenceRequest": [
        ("tasks", 1, TFS + "InferenceTask", "repeated"),
        ("input", 2, TFS + "Input"),
    ],
    "MultiInferenceResponse": [("results", 1, TFS + "InferenceResult", "repeated")],
    # predict.proto
    "PredictRequest": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("inputs", 2, "map<string, tensorflow.TensorProto>"),
        ("output_filter", 3, "string", "repeated"),
        ("predict_streamed_options", 5, TFS + "PredictStreamedOptions"),
        ("client_id", 6, "bytes", "optional"),
        ("request_options", 7, TFS + "PredictRequest.RequestOptions", "optional"),
    ],
    "PredictRequest.RequestOptions": [
        ("client_id", 1, "bytes", "optional"),
        ("deterministic_mode", 2, TFS + "PredictRequest.RequestOptions.DeterministicMode", "optional"),
        ("return_additional_arrays_from_prefill", 3, "bool", "optional"),
        ("return_stoptokens", 4, "int64", "repeated"),
        ("return_all_stoptokens", 9, "bool", "optional"),
        ("max_cache_length", 6, "int64", "optional"),
        ("handshake", 13, TFS + "PredictRequest.RequestOptions.Handshake", "optional"),
    ],
    "PredictRequest.RequestOptions.Handshake": [("estimated_payload_bytes", 1, "int64")],
    "PredictStreamedOptions": [
        ("request_state", 1, TFS + "PredictStreamedOptions.RequestState"),
        ("split_dimensions", 2, "map<string, int32>"),
        ("return_single_response", 3, "bool"),
    ],
    "PredictResponse": [
        ("model_spec", 2, TFS + "ModelSpec"),
        ("outputs", 1, "map<string, tensorflow.TensorProto>"),
    ],
    # session_service.proto
    "SessionRunRequest": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("feed", 2, "tensorflow.NamedTensorProto", "repeated"),
        ("fetch", 3, "string", "repeated"),
        ("target", 4, "string", "repeated"),
        ("tensor_name_is_alias", 6, "bool"),
        ("options", 5, "tensorflow.RunOptions"),
    ],
    "SessionRunResponse": [
        ("model_spec", 3, TFS + "ModelSpec"),
        ("tensor", 1, "tensorflow.NamedTensorProto", "repeated"),
        ("metadata", 2, "tensorflow.RunMetadata"),
    ],
    # config/logging_config.proto
    "SamplingConfig": [("sampling_rate", 1, "double"), ("attributes", 2, "int32")],
    # logging.proto
    "LogMetadata": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("sampling_config", 2, TFS + "SamplingConfig"),
        ("saved_model_tags", 3, "string", "repeated"),
        ("timestamp_secs", 4, "int64"),
        ("dc", 5, "string"),
        ("request_origin", 6, "string"),
        ("request_criticality", 7, "string"),
        ("safe_aggregation_privacy_key", 8, "int64"),
    ],
    # prediction_log.proto
    "ClassifyLog": [
        ("request", 1, TFS + "ClassificationRequest"),
        ("response", 2, TFS + "ClassificationResponse"),
    ],
    "RegressLog": [
        ("request", 1, TFS + "RegressionRequest"),
        ("response", 2, TFS + "RegressionResponse"),
    ],
    "PredictLog": [
        ("request", 1, TFS + "PredictRequest"),
        ("response", 2, TFS + "PredictResponse"),
    ],
    "PredictStreamedLog": [
        ("request", 1, TFS + "PredictRequest", "repeated"),
        ("response", 2, TFS + "PredictResponse", "repeated"),
    ],
    "MultiInferenceLog": [
        ("request", 1, TFS + "MultiInferenceRequest"),
        ("response", 2, TFS + "MultiInferenceResponse"),
    ],
    "SessionRunLog": [
        ("request", 1, TFS + "SessionRunRequest"),
        ("response", 2, TFS + "SessionRunResponse"),
    ],
    "PredictionLog": [
        ("log_metadata", 1, TFS + "LogMetadata"),
        ("classify_log", 2, TFS + "ClassifyLog", "oneof log_type"),
        ("regress_log", 3, TFS + "RegressLog", "oneof log_type"),
        ("predict_log", 6, TFS + "PredictLog", "oneof log_type"),
        ("predict_streamed_log", 7, TFS + "PredictStreamedLog", "oneof log_type"),
        ("multi_inference_log", 4, TFS + "MultiInferenceLog", "oneof log_type"),
        ("session_run_log", 5, TFS + "SessionRunLog", "oneof log_type"),
    ],
    # manifest.proto (legacy SessionBundle), tf_serving.md §5.2
    "Signatures": [
        ("default_signature", 1, TFS + "Signature"),
        ("named_signatures", 2, "map<string, tensorflow.serving.Signature>"),
    ],
    "TensorBinding": [("tensor_name", 1, "string")],
    "AssetFile": [("tensor_binding", 1, TFS + "TensorBinding"), ("filename", 2, "string")],
    "Signature": [
        ("regression_signature", 1, TFS + "RegressionSignature", "oneof type"),
        ("classification_signature", 2, TFS + "ClassificationSignature", "oneof type"),
        ("generic_signature", 3, TFS + "GenericSignature", "oneof type"),
    ],
    "RegressionSignature": [
        ("input", 1, TFS + "TensorBinding"),
        ("output", 2, TFS + "TensorBinding"),
    ],
    "ClassificationSignature": [
        ("input", 1, TFS + "TensorBinding"),
        ("classes", 2, TFS + "TensorBinding"),
        ("scores", 3, TFS + "TensorBinding"),
    ],
    "GenericSignature": [("map", 1, "map<string, tensorflow.serving.TensorBinding>")],
}
UPSTREAM_ENUMS: dict[str, dict[str, int]] = {
    "PredictRequest.RequestOptions.DeterministicMode": {
        "DETERMINISTIC_MODE_UNSPECIFIED": 0,
        "FIXED_DECODER_SLOT": 1,
    },
    "PredictStreamedOptions.RequestState": {"NONE": 0, "SPLIT": 1, "END_SPLIT": 2, "CANCEL": 3},
    "SamplingConfig.Attributes": {
        "ATTR_DEFAULT": 0,
        "ATTR_REQUEST_ORIGIN": 1,
        "ATTR_REQUEST_CRITICALITY": 2,
    },
}


def _table_entry(name: str, number: int, type_: str, flag: str = "") -> dict:
    scalar = type_ in _SCALAR.values() or type_.removeprefix(TFS) in UPSTREAM_ENUMS
    return {
        "name": name,
        "number": number,
        "type": type_,
        "repeated": flag == "repeated" or type_.startswith("map<"),
        "oneof": flag.removeprefix("oneof ") if flag.startswith("oneof ") else None,
        # proto3: scalars have presence only when `optional` or in a oneof.
        "presence": flag != "repeated" and not type_.startswith("map<") and (not scalar or flag != ""),
    }


def test_fact_tables_cover_every_serving_and_manifest_type():
    assert sorted(UPSTREAM_FIELDS) == SERVING_MESSAGES
    assert sorted(UPSTREAM_ENUMS) == SERVING_ENUMS


@pytest.mark.parametrize("name", sorted(UPSTREAM_FIELDS))
def test_serving_message_matches_fact_table(name):
    ours = MESSAGES[OUR_PREFIX + name]
    got = {}
    for field in ours.fields:
        fact = facts(field, upstream_name)
        del fact["packed"]  # proto3 default either way
        got[field.number] = fact
    assert got == {row[1]: _table_entry(*row) for row in UPSTREAM_FIELDS[name]}
    assert [f.number for f in ours.fields] == [row[1] for row in UPSTREAM_FIELDS[name]]


@pytest.mark.parametrize("name", sorted(UPSTREAM_ENUMS))
def test_serving_enum_matches_fact_table(name):
    assert {v.name: v.number for v in ENUMS[OUR_PREFIX + name].values} == UPSTREAM_ENUMS[name]


# --- the private pool ----------------------------------------------------------


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


_LOAD_OURS = "import sigtool._proto as P\n[getattr(P, n) for n in {names!r}]\n"


def test_our_modules_load_without_tensorflow():
    code = _LOAD_OURS.format(names=MODULE_NAMES) + "import sys\nassert 'tensorflow' not in sys.modules\n"
    result = _run_python(code)
    assert result.returncode == 0, result.stderr


def test_package_import_loads_no_protobuf():
    code = "import sys, sigtool._proto\nassert not [m for m in sys.modules if m.startswith('google')]\n"
    result = _run_python(code)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("tf_first", [True, False], ids=["tf-first", "ours-first"])
def test_our_classes_and_tensorflows_coexist(tf_first):
    """Our private pool never touches the default pool TensorFlow fills, in either order."""
    pytest.importorskip("tensorflow")
    tf = "import tensorflow\nfrom tensorflow.core.protobuf import saved_model_pb2 as theirs\n"
    ours = _LOAD_OURS.format(names=MODULE_NAMES) + "from sigtool._proto import saved_model_pb2 as ours\n"
    code = (
        (tf + ours if tf_first else ours + tf)
        + "from google.protobuf import descriptor_pool\n"
        "default = descriptor_pool.Default()\n"
        "assert ours.SavedModel.DESCRIPTOR.full_name == 'sigtool.tf.SavedModel'\n"
        "assert theirs.SavedModel.DESCRIPTOR.full_name == 'tensorflow.SavedModel'\n"
        "assert theirs.SavedModel.DESCRIPTOR.file.pool is default\n"
        "try:\n"
        "    default.FindMessageTypeByName('sigtool.tf.SavedModel')\n"
        "except KeyError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('our schema leaked into the default pool')\n"
        "data = ours.SavedModel(saved_model_schema_version=1).SerializeToString()\n"
        "assert theirs.SavedModel.FromString(data).saved_model_schema_version == 1\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr[-3000:]


def test_modules_look_like_protoc_output():
    from sigtool._proto import struct_pb2, types_pb2

    assert types_pb2.DT_FLOAT == 1 and types_pb2.DataType.Name(types_pb2.DT_HALF) == "DT_HALF"
    assert types_pb2.DataType.Value("DT_STRING") == 7
    assert struct_pb2.TypeSpecProto.RAGGED_TENSOR_SPEC == struct_pb2.TypeSpecProto.TypeSpecClass.Value("RAGGED_TENSOR_SPEC")
    assert struct_pb2.DESCRIPTOR.name == "sigtool/_proto/struct.proto"
    assert sys.modules["sigtool._proto.struct_pb2"] is struct_pb2
    # One class per message type, however it is reached.
    assert struct_pb2.StructuredValue().list_value.values.add().__class__ is struct_pb2.StructuredValue
    with pytest.raises(ImportError):
        from sigtool._proto import no_such_pb2  # noqa: F401
    with pytest.raises(AttributeError):
        sigtool._proto.__no_such__


def test_every_message_class_is_built_and_held():
    """protobuf 4.22-4.24 (upb) crash on a submessage whose class was never built or was collected."""
    import gc

    names = {m.full_name for f in OUR_FILES for m in _nested_all(f.message_types_by_name.values())}
    names |= {"google.protobuf.Any", "google.protobuf.Int64Value"}
    held = {name: sigtool._proto.message_class(name) for name in names}
    gc.collect()
    for name, cls in held.items():
        assert cls.DESCRIPTOR.full_name == name
        assert cls.DESCRIPTOR.file.pool is sigtool._proto.pool()
    from sigtool._proto import node_def_pb2

    entry = node_def_pb2.NodeDef.DESCRIPTOR.fields_by_name["attr"].message_type
    assert held[entry.full_name] is sigtool._proto.message_class(entry.full_name)  # map entries too


def _nested_all(messages) -> Iterator[Descriptor]:
    for message in messages:
        yield message
        yield from _nested_all(message.nested_types)


def test_every_file_of_the_set_is_loaded():
    from sigtool import wire

    data = sigtool._proto.DESCRIPTOR_SET.read_bytes()
    names = [
        descriptor_pb2.FileDescriptorProto.FromString(data[f.value_start : f.end]).name
        for f in wire.iter_fields(data)
    ]
    ours = sorted(f"sigtool/_proto/{p.name}" for p in PROTO_DIR.glob("*.proto"))
    assert sorted(n for n in names if n.startswith("sigtool/")) == ours
    assert sorted(n for n in names if not n.startswith("sigtool/")) == ["google/protobuf/any.proto", "google/protobuf/wrappers.proto"]
    for name in names:
        sigtool._proto.pool().FindFileByName(name)


# --- the files under testdata/ -------------------------------------------------------


def unknown_field_paths(message: Message, path: str = "") -> list[str]:
    """Paths of every (sub)message that holds fields our schema does not know."""
    found = [path or "<root>"] if len(UnknownFieldSet(message)) else []
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        where = f"{path}.{field.name}"
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE:
                for key, item in value.items():
                    found += unknown_field_paths(item, f"{where}[{key!r}]")
        elif field.is_repeated:
            for index, item in enumerate(value):
                found += unknown_field_paths(item, f"{where}[{index}]")
        else:
            found += unknown_field_paths(value, where)
    return found


def _testdata(pattern: str) -> list[Path]:
    return sorted(p for p in TESTDATA.glob(pattern) if p.is_file() and "bad" not in p.relative_to(TESTDATA).parts)


def _ids(paths: list[Path]) -> list[str]:
    return [p.relative_to(TESTDATA).as_posix() for p in paths]


SAVED_MODELS = _testdata("**/saved_model.pb")
PBTXT_MODELS = _testdata("**/saved_model.pbtxt")
LEGACY_EXPORTS = _testdata("**/export.meta")


def test_testdata_has_every_kind_of_file():
    names = set(_ids(SAVED_MODELS + PBTXT_MODELS + LEGACY_EXPORTS))
    for expected in (
        "half_plus_two_like/saved_model.pb",
        "shapes_dtypes/saved_model.pb",
        "pbtxt/saved_model.pbtxt",
        "legacy_bundle/00000001/export.meta",
    ):
        assert expected in names


def _parse_like_tf(ours_class, tf_class, raw: bytes):
    """Our parse of `raw`, or None where TensorFlow's class refuses it too (bad UTF-8, say)."""
    try:
        tf_class.FromString(raw)
    except DecodeError:
        with pytest.raises(DecodeError):
            ours_class.FromString(raw)
        return None
    return ours_class.FromString(raw)


def _assert_tf_reads_ours_as_original(ours: Message, original: bytes, tf_class) -> None:
    ours_bytes = ours.SerializeToString(deterministic=True)
    expected = tf_class.FromString(original)
    assert tf_class.FromString(ours_bytes) == expected
    assert expected.SerializeToString(deterministic=True) == ours_bytes


@pytest.mark.parametrize("path", SAVED_MODELS, ids=_ids(SAVED_MODELS))
def test_saved_model_round_trips_through_tf(path, tf_pool):
    from tensorflow.core.protobuf import saved_model_pb2 as tf_saved_model_pb2

    from sigtool._proto import saved_model_pb2

    raw = path.read_bytes()
    ours = _parse_like_tf(saved_model_pb2.SavedModel, tf_saved_model_pb2.SavedModel, raw)
    if ours is None:
        return  # refused by both (a deliberately broken fixture)
    assert unknown_field_paths(ours) == []
    _assert_tf_reads_ours_as_original(ours, raw, tf_saved_model_pb2.SavedModel)


@pytest.mark.parametrize("path", PBTXT_MODELS, ids=_ids(PBTXT_MODELS))
def test_text_format_model_reads_as_in_tf(path, tf_pool):
    from tensorflow.core.protobuf import saved_model_pb2 as tf_saved_model_pb2

    from sigtool._proto import saved_model_pb2

    text = path.read_bytes()
    try:
        theirs = text_format.Parse(text, tf_saved_model_pb2.SavedModel())
    except text_format.ParseError:
        with pytest.raises(text_format.ParseError):
            text_format.Parse(text, saved_model_pb2.SavedModel())
        return
    ours = text_format.Parse(text, saved_model_pb2.SavedModel())  # same field names as TF
    _assert_tf_reads_ours_as_original(ours, theirs.SerializeToString(), tf_saved_model_pb2.SavedModel)


# Any payloads of legacy exports, by the type URL's message name.
def _any_classes() -> dict[str, type]:
    from sigtool._proto import graph_pb2, manifest_pb2

    return {
        "tensorflow.serving.Signatures": manifest_pb2.Signatures,
        "tensorflow.serving.AssetFile": manifest_pb2.AssetFile,
        "tensorflow.GraphDef": graph_pb2.GraphDef,
    }


@pytest.mark.parametrize("path", LEGACY_EXPORTS, ids=_ids(LEGACY_EXPORTS))
def test_legacy_export_and_manifest_payloads(path, tf_pool):
    from tensorflow.core.protobuf import meta_graph_pb2 as tf_meta_graph_pb2

    from sigtool._proto import meta_graph_pb2

    raw = path.read_bytes()
    ours = _parse_like_tf(meta_graph_pb2.MetaGraphDef, tf_meta_graph_pb2.MetaGraphDef, raw)
    assert ours is not None
    assert unknown_field_paths(ours) == []
    _assert_tf_reads_ours_as_original(ours, raw, tf_meta_graph_pb2.MetaGraphDef)

    # The Any payloads are opaque to TensorFlow: each must parse whole, or fail
    # only on bad UTF-8 in a string field (a proto3 rule, not a schema gap).
    theirs = tf_meta_graph_pb2.MetaGraphDef.FromString(raw)
    classes = _any_classes()
    for key, collection in ours.collection_def.items():
        if collection.WhichOneof("kind") != "any_list":
            continue
        for index, item in enumerate(collection.any_list.value):
            their_item = theirs.collection_def[key].any_list.value[index]
            assert (item.type_url, item.value) == (their_item.type_url, their_item.value)
            try:
                payload = classes[item.type_url.rpartition("/")[2]].FromString(item.value)
            except DecodeError as e:
                assert "UTF-8" in str(e), (key, item.type_url, e)
                continue
            assert unknown_field_paths(payload) == [], (key, item.type_url)
            assert payload.ByteSize() == len(item.value), (key, item.type_url)


def test_prediction_log_carries_tf_tensors(tf_pool):
    """A warmup record (PredictionLog > PredictLog > PredictRequest.inputs) holds TF's TensorProto bytes whole."""
    import tensorflow as tf
    from tensorflow.core.framework import tensor_pb2 as tf_tensor_pb2

    from sigtool._proto import prediction_log_pb2

    tensors = {
        "x": tf.make_tensor_proto([[1.5, -2.0]], dtype=tf.float32),
        "s": tf.make_tensor_proto([b"a", b"\xff"], dtype=tf.string),
    }
    log = prediction_log_pb2.PredictionLog()
    request = log.predict_log.request
    request.model_spec.name = "m"
    request.model_spec.signature_name = "serving_default"
    for key, tensor in tensors.items():
        request.inputs[key].MergeFromString(tensor.SerializeToString())
    read = prediction_log_pb2.PredictionLog.FromString(log.SerializeToString())
    assert read.WhichOneof("log_type") == "predict_log"
    assert unknown_field_paths(read) == []
    for key, tensor in tensors.items():
        assert tf_tensor_pb2.TensorProto.FromString(read.predict_log.request.inputs[key].SerializeToString()) == tensor
    assert tf.make_ndarray(tensors["x"]).tolist() == [[1.5, -2.0]]


# --- the committed descriptor set is current ----------------------------------------


def test_descriptor_set_is_current(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_protos.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    fresh = tmp_path / "sigtool" / "_proto" / "descriptors.binpb"
    assert fresh.read_bytes() == sigtool._proto.DESCRIPTOR_SET.read_bytes(), "out of date: run tools/gen_protos.py"
    assert sorted(p.name for p in (tmp_path / "sigtool" / "_proto").iterdir()) == ["descriptors.binpb"]
    assert not list(GEN_DIR.glob("*_pb2.py")), "generated modules are gone: run tools/gen_protos.py"


def test_descriptor_set_is_package_data():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"]["package-data"]
    assert "_proto/descriptors.binpb" in data["sigtool"]


# --- show's fast path never loads protobuf ---------------------------------------------


_SHOW = (
    "import sys\n"
    "from sigtool.cli import cli\n"
    "try:\n"
    "    cli(['show', {path!r}, '--all'])\n"
    "except SystemExit as e:\n"
    "    assert e.code in (0, None), e.code\n"
    "print(sorted(m for m in sys.modules if m.split('.')[0] == 'google'))\n"
)


def test_show_fast_path_never_loads_protobuf():
    result = _run_python(_SHOW.format(path=str(TESTDATA / "big_constant")))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    # The probe sees protobuf where show needs it: a text model.
    result = _run_python(_SHOW.format(path=str(TESTDATA / "pbtxt")))
    assert result.returncode == 0, result.stderr
    assert "google.protobuf" in result.stdout.splitlines()[-1]
