"""sigtool's own .proto schema (protos/, compiled into the descriptor set sigtool/_proto/descriptors.binpb):
the classes built from it live in a private pool, load without TensorFlow (and protobuf only when used),
look like protoc's output; the committed descriptor set is current; show's fast path never loads protobuf.

The comparisons with TensorFlow's own schema are in test_protos_tf.py, with Serving's in test_protos_serving.py.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor
from protos_facts import _LOAD_OURS, GEN_DIR, MODULE_NAMES, OUR_FILES, PROTO_DIR, ROOT, TESTDATA, _run_python

import sigtool._proto

# --- the private pool ----------------------------------------------------------


def test_our_modules_load_without_tensorflow():
    code = _LOAD_OURS.format(names=MODULE_NAMES) + "import sys\nassert 'tensorflow' not in sys.modules\n"
    result = _run_python(code)
    assert result.returncode == 0, result.stderr


def test_package_import_loads_no_protobuf():
    code = "import sys, sigtool._proto\nassert not [m for m in sys.modules if m.startswith('google')]\n"
    result = _run_python(code)
    assert result.returncode == 0, result.stderr


def test_modules_look_like_protoc_output():
    from sigtool._proto import struct_pb2, types_pb2

    assert types_pb2.DT_FLOAT == 1 and types_pb2.DataType.Name(types_pb2.DT_HALF) == "DT_HALF"
    assert types_pb2.DataType.Value("DT_STRING") == 7
    assert (
        struct_pb2.TypeSpecProto.TypeSpecClass.Value("RAGGED_TENSOR_SPEC")
        == struct_pb2.TypeSpecProto.RAGGED_TENSOR_SPEC
    )
    assert struct_pb2.DESCRIPTOR.name == "sigtool/_proto/struct.proto"
    assert sys.modules["sigtool._proto.struct_pb2"] is struct_pb2
    # One class per message type, however it is reached.
    assert struct_pb2.StructuredValue().list_value.values.add().__class__ is struct_pb2.StructuredValue
    with pytest.raises(ImportError):
        from sigtool._proto import no_such_pb2  # noqa: F401
    with pytest.raises(AttributeError):
        _ = sigtool._proto.__no_such__


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
        descriptor_pb2.FileDescriptorProto.FromString(data[f.value_start : f.end]).name for f in wire.iter_fields(data)
    ]
    ours = sorted(f"sigtool/_proto/{p.name}" for p in PROTO_DIR.glob("*.proto"))
    assert sorted(n for n in names if n.startswith("sigtool/")) == ours
    assert sorted(n for n in names if not n.startswith("sigtool/")) == [
        "google/protobuf/any.proto",
        "google/protobuf/wrappers.proto",
    ]
    for name in names:
        sigtool._proto.pool().FindFileByName(name)


# --- the committed descriptor set is current ----------------------------------------


@pytest.mark.slow
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


@pytest.mark.slow
def test_show_fast_path_never_loads_protobuf():
    result = _run_python(_SHOW.format(path=str(TESTDATA / "big_constant")))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    # The probe sees protobuf where show needs it: a text model.
    result = _run_python(_SHOW.format(path=str(TESTDATA / "pbtxt")))
    assert result.returncode == 0, result.stderr
    assert "google.protobuf" in result.stdout.splitlines()[-1]
