"""From what the user typed to a SavedModelInfo: the only package that decodes protobuf.

    paths    what the user typed -> the one file to read
    wire     walking the protobuf wire format without decoding
    read     files -> protobuf messages, decoding only what a command needs
    convert  messages -> sigtool.model dataclasses (functions, legacy: the special parts)
"""

from __future__ import annotations

from sigtool.errors import LoadError
from sigtool.loader import convert, legacy, read
from sigtool.loader.paths import locate, model_versions
from sigtool.model import MetaGraph, SavedModelInfo

__all__ = ["load", "locate", "model_versions"]


def load(
    path: str, *, version: str | None = None, ops: bool = False, functions: bool = False, graph: bool = False
) -> SavedModelInfo:
    """Read the SavedModel at `path` (see sigtool.loader.paths for what `path` may be).

    ops: also list the ops each MetaGraph uses (reads graph node headers only).
    functions: also read TF2 function signatures from the object graph.
    graph: also read nodes, the function library and the files beside the model (for check).
    """
    located = locate(path, version)
    try:
        meta_graphs, schema = _meta_graphs(located, ops, functions, graph)
    except RecursionError:
        raise LoadError(f"{located.display}: messages are nested too deeply to read") from None
    return SavedModelInfo(
        path=path,
        source=located.display,
        format=located.format,
        schema_version=schema,
        meta_graphs=meta_graphs,
        version=located.version,
        other_versions=located.other_versions,
        files=_files(located) if graph else None,
        notes=located.notes,
    )


def _files(located):
    from sigtool.loader import files  # check only: keeps show's start-up small

    return files.read(located)


def _meta_graphs(located, ops: bool, functions: bool, graph: bool) -> tuple[tuple[MetaGraph, ...], int]:
    from sigtool.loader import graph as graph_reader

    if located.format == "session_bundle":
        proto = read.read_meta_graph_def(located)
        mg = legacy.meta_graph(proto, read.ops_of_message(proto) if ops else None)
        if graph:
            mg = convert.with_graph(mg, proto, graph_reader.from_message(proto.graph_def))
        return (mg,), 0
    if located.format == "saved_model_pbtxt":
        schema, protos = read.read_pbtxt(located)
        raws = [
            read.RawMetaGraph(
                mg,
                mg.HasField("object_graph_def"),
                read.ops_of_message(mg) if ops else None,
                graph_reader.from_message(mg.graph_def) if graph else None,
            )
            for mg in protos
        ]
    else:
        schema, raws = read.read_pb(located, ops=ops, functions=functions, graph=graph)
    return tuple(convert.meta_graph(raw, functions) for raw in raws), schema
