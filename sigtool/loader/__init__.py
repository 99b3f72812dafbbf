"""From what the user typed to a SavedModelInfo: the only package that decodes protobuf.

    paths    what the user typed -> the one file to read
    wire     walking the protobuf wire format without decoding
    read     files -> protobuf messages, decoding only what a command needs
    convert  messages -> sigtool.model dataclasses (functions, legacy: the special parts)
"""

from __future__ import annotations

from sigtool.loader import convert, legacy, read
from sigtool.loader.paths import locate
from sigtool.model import SavedModelInfo

__all__ = ["load", "locate"]


def load(path: str, *, version: str | None = None, ops: bool = False, functions: bool = False) -> SavedModelInfo:
    """Read the SavedModel at `path` (see sigtool.loader.paths for what `path` may be).

    ops: also list the ops each MetaGraph uses (reads graph node headers only).
    functions: also read TF2 function signatures from the object graph.
    """
    located = locate(path, version)
    if located.format == "session_bundle":
        proto = read.read_meta_graph_def(located)
        schema, meta_graphs = 0, (legacy.meta_graph(proto, read.ops_of_message(proto) if ops else None),)
    elif located.format == "saved_model_pbtxt":
        schema, protos = read.read_pbtxt(located)
        meta_graphs = tuple(
            convert.meta_graph(mg, read.ops_of_message(mg) if ops else None, functions, mg.HasField("object_graph_def"))
            for mg in protos
        )
    else:
        schema, raw = read.read_pb(located, ops, functions)
        meta_graphs = tuple(convert.meta_graph(mg, op_names, functions, tf2) for mg, op_names, tf2 in raw)
    return SavedModelInfo(
        path=path,
        source=located.display,
        format=located.format,
        schema_version=schema,
        meta_graphs=meta_graphs,
        version=located.version,
        other_versions=located.other_versions,
        notes=located.notes,
    )
