"""Protobuf messages -> the plain dataclasses of sigtool.model."""

from __future__ import annotations

from dataclasses import replace

from sigtool.loader.enums import dtype_name, shape_of, type_spec_class_name
from sigtool.loader import functions as functions_
from sigtool.model import AssetFile, CompositeSpec, MetaGraph, Signature, SparseNames, TensorSpec, signature_order


def meta_graph(raw, functions: bool) -> MetaGraph:
    """functions: read TF2 function signatures (the proto must then still hold its object graph)."""
    proto = raw.proto
    info = proto.meta_info_def
    signatures = tuple(
        sorted(
            (signature(key, sig) for key, sig in proto.signature_def.items()),
            key=lambda s: signature_order(s.key),
        )
    )
    return MetaGraph(
        tags=tuple(info.tags),
        signatures=signatures,
        tensorflow_version=info.tensorflow_version,
        tensorflow_git_version=info.tensorflow_git_version,
        stripped_default_attrs=info.stripped_default_attrs,
        has_object_graph=raw.has_object_graph,
        asset_files=tuple(AssetFile(a.tensor_info.name, a.filename) for a in proto.asset_file_def),
        ops=raw.ops,
        functions=functions_.from_object_graph(proto.object_graph_def) if functions and raw.has_object_graph else None,
        graph=raw.graph,
        collection_keys=tuple(sorted(proto.collection_def)) if raw.graph is not None else None,
        has_saver=proto.HasField("saver_def"),
    )


def with_graph(mg: MetaGraph, proto, graph) -> MetaGraph:
    return replace(mg, graph=graph, collection_keys=tuple(sorted(proto.collection_def)), has_saver=proto.HasField("saver_def"))


def signature(key: str, sig) -> Signature:
    def specs(tensor_map):
        return tuple(tensor_spec(k, tensor_map[k]) for k in sorted(tensor_map))

    return Signature(key=key, method_name=sig.method_name, inputs=specs(sig.inputs), outputs=specs(sig.outputs))


def tensor_spec(key: str, info) -> TensorSpec:
    encoding = info.WhichOneof("encoding") or ""
    sparse = composite = None
    if encoding == "coo_sparse":
        c = info.coo_sparse
        sparse = SparseNames(c.values_tensor_name, c.indices_tensor_name, c.dense_shape_tensor_name)
    elif encoding == "composite_tensor":
        c = info.composite_tensor
        composite = CompositeSpec(
            type_spec_class=type_spec_class_name(c.type_spec.type_spec_class),
            type_spec_class_name=c.type_spec.type_spec_class_name,
            num_flat_components=c.type_spec.num_flat_components,
            components=tuple(tensor_spec(str(i), comp) for i, comp in enumerate(c.components)),
        )
    dims = info.tensor_shape.dim
    return TensorSpec(
        key=key,
        dtype=dtype_name(info.dtype),
        shape=shape_of(info.tensor_shape),
        shape_present=info.HasField("tensor_shape"),
        encoding=encoding,
        name=info.name if encoding == "name" else "",
        sparse=sparse,
        composite=composite,
        dim_names=tuple(d.name for d in dims) if any(d.name for d in dims) else (),
    )
