"""DataType and TypeSpecClass names without importing protobuf (show's start-up stays small).

tests/test_decode.py checks these tables against sigtool's .proto enums,
which tests/test_protos.py checks against TensorFlow's.
"""

from __future__ import annotations

_BASE = [
    "INVALID",
    "FLOAT",
    "DOUBLE",
    "INT32",
    "UINT8",
    "INT16",
    "INT8",
    "STRING",
    "COMPLEX64",
    "INT64",
    "BOOL",
    "QINT8",
    "QUINT8",
    "QINT32",
    "BFLOAT16",
    "QINT16",
    "QUINT16",
    "UINT16",
    "COMPLEX128",
    "HALF",
    "RESOURCE",
    "VARIANT",
    "UINT32",
    "UINT64",
    "FLOAT8_E5M2",
    "FLOAT8_E4M3FN",
    "FLOAT8_E4M3FNUZ",
    "FLOAT8_E4M3B11FNUZ",
    "FLOAT8_E5M2FNUZ",
    "INT4",
    "UINT4",
    "INT2",
    "UINT2",
    "FLOAT4_E2M1FN",
]
_REF_OFFSET = 100  # DT_X_REF = DT_X + 100 (TF1 reference variables)

DATA_TYPES: dict[int, str] = {i: f"DT_{name}" for i, name in enumerate(_BASE)}
DATA_TYPES.update({i + _REF_OFFSET: f"DT_{name}_REF" for i, name in enumerate(_BASE) if i})

TYPE_SPEC_CLASSES: dict[int, str] = dict(
    enumerate(
        [
            "UNKNOWN",
            "SPARSE_TENSOR_SPEC",
            "INDEXED_SLICES_SPEC",
            "RAGGED_TENSOR_SPEC",
            "TENSOR_ARRAY_SPEC",
            "DATA_DATASET_SPEC",
            "DATA_ITERATOR_SPEC",
            "OPTIONAL_SPEC",
            "PER_REPLICA_SPEC",
            "VARIABLE_SPEC",
            "ROW_PARTITION_SPEC",
        ]
    )
)
TYPE_SPEC_CLASSES.update({12: "REGISTERED_TYPE_SPEC", 13: "EXTENSION_TYPE_SPEC"})


def dtype_name(value: int) -> str:
    """DataType enum name; a number TF does not know yet stays visible instead of failing."""
    return DATA_TYPES.get(value, f"DT_UNKNOWN_{value}")


def type_spec_class_name(value: int) -> str:
    return TYPE_SPEC_CLASSES.get(value, f"UNKNOWN_{value}")
