"""Small conversions shared by the loader: enum numbers to names, shapes to tuples."""

from __future__ import annotations

from sigtool._proto import struct_pb2, types_pb2


def dtype_name(value: int) -> str:
    """DataType enum name; a number TF does not know yet stays visible instead of failing."""
    try:
        return types_pb2.DataType.Name(value)
    except ValueError:
        return f"DT_UNKNOWN_{value}"


def type_spec_class_name(value: int) -> str:
    try:
        return struct_pb2.TypeSpecProto.TypeSpecClass.Name(value)
    except ValueError:
        return f"UNKNOWN_{value}"


def shape_of(proto) -> tuple[int, ...] | None:
    """A TensorShapeProto as a tuple; None for unknown rank, -1 for unknown dims."""
    return None if proto.unknown_rank else tuple(d.size for d in proto.dim)
