"""From what the user typed to a SavedModelInfo: the only package that decodes protobuf.

    paths    what the user typed -> the one file to read
    read     files -> MetaGraphs, decoding only what a command needs (the fast path)
    decode   the MetaGraphDef parts show needs, straight from the wire (no protobuf import)
    graph    nodes and function library, for check (protobuf for small nodes)
    files    variables/, assets/, warmup requests beside the model, for check
    legacy   SessionBundle exports (export.meta) and their signature conversion
"""

from __future__ import annotations

from sigtool.errors import LoadError
from sigtool.loader import read
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
    if located.format == "session_bundle":
        from sigtool.loader import legacy  # rare, and needs protobuf

        return (legacy.read(located, ops=ops, graph=graph),), 0
    reader = read.read_pbtxt if located.format == "saved_model_pbtxt" else read.read_pb
    schema, meta_graphs = reader(located, ops=ops, functions=functions, graph=graph)
    return meta_graphs, schema
