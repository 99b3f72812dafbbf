"""Legacy SessionBundle exports (export.meta): signatures up-converted to SignatureDefs.

The conversion follows TensorFlow's final bundle shim (TensorFlow's bundle_shim.cc):
the default regression/classification signature becomes serving_default; a
named generic "inputs"/"outputs" pair becomes a predict signature (under
serving_default_from_named when serving_default is taken); other named
regression/classification signatures keep their keys; generic ones are
dropped. TensorInfos get a name and, where the graph tells, a dtype; never a
shape.
"""

from __future__ import annotations

from dataclasses import replace

from google.protobuf import message as pb_message

from sigtool import wire
from sigtool._proto import graph_pb2, manifest_pb2, meta_graph_pb2
from sigtool.errors import LoadError
from sigtool.loader import utf8
from sigtool.loader.dtypes import dtype_name
from sigtool.loader.read import PROTOBUF_LIMIT, mapped, read_bytes
from sigtool.model import (
    CLASSIFY,
    DEFAULT_SIGNATURE,
    PREDICT,
    REGRESS,
    MetaGraph,
    Signature,
    TensorSpec,
    signature_order,
)

FROM_NAMED = "serving_default_from_named"


def read(located, *, ops: bool, graph: bool) -> MetaGraph:
    """An export.meta: its MetaGraphDef read like a SavedModel's, with signatures from its manifest."""
    with mapped(located) as buf:
        if len(buf) > PROTOBUF_LIMIT:
            raise LoadError(
                f"{located.display} is {len(buf)} bytes, over protobuf's 2 GiB limit; a legacy export is parsed "
                "whole (no fast path): re-export the model as a SavedModel"
            )
        data = bytes(buf)
    _, (mg,) = read_bytes(wire.length_delimited(2, data), located.display, ops=ops, functions=False, graph=graph)
    try:
        proto = utf8.parse(meta_graph_pb2.MetaGraphDef, data, "meta_graphs[0]")  # paths as read_bytes writes them
    except pb_message.DecodeError:
        raise LoadError(f"{located.display} is not a valid MetaGraphDef; the export is corrupt") from None
    signatures = convert(_manifest(proto), _dtypes_by_node(proto))
    return replace(mg, signatures=tuple(sorted(signatures, key=lambda s: signature_order(s.key))))


def convert(manifest, dtypes: dict[str, str]) -> list[Signature]:
    def spec(key: str, binding) -> TensorSpec | None:
        name = binding.tensor_name
        if not name:
            return None
        dtype = dtypes.get(name.split(":")[0], "DT_INVALID")
        return TensorSpec(key=key, dtype=dtype, shape=(), shape_present=False, encoding="name", name=name)

    def build(key: str, method: str, inputs: dict, outputs: dict) -> Signature:
        def specs(bindings):
            found = (spec(k, b) for k, b in sorted(bindings.items()))
            return tuple(s for s in found if s is not None)

        return Signature(key, method, specs(inputs), specs(outputs))

    def typed(key: str, sig) -> Signature | None:
        kind = sig.WhichOneof("type")
        if kind == "regression_signature":
            r = sig.regression_signature
            return build(key, REGRESS, {"inputs": r.input}, {"outputs": r.output})
        if kind == "classification_signature":
            c = sig.classification_signature
            return build(key, CLASSIFY, {"inputs": c.input}, {"classes": c.classes, "scores": c.scores})
        return None

    result: dict[str, Signature] = {}
    if manifest.HasField("default_signature"):
        converted = typed(DEFAULT_SIGNATURE, manifest.default_signature)
        if converted is not None:
            result[DEFAULT_SIGNATURE] = converted
    named = manifest.named_signatures
    pair = [named[k] for k in ("inputs", "outputs") if k in named]
    predict_made = len(pair) == 2 and all(s.WhichOneof("type") == "generic_signature" for s in pair)
    if predict_made:
        key = FROM_NAMED if DEFAULT_SIGNATURE in result else DEFAULT_SIGNATURE
        result[key] = build(key, PREDICT, dict(pair[0].generic_signature.map), dict(pair[1].generic_signature.map))
    for key in sorted(named):
        if predict_made and key in ("inputs", "outputs"):
            continue
        converted = typed(key, named[key])
        if converted is not None:
            result[key] = converted
    return list(result.values())


_SIGNATURES_PATH = "meta_graphs[0].collection_def['serving_signatures'].any_list.value[0].value"


def _manifest(proto):
    """The Signatures message in the serving_signatures collection; empty when absent or invalid, as in the shim."""
    manifest = manifest_pb2.Signatures()
    collection = proto.collection_def.get("serving_signatures")
    if collection is None or len(collection.any_list.value) != 1:
        return manifest
    try:
        manifest = utf8.parse(manifest_pb2.Signatures, collection.any_list.value[0].value, _SIGNATURES_PATH)
    except pb_message.DecodeError:
        manifest.Clear()
    return manifest


# The shim asked TF's op registry for each node's first output type; without TF,
# the attrs that carry it for common ops give the same answer.
_DTYPE_ATTRS = ("dtype", "T", "out_type", "DstT", "Tout", "output_types", "component_types", "Tdense")


def _dtypes_by_node(proto) -> dict[str, str]:
    graph = proto.graph_def
    collection = proto.collection_def.get("serving_graph")
    if collection is not None and len(collection.any_list.value) == 1:
        try:
            where = "meta_graphs[0].collection_def['serving_graph'].any_list.value[0].value"
            graph = utf8.parse(graph_pb2.GraphDef, collection.any_list.value[0].value, where)
        except pb_message.DecodeError:
            pass
    dtypes: dict[str, str] = {}
    for node in graph.node:
        for attr in _DTYPE_ATTRS:
            if attr not in node.attr:
                continue
            value = node.attr[attr]
            if value.WhichOneof("value") == "type":
                dtypes.setdefault(node.name, dtype_name(value.type))
            elif value.WhichOneof("value") == "list" and value.list.type:
                dtypes.setdefault(node.name, dtype_name(value.list.type[0]))
            break
    return dtypes
