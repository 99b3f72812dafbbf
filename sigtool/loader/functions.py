"""TF2 function signatures, read from the SavedObjectGraph (no TensorFlow needed).

The functions listed are those attached to the root object, as
saved_model_cli lists them; each concrete function's arguments come from its
canonicalized input signature, a StructuredValue holding (args, kwargs).
"""

from __future__ import annotations

from sigtool.loader.enums import dtype_name, shape_of, type_spec_class_name
from sigtool.model import ConcreteFunction, Function, StructValue


def from_object_graph(graph) -> tuple[Function, ...]:
    if not graph.nodes:
        return ()
    found = []
    for child in graph.nodes[0].children:
        if child.node_id >= len(graph.nodes):
            continue
        node = graph.nodes[child.node_id]
        kind = node.WhichOneof("kind")
        if kind == "function":
            names = list(node.function.concrete_functions)
        elif kind == "bare_concrete_function":
            names = [node.bare_concrete_function.concrete_function_name]
        else:
            continue
        concrete = tuple(
            _concrete(name, graph.concrete_functions[name]) for name in sorted(set(names)) if name in graph.concrete_functions
        )
        found.append(Function(child.local_name, concrete))
    return tuple(sorted(found, key=lambda f: f.name))


def _concrete(name: str, saved) -> ConcreteFunction:
    signature = struct_value(saved.canonicalized_input_signature)
    args: tuple[StructValue, ...] = ()
    kwargs = None
    if signature.kind == "tuple" and len(signature.items) == 2:
        args_value, kwargs = signature.items
        args = args_value.items if args_value.kind in ("tuple", "list") else (args_value,)
    return ConcreteFunction(name, args, kwargs)


def struct_value(value) -> StructValue:
    kind = value.WhichOneof("kind")
    if kind is None or kind == "none_value":
        return StructValue("none")
    if kind == "bool_value":
        return StructValue("bool", scalar=value.bool_value)
    if kind == "int64_value":
        return StructValue("int", scalar=value.int64_value)
    if kind == "float64_value":
        return StructValue("float", scalar=value.float64_value)
    if kind == "string_value":
        return StructValue("str", scalar=value.string_value)
    if kind in ("list_value", "tuple_value"):
        items = getattr(value, kind).values
        return StructValue(kind.removesuffix("_value"), items=tuple(struct_value(v) for v in items))
    if kind == "dict_value":
        fields = value.dict_value.fields
        keys = tuple(fields)  # stored order; a Python dict's order depends on how it was built
        return StructValue("dict", keys=keys, items=tuple(struct_value(fields[k]) for k in keys))
    if kind == "named_tuple_value":
        nt = value.named_tuple_value
        return StructValue(
            "named_tuple",
            name=nt.name,
            keys=tuple(p.key for p in nt.values),
            items=tuple(struct_value(p.value) for p in nt.values),
        )
    if kind in ("tensor_spec_value", "bounded_tensor_spec_value"):
        spec = getattr(value, kind)
        return StructValue(
            kind.removesuffix("_value"),
            name=spec.name or None,
            shape=shape_of(spec.shape),
            dtype=dtype_name(spec.dtype),
        )
    if kind == "tensor_shape_value":
        return StructValue("tensor_shape", shape=shape_of(value.tensor_shape_value))
    if kind == "tensor_dtype_value":
        return StructValue("dtype", dtype=dtype_name(value.tensor_dtype_value))
    if kind == "type_spec_value":
        spec = value.type_spec_value
        class_name = spec.type_spec_class_name or type_spec_class_name(spec.type_spec_class)
        return StructValue("type_spec", name=class_name, items=(struct_value(spec.type_state),))
    return StructValue("unsupported", name=kind)
