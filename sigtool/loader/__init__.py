"""From what the user typed to a SavedModelInfo: the only package that decodes protobuf.

paths    what the user typed -> the one file to read
read     files -> MetaGraphs, decoding only what a command needs (the fast path)
decode   the MetaGraphDef parts show needs, straight from the wire (no protobuf import)
graph    nodes and function library, for check (protobuf for small nodes)
files    variables/, assets/, warmup requests beside the model, for check
legacy   SessionBundle exports (export.meta) and their signature conversion
utf8     string fields that are not UTF-8 (TF refuses the file): noted with their paths
load_order  the order tf.saved_model.load creates functions in (saved_model_cli's listing)
remote   s3://, gs://, http(s):// models through fsspec (imported only for a URL); source: ranged reads
many     glob patterns over models, local or remote, and a bounded pool to read many at once
fetch    a remote model downloaded to a temporary directory, for run
"""

from __future__ import annotations

from sigtool.errors import LoadError
from sigtool.loader import read, utf8
from sigtool.loader.paths import is_url, locate, model_versions
from sigtool.model import MetaGraph, SavedModelInfo

__all__ = [
    "DEFAULT_JOBS",
    "download_model",
    "expand_models",
    "invalid_utf8_error",
    "is_url",
    "load",
    "local_copy",
    "locate",
    "model_versions",
    "run_all",
]

DEFAULT_JOBS = 16  # concurrent model reads for several MODELs (--jobs)


def expand_models(patterns, jobs: int = DEFAULT_JOBS) -> list[str]:
    """MODEL arguments with glob patterns ('s3://bucket/models/*', 'models/*') expanded to the models they match."""
    from sigtool.loader import many  # only for several MODELs

    return many.expand_models(patterns, jobs)


def run_all(fn, items, jobs: int = DEFAULT_JOBS):
    """fn over items, at most `jobs` at once: [(item, result, error)] in order (see sigtool.loader.many)."""
    from sigtool.loader import many

    return many.run_all(fn, items, jobs)


def local_copy(info: SavedModelInfo, progress: bool | None = None):
    """Context manager: info as is when local; else info whose source is in a downloaded copy, removed after."""
    from sigtool.loader import fetch  # run on a remote model only

    return fetch.local_copy(info, progress)


def download_model(url: str, dest: str, *, progress: bool = False) -> dict[str, int]:
    """Copy a remote SavedModel directory into dest, checking every file's size; relative path -> size."""
    from sigtool.loader import fetch

    return fetch.download_model(url, dest, progress=progress)


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
        with utf8.collecting() as invalid:
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
        invalid_utf8=tuple(_relative(p, located.format) for p in invalid),
    )


def invalid_utf8_error(info: SavedModelInfo) -> LoadError | None:
    """The error for a file with string fields that are not UTF-8 (exit 3), or None."""
    if not info.invalid_utf8:
        return None
    first, more = info.invalid_utf8[0], len(info.invalid_utf8) - 1
    return LoadError(
        f"{info.source}: TensorFlow will not parse this file: string field {first} is not valid UTF-8"
        + (f" (and {more} more)" if more else "")
        + "; TensorFlow and TF Serving refuse the whole file; re-export the model with UTF-8 strings"
    )


def _relative(path: str, fmt: str) -> str:
    """A legacy export.meta is one MetaGraphDef: its paths start there."""
    return path[len("meta_graphs[0].") :] if fmt == "session_bundle" and path.startswith("meta_graphs[0].") else path


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
