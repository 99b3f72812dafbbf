"""The fast path's own wire decoder agrees with protobuf where it matters.

protobuf is the reference here (our .proto files are checked against
TensorFlow's by test_protos.py): enum tables, the nesting limit, and the
merge/oneof rules for fields that appear more than once.
"""

from __future__ import annotations

import pytest

from sigtool import wire
from sigtool._proto import meta_graph_pb2, saved_model_pb2, struct_pb2, types_pb2
from sigtool.errors import LoadError
from sigtool.loader import object_graph, read
from sigtool.loader.dtypes import DATA_TYPES, TYPE_SPEC_CLASSES


def test_dtype_table_is_the_enum():
    assert {v.number: v.name for v in types_pb2.DataType.DESCRIPTOR.values} == DATA_TYPES


def test_type_spec_table_is_the_enum():
    assert {v.number: v.name for v in struct_pb2.TypeSpecProto.TypeSpecClass.DESCRIPTOR.values} == TYPE_SPEC_CLASSES


def nested(levels: int, sparse_leaf: bool) -> bytes:
    leaf = meta_graph_pb2.TensorInfo()
    if sparse_leaf:
        leaf.coo_sparse.values_tensor_name = "v:0"
    else:
        leaf.name = "x:0"
    info = leaf
    for _ in range(levels - 1):
        outer = meta_graph_pb2.TensorInfo()
        outer.composite_tensor.components.append(info)
        info = outer
    model = saved_model_pb2.SavedModel()
    model.meta_graphs.add().signature_def["s"].inputs["x"].CopyFrom(info)
    return model.SerializeToString()


def protobuf_accepts(data: bytes) -> bool:
    try:
        saved_model_pb2.SavedModel.FromString(data)
        return True
    except Exception:  # noqa: BLE001 - the oracle: any failure of protobuf's parser means it refuses the bytes
        return False


def sigtool_accepts(data: bytes) -> bool:
    try:
        read.read_bytes(data, "m", ops=False, functions=False, graph=False)
        return True
    except LoadError as e:
        assert "limit of 100" in str(e)
        return False


@pytest.mark.parametrize("levels", range(44, 52))
@pytest.mark.parametrize("sparse_leaf", [False, True])
def test_nesting_limit_is_protobufs(levels, sparse_leaf):
    data = nested(levels, sparse_leaf)
    assert sigtool_accepts(data) == protobuf_accepts(data)


def decoded_input(data: bytes):
    _, (mg,) = read.read_bytes(data, "m", ops=False, functions=False, graph=False)
    return mg.signatures[0].inputs[0]


def signature_bytes(*tensor_info_payloads: bytes) -> bytes:
    """A SavedModel whose only input TensorInfo is the concatenation of the payloads (protobuf merges them)."""
    entry = wire.length_delimited(1, b"x") + b"".join(wire.length_delimited(2, p) for p in tensor_info_payloads)
    signature = wire.length_delimited(1, entry)
    sig_entry = wire.length_delimited(1, b"s") + wire.length_delimited(2, signature)
    return wire.length_delimited(2, wire.length_delimited(5, sig_entry))


def test_repeated_message_fields_merge_and_the_last_oneof_member_wins():
    first = meta_graph_pb2.TensorInfo(name="a:0", dtype=types_pb2.DT_FLOAT)
    first.tensor_shape.dim.add(size=-1)
    second = meta_graph_pb2.TensorInfo(dtype=types_pb2.DT_INT64)
    second.tensor_shape.dim.add(size=3)
    second.coo_sparse.values_tensor_name = "v:0"
    third = meta_graph_pb2.TensorInfo()
    third.coo_sparse.indices_tensor_name = "i:0"
    data = signature_bytes(*(m.SerializeToString() for m in (first, second, third)))
    theirs = saved_model_pb2.SavedModel.FromString(data).meta_graphs[0].signature_def["s"].inputs["x"]
    ours = decoded_input(data)
    assert ours.encoding == theirs.WhichOneof("encoding") == "coo_sparse"
    assert ours.sparse.values == theirs.coo_sparse.values_tensor_name
    assert ours.sparse.indices == theirs.coo_sparse.indices_tensor_name
    assert ours.dtype == types_pb2.DataType.Name(theirs.dtype)
    assert ours.shape == tuple(d.size for d in theirs.tensor_shape.dim) == (-1, 3)


def test_unknown_fields_are_skipped_not_fatal():
    info = meta_graph_pb2.TensorInfo(name="a:0", dtype=types_pb2.DT_FLOAT).SerializeToString()
    unknown = wire.encode_varint(99 << 3 | wire.VARINT) + wire.encode_varint(7) + wire.length_delimited(98, b"zz")
    data = signature_bytes(info + unknown)
    assert protobuf_accepts(data)
    assert decoded_input(data).name == "a:0"


def test_unknown_enum_values_stay_visible():
    info = meta_graph_pb2.TensorInfo(name="a:0")
    data = signature_bytes(info.SerializeToString() + wire.encode_varint(2 << 3) + wire.encode_varint(77))
    assert decoded_input(data).dtype == "DT_UNKNOWN_77"


def test_negative_dims_and_large_varints():
    info = meta_graph_pb2.TensorInfo(name="a:0")
    info.tensor_shape.dim.add(size=-1)
    info.tensor_shape.dim.add(size=2**40)
    assert decoded_input(signature_bytes(info.SerializeToString())).shape == (-1, 2**40)


def test_struct_values_match_protobuf():
    value = struct_pb2.StructuredValue()
    t = value.tuple_value.values
    t.add().float64_value = 2.5
    t.add().int64_value = -7
    t.add().bool_value = True
    t.add().string_value = "s"
    t.add().none_value.SetInParent()
    spec = t.add().tensor_spec_value
    spec.name, spec.dtype = "x", types_pb2.DT_HALF
    spec.shape.dim.add(size=-1)
    d = t.add().dict_value.fields
    d["k"].int64_value = 4
    nt = t.add().named_tuple_value
    nt.name = "Point"
    pair = nt.values.add()
    pair.key, pair.value.float64_value = "x", 1.0
    data = value.SerializeToString()
    ours = object_graph.struct_value(data, [(0, len(data))], 0)
    assert ours.kind == "tuple"
    floats, ints, bools, strs, none, tensor, mapping, point = ours.items
    assert (floats.scalar, ints.scalar, bools.scalar, strs.scalar, none.kind) == (2.5, -7, True, "s", "none")
    assert (tensor.kind, tensor.name, tensor.dtype, tensor.shape) == ("tensor_spec", "x", "DT_HALF", (-1,))
    assert mapping.keys == ("k",) and mapping.items[0].scalar == 4
    assert point.name == "Point" and point.keys == ("x",) and point.items[0].scalar == 1.0
