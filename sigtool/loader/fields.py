"""The protobuf field numbers the wire readers use (decode.py, graph.py, read.py, load_order.py), named once.

The numbers are TensorFlow's. One class per message, named after it, with one
attribute per field, named exactly as the field is; an upper-case attribute is
the set of numbers of a oneof. tests/test_field_numbers.py checks every name
and number here against the descriptors in sigtool/_proto, so a wrong number
fails a test instead of misreading a file. `_messages` names the message(s) a
class stands for, where that is not the class name (package sigtool.tf).
"""

from __future__ import annotations


class MapEntry:  # every map<K, V> field is a repeated message of these two
    _messages = (
        "MetaGraphDef.CollectionDefEntry",
        "MetaGraphDef.SignatureDefEntry",
        "SignatureDef.InputsEntry",
        "SignatureDef.OutputsEntry",
        "SavedObjectGraph.ConcreteFunctionsEntry",
        "DictValue.FieldsEntry",
        "NodeDef.AttrEntry",
    )
    key = 1
    value = 2


# --- saved_model.proto, meta_graph.proto ------------------------------------------------------


class SavedModel:
    saved_model_schema_version = 1
    meta_graphs = 2


class MetaGraphDef:
    meta_info_def = 1
    graph_def = 2
    saver_def = 3
    collection_def = 4
    signature_def = 5
    asset_file_def = 6
    object_graph_def = 7


class MetaInfoDef:
    _messages = ("MetaGraphDef.MetaInfoDef",)
    tags = 4
    tensorflow_version = 5
    tensorflow_git_version = 6
    stripped_default_attrs = 7


class AssetFileDef:
    tensor_info = 1
    filename = 2


class SignatureDef:
    inputs = 1
    outputs = 2
    method_name = 3
    defaults = 4


class TensorInfo:
    name = 1
    dtype = 2
    tensor_shape = 3
    coo_sparse = 4
    composite_tensor = 5
    ENCODING = frozenset({name, coo_sparse, composite_tensor})


class CooSparse:
    _messages = ("TensorInfo.CooSparse",)
    values_tensor_name = 1
    indices_tensor_name = 2
    dense_shape_tensor_name = 3


class CompositeTensor:
    _messages = ("TensorInfo.CompositeTensor",)
    type_spec = 1
    components = 2


class TensorShapeProto:
    dim = 2
    unknown_rank = 3


class Dim:
    _messages = ("TensorShapeProto.Dim",)
    size = 1
    name = 2


# --- saved_object_graph.proto, struct.proto ------------------------------------------------------


class SavedObjectGraph:
    nodes = 1
    concrete_functions = 2


class SavedObject:
    children = 1
    function = 6
    bare_concrete_function = 8
    KIND = frozenset({4, 5, 6, 7, 8, 9, 10, 12})  # user_object, asset, function, variable, ..., captured_tensor


class ObjectReference:
    _messages = ("TrackableObjectGraph.TrackableObject.ObjectReference",)
    node_id = 1
    local_name = 2


class SavedFunction:
    concrete_functions = 1


class SavedBareConcreteFunction:
    concrete_function_name = 1


class SavedConcreteFunction:
    canonicalized_input_signature = 3


class StructuredValue:
    none_value = 1
    float64_value = 11
    int64_value = 12
    string_value = 13
    bool_value = 14
    tensor_shape_value = 31
    tensor_dtype_value = 32
    tensor_spec_value = 33
    type_spec_value = 34
    bounded_tensor_spec_value = 35
    list_value = 51
    tuple_value = 52
    dict_value = 53
    named_tuple_value = 54
    tensor_value = 55
    numpy_value = 56
    KIND = frozenset({1, 11, 12, 13, 14, 31, 32, 33, 34, 35, 51, 52, 53, 54, 55, 56})


class ListValue:  # TupleValue has the same single field
    _messages = ("ListValue", "TupleValue")
    values = 1


class DictValue:
    fields = 1


class NamedTupleValue:
    name = 1
    values = 2


class PairValue:
    key = 1
    value = 2


class TensorSpecProto:  # BoundedTensorSpecProto starts with the same three fields
    _messages = ("TensorSpecProto", "BoundedTensorSpecProto")
    name = 1
    shape = 2
    dtype = 3


class TypeSpecProto:
    type_spec_class = 1
    type_state = 2
    type_spec_class_name = 3
    num_flat_components = 4


# --- graph.proto, function.proto, node_def.proto, attr_value.proto, op_def.proto, tensor.proto ---------


class GraphDef:
    node = 1
    library = 2


class FunctionDefLibrary:
    function = 1
    registered_gradients = 3


class RegisteredGradient:
    gradient_func = 1
    registered_op_type = 2


class FunctionDef:
    signature = 1
    node_def = 3


class OpDef:
    name = 1


class NodeDef:
    name = 1
    op = 2
    input = 3
    device = 4
    attr = 5


class AttrValue:
    list = 1
    s = 2
    tensor = 8
    func = 10
    VALUE = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})


class AttrList:
    _messages = ("AttrValue.ListValue",)
    func = 9


class NameAttrList:
    name = 1


class TensorProto:
    dtype = 1
