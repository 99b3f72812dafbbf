"""The SignatureDef messages of one MetaGraph, read whole (defaults and type specs included), for printing.

The fast path (read.py) turns SignatureDefs into plain data and leaves out what no command shows; the
metadata endpoint prints every field, so this reads the signature_def map of one MetaGraph as messages:
from a binary file only those map entries are parsed, the rest (graph constants) is skipped unread.
"""

from __future__ import annotations

from sigtool import wire
from sigtool.errors import LoadError
from sigtool.loader import proto_json
from sigtool.loader.paths import locate
from sigtool.loader.read import PROTOBUF_LIMIT, mapped
from sigtool.model import SavedModelInfo

_SM_META_GRAPHS = 2  # SavedModel.meta_graphs
_MG_SIGNATURE_DEF = 5  # MetaGraphDef.signature_def


def signature_defs(info: SavedModelInfo, meta_graph_index: int) -> list[tuple[str, object]]:
    """(key, SignatureDef message) of the MetaGraph at `meta_graph_index` in the file, sorted by key.

    The index counts the file's MetaGraphs (as loader.load lists them before any select()); see meta_graph_index.
    """
    from sigtool._proto import meta_graph_pb2

    if info.legacy:
        raise LoadError(f"{info.source}: a legacy SessionBundle export has no SignatureDefs of its own")
    located = locate(info.path, info.version)
    with mapped(located) as buf:
        if located.format == "saved_model_pbtxt":
            entries = _pbtxt_entries(bytes(buf), located.display, meta_graph_index)
        else:
            entries = _pb_entries(buf, located.display, meta_graph_index)
    from google.protobuf import message as pb_message

    holder = meta_graph_pb2.MetaGraphDef()
    try:
        holder.ParseFromString(entries)
    except (pb_message.DecodeError, UnicodeDecodeError) as e:  # the latter: protobuf 3.20's pure-Python parser
        raise LoadError(
            f"{located.display}: the signature_def map of MetaGraph {meta_graph_index} does not parse ({e})"
        ) from None
    return sorted(holder.signature_def.items())


def meta_graph_index(info: SavedModelInfo, tags) -> int:
    """The position in the file of the first MetaGraph whose tags equal `tags` as a set (as TF and Serving pick)."""
    full = load_tags(info)
    for index, stored in enumerate(full):
        if set(stored) == set(tags):
            return index
    raise LoadError(f"{info.source}: no MetaGraph with tags {sorted(set(tags))}")


def load_tags(info: SavedModelInfo) -> list[tuple[str, ...]]:
    """The tags of every MetaGraph in the file, in stored order (info itself may have been narrowed)."""
    from sigtool.loader import load

    return [mg.tags for mg in load(info.path, version=info.version).meta_graphs]


def signature_def_map_json(info: SavedModelInfo, meta_graph_index: int) -> str:
    """Serving's SignatureDefMap {"signature_def": {...}} as its REST API prints it (see proto_json)."""
    return proto_json.map_json("signature_def", signature_defs(info, meta_graph_index))


def model_spec_json(name: str, version: int) -> str:
    """Serving's ModelSpec {name, version} as its REST API prints it (signature_name "" included)."""
    from sigtool._proto import model_pb2

    spec = model_pb2.ModelSpec(name=name)
    spec.version.value = version
    return proto_json.to_json(spec)


def _pb_entries(buf, display: str, index: int) -> bytes:
    """The signature_def fields of the index-th MetaGraphDef, as the bytes of a MetaGraphDef holding only them."""
    try:
        graphs = [f for f in wire.iter_fields(buf) if f.number == _SM_META_GRAPHS and f.wire_type == wire.LEN]
        graph = graphs[index]
        return b"".join(
            bytes(buf[f.start : f.end])
            for f in wire.iter_fields(buf, graph.value_start, graph.end)
            if f.number == _MG_SIGNATURE_DEF and f.wire_type == wire.LEN
        )
    except (wire.WireError, IndexError) as e:
        raise LoadError(f"{display}: cannot find MetaGraph {index} ({e})") from None


def _pbtxt_entries(raw: bytes, display: str, index: int) -> bytes:
    from google.protobuf import text_format

    from sigtool._proto import saved_model_pb2

    if len(raw) > PROTOBUF_LIMIT:
        raise LoadError(f"{display}: text SavedModels over 2 GiB are not read")
    model = saved_model_pb2.SavedModel()
    try:
        text_format.Parse(raw.decode("utf-8"), model)
    except (text_format.ParseError, ValueError) as e:
        raise LoadError(f"{display} is not a valid text SavedModel: {e}") from None
    if index >= len(model.meta_graphs):
        raise LoadError(f"{display}: cannot find MetaGraph {index}")
    holder = type(model.meta_graphs[index])()
    for key, sig in model.meta_graphs[index].signature_def.items():
        holder.signature_def[key].CopyFrom(sig)
    return holder.SerializeToString()
