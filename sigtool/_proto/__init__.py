"""sigtool's protobuf message classes, built at run time from descriptors.binpb.

descriptors.binpb is a FileDescriptorSet of protos/sigtool/_proto/*.proto
(package sigtool.tf) written by tools/gen_protos.py. Its files are loaded into
a private DescriptorPool, never the default one, so our classes cannot clash
with TensorFlow's in one process, and nothing depends on the protobuf release
that generated code would be tied to (3.20.3 to 7.x are tested).

    from sigtool._proto import saved_model_pb2, types_pb2
    saved_model_pb2.SavedModel.FromString(data)
    types_pb2.DT_FLOAT, types_pb2.DataType.Name(1)

`X_pb2` is a module built on first access, like protoc's output for
sigtool/_proto/X.proto: DESCRIPTOR, its top-level message classes, its enums
and their values. Importing this package imports no protobuf; the first
`X_pb2` does.
"""

from __future__ import annotations

import functools
import sys
import types
from pathlib import Path
from typing import Any

DESCRIPTOR_SET = Path(__file__).with_name("descriptors.binpb")
FILE_PREFIX = "sigtool/_proto/"
_SUFFIX = "_pb2"
_FACTORIES: dict = {}  # id(pool) -> (pool, its MessageFactory), for protobuf < 4.22


@functools.cache
def _loaded() -> tuple:
    """(pool, its files in dependency order, every message class by full name); built once."""
    from google.protobuf import descriptor_pool

    from sigtool import wire

    data = DESCRIPTOR_SET.read_bytes()
    pool = descriptor_pool.DescriptorPool()
    files = []
    # FileDescriptorSet: `repeated FileDescriptorProto file = 1`, dependencies first.
    for field in wire.iter_fields(data):
        if field.number == 1 and field.wire_type == wire.LEN:
            pool.AddSerializedFile(data[field.value_start : field.end])
            inner = wire.iter_fields(data, field.value_start, field.end)
            files.append(next(wire.text(data, f) for f in inner if f.number == 1))  # FileDescriptorProto.name
    files = [pool.FindFileByName(name) for name in files]
    return pool, tuple(files), build_classes(pool, files)


def build_classes(pool, files) -> dict:
    """Every message class of `files` (nested types and map entries too), by full name.

    The caller keeps the dict for the process's life: upb in protobuf 4.22-4.24
    holds classes only weakly and crashes reading a submessage whose class is
    missing, so every class is built up front and held. `files` come
    dependencies first.
    """
    from google.protobuf import message_factory

    if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
        make = message_factory.GetMessageClass
    else:  # 3.20 and 4.21 (deprecated later, then removed): one factory per pool
        if id(pool) not in _FACTORIES:
            _FACTORIES[id(pool)] = (pool, message_factory.MessageFactory(pool))
        make = _FACTORIES[id(pool)][1].GetPrototype
    classes = {}

    def build(messages) -> None:
        for message in messages:
            classes[message.full_name] = make(message)
            build(message.nested_types)

    for file in files:
        build(file.message_types_by_name.values())
    return classes


def pool():
    """The private DescriptorPool holding every file of descriptors.binpb."""
    return _loaded()[0]


def message_class(full_name: str) -> type:
    """The class of one of our messages (or google.protobuf.Any/wrappers), by full name."""
    return _loaded()[2][full_name]


def _build(name: str) -> types.ModuleType:
    from google.protobuf.internal import enum_type_wrapper

    try:
        file = pool().FindFileByName(FILE_PREFIX + name[: -len(_SUFFIX)] + ".proto")
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module: Any = types.ModuleType(f"{__name__}.{name}", f"Message classes of {file.name}.")  # Any: built here
    module.DESCRIPTOR = file
    for enum in file.enum_types_by_name.values():
        setattr(module, enum.name, enum_type_wrapper.EnumTypeWrapper(enum))
        for value in enum.values:
            setattr(module, value.name, value.number)
    for message in file.message_types_by_name.values():
        setattr(module, message.name, message_class(message.full_name))
    return module


def __getattr__(name: str):
    if not name.endswith(_SUFFIX) or name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _build(name)
    globals()[name] = module  # later lookups skip __getattr__
    sys.modules[module.__name__] = module  # `import sigtool._proto.X_pb2` from now on
    return module
