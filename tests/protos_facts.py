"""Shared by the test_protos* modules: sigtool's descriptors (sigtool/_proto) walked into comparable field facts,
TensorFlow's descriptor pool (a fixture; skipped without TensorFlow), and a clean child interpreter.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

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


def load_tf_pool():
    """For the fixture `tf_pool` (test_protos_tf.py): TensorFlow's default pool with its schema imported."""
    pytest.importorskip("tensorflow")
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


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


_LOAD_OURS = "import sigtool._proto as P\n[getattr(P, n) for n in {names!r}]\n"
