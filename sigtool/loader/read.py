"""Read SavedModel files into protobuf messages, decoding only what is asked for.

Binary files go through a fast path: the wire format is walked and only the
fields a command needs are decoded; graph bytes are skipped (or, for the op
list, only node headers are read), so the cost does not grow with the size of
constants in the graph.
"""

from __future__ import annotations

import errno
import mmap
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, cast

from sigtool import wire
from sigtool.errors import LoadError
from sigtool.loader import decode, object_graph, utf8
from sigtool.loader.fields import (
    AttrValue,
    FunctionDef,
    FunctionDefLibrary,
    GraphDef,
    MapEntry,
    MetaGraphDef,
    NameAttrList,
    NodeDef,
    OpDef,
    SavedModel,
)
from sigtool.loader.paths import PB, Located
from sigtool.model import Graph, MetaGraph
from sigtool.ops import CALL_OPS

if TYPE_CHECKING:  # remote models only
    from sigtool.loader.source import RangedBuffer

# The largest message protobuf parses (2 GiB - 1); files that must be parsed whole may not be larger.
PROTOBUF_LIMIT = 2**31 - 1

_SM_SCHEMA_VERSION, _SM_META_GRAPHS = SavedModel.saved_model_schema_version, SavedModel.meta_graphs


@contextmanager
def mapped(located: Located) -> Iterator[bytes | mmap.mmap | RangedBuffer]:
    """The file's bytes, memory-mapped so that skipped fields are never read from disk (a remote file: by range)."""
    if located.fs is not None:
        yield located.fs.buffer(cast(PurePosixPath, located.file))  # remote: always a PurePosixPath
        return
    try:
        fd = os.open(located.file, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block until a writer comes
    except OSError as e:
        raise LoadError(_open_error(located.display, e)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LoadError(_not_regular(located.display, st.st_mode))
        size = st.st_size
        if size == 0:
            yield b""
            return
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mm:
            yield mm
    except OSError as e:
        raise LoadError(_open_error(located.display, e)) from None
    finally:
        os.close(fd)


def _not_regular(display: str, mode: int) -> str:
    if stat.S_ISDIR(mode):
        return f"{display} is a directory, not a file; the SavedModel file must be a regular file"
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"{display} is {kind}, not a regular file; the SavedModel file must be a regular file"


def _open_error(display: str, e: OSError) -> str:
    if e.errno == errno.EISDIR or os.path.isdir(display):
        return f"{display} is a directory, not a file; the SavedModel file must be a regular file"
    if e.errno == errno.ELOOP:
        return f"{display} is a symbolic link loop; point it at the real file"
    if e.errno == errno.ENOENT and os.path.islink(display):
        return f"{display} is a dangling symbolic link (to {os.readlink(display)}); restore the file it points to"
    return f"cannot read {display}: {e.strerror}"


def read_pb(located: Located, *, ops: bool, functions: bool, graph: bool) -> tuple[int, tuple[MetaGraph, ...]]:
    """A binary saved_model.pb, through the fast path."""
    with mapped(located) as buf:
        return read_bytes(buf, located.display, ops=ops, functions=functions, graph=graph)


def read_bytes(buf, display: str, *, ops: bool, functions: bool, graph: bool) -> tuple[int, tuple[MetaGraph, ...]]:
    """The schema version and each MetaGraph of a serialized SavedModel, decoding only what is asked for.

    ops: the op names the graph uses (node headers only); functions: TF2
    function signatures from the object graph; graph: nodes and function
    library, for `check`.
    """
    schema, ranges, unknown = _top_level(buf, display)
    if not ranges:
        raise LoadError(_no_meta_graph(display, len(buf), unknown))
    meta_graphs = []
    for index, (start, end) in enumerate(ranges):
        where = f"{display} is not a valid SavedModel: MetaGraph #{index + 1}"
        path = f"meta_graphs[{index}]"
        try:
            parts = decode.meta_graph(buf, start, end, path)
            listing = functions and parts.object_graph
            if listing:
                from sigtool.loader import load_order  # show --all only
            mg = MetaGraph(
                tags=tuple(parts.tags),
                signatures=parts.signatures,
                tensorflow_version=parts.tensorflow_version,
                tensorflow_git_version=parts.tensorflow_git_version,
                stripped_default_attrs=parts.stripped_default_attrs,
                has_object_graph=bool(parts.object_graph),
                asset_files=parts.asset_files,
                ops=_ops_of_graph(buf, parts.graph, path) if ops else None,
                functions=object_graph.functions(
                    buf, parts.object_graph, f"{path}.object_graph_def", load_order.ranks(buf, parts.graph)
                )
                if listing
                else None,
                collection_keys=parts.collection_keys,
                has_saver=parts.has_saver,
            )
        except object_graph.TooLarge as e:
            raise LoadError(f"{display}: MetaGraph #{index + 1}: {e}") from None
        except decode.TooDeep:
            raise LoadError(
                f"{where} nests messages deeper than protobuf's limit of 100, which TensorFlow also rejects"
            ) from None
        except wire.WireError as e:
            raise LoadError(f"{where} is corrupt ({e})") from None
        if graph:
            mg = replace(mg, graph=_graph(buf, parts.graph, where, path))
            _check_strings(buf, start, end, path)
        meta_graphs.append(mg)
    return schema, tuple(meta_graphs)


def _graph(buf, ranges, where: str, path: str) -> Graph:
    from google.protobuf import message as pb_message

    from sigtool.loader import graph as graph_reader  # check only: imports protobuf

    try:
        return graph_reader.from_wire_ranges(buf, ranges, f"{path}.graph_def")
    except (wire.WireError, pb_message.DecodeError) as e:
        detail = f" ({e})" if isinstance(e, wire.WireError) else ""
        raise LoadError(f"{where}: its graph is corrupt{detail}") from None


def _check_strings(buf, start: int, end: int, path: str) -> None:
    """Every string field of the MetaGraphDef outside its graph (the graph reader checks that), for check."""
    from google.protobuf import message as pb_message

    from sigtool._proto import meta_graph_pb2

    rest = b"".join(
        bytes(buf[f.start : f.end]) for f in wire.iter_fields(buf, start, end) if f.number != MetaGraphDef.graph_def
    )
    # corrupt in another way: what check reads was decoded leniently, as before
    with suppress(pb_message.DecodeError, RecursionError):
        utf8.parse(meta_graph_pb2.MetaGraphDef, rest, path)


def _top_level(buf, display: str) -> tuple[int, list[tuple[int, int]], list[int]]:
    schema, ranges, unknown = 0, [], []
    try:
        for f in wire.iter_fields(buf):
            if f.number == _SM_SCHEMA_VERSION and f.wire_type == wire.VARINT:
                schema = f.varint
            elif f.number == _SM_META_GRAPHS and f.wire_type == wire.LEN:
                ranges.append((f.value_start, f.end))
            elif f.number == _SM_SCHEMA_VERSION and not ranges and _is_node_def(buf, f):
                raise LoadError(
                    f"{display} is a GraphDef (a graph such as a frozen graph), not a SavedModel: it has no MetaGraphs "
                    "or signatures; export a SavedModel from the model with tf.saved_model.save"
                )
            elif f.number in (_SM_SCHEMA_VERSION, _SM_META_GRAPHS):
                raise LoadError(
                    f"{display} is not a valid SavedModel: field {f.number} "
                    f"({'saved_model_schema_version' if f.number == _SM_SCHEMA_VERSION else 'meta_graphs'}) "
                    f"has the wrong wire type {f.wire_type} at byte {f.start}"
                    + ("; is it a GraphDef or another protobuf saved under this name?" if not ranges else "")
                )
            else:
                unknown.append(f.number)
    except wire.WireError as e:
        raise LoadError(f"{display} is not a valid SavedModel ({_size(len(buf))}): {e}{_looks_like(buf)}") from None
    return schema, ranges, unknown


def _is_node_def(buf, f: wire.Field) -> bool:
    """Whether a length-delimited field 1 reads as a GraphDef's first NodeDef (a name and an op)."""
    if f.wire_type != wire.LEN:
        return False
    try:
        header = {NodeDef.name, NodeDef.op}
        texts = {
            g.number
            for g in wire.iter_fields(buf, f.value_start, f.end)
            if g.number in header and g.wire_type == wire.LEN
        }
    except wire.WireError:
        return False
    return texts == header


def _no_meta_graph(display: str, size: int, unknown: list[int]) -> str:
    if size == 0:
        return f"{display} is empty (0 bytes): it holds no MetaGraph; re-export the model"
    if unknown:
        return (
            f"{display} is not a SavedModel: it holds no MetaGraph, only fields a SavedModel does not have "
            "(another protobuf, such as a GraphDef, saved under this name?)"
        )
    return f"{display} holds no MetaGraph ({_size(size)}); the file is truncated or was written empty"


def _looks_like(buf) -> str:
    """A hint about what the bytes are instead, when that is easy to tell."""
    head = bytes(buf[:256])
    if head.isascii() and all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        return (
            f"; it holds text ({head[:60].decode().strip()!r}), not protobuf bytes "
            "(a symbolic link copied as a plain file?)"
        )
    if head.startswith(b"\x89HDF"):
        return "; it is an HDF5 file (a Keras .h5 model?), not a SavedModel"
    return "; the file is corrupt or truncated"


def _size(n: int) -> str:
    return f"{n} byte" + ("" if n == 1 else "s")


def read_pbtxt(located: Located, *, ops: bool, functions: bool, graph: bool) -> tuple[int, tuple[MetaGraph, ...]]:
    """A text saved_model.pbtxt: parsed by protobuf, then read like a binary file."""
    from google.protobuf import text_format

    from sigtool._proto import saved_model_pb2

    with mapped(located) as buf:
        if len(buf) > PROTOBUF_LIMIT:
            raise LoadError(
                f"{located.display} is {_size(len(buf))}: text SavedModels over 2 GiB are not read, as the text "
                f"must be parsed whole in memory (no fast path); convert it to a binary {PB}"
            )
        raw = bytes(buf)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LoadError(
            f"{located.display} is not text (byte {e.start} is not UTF-8); a binary SavedModel must be named {PB}"
        ) from None
    # Parsed into a twin whose string fields are bytes, so that a string that is not UTF-8 ("\\377") is
    # read on and noted by the fast path, as in a binary file (protobuf's own text parser stops there).
    model = utf8.lenient_class(saved_model_pb2.SavedModel.DESCRIPTOR)()
    try:
        text_format.Parse(text, model, allow_unknown_extension=False)
    except (text_format.ParseError, ValueError) as e:  # ValueError: a number out of its field's range
        message = str(e).replace("sigtool.tf.", "tensorflow.")  # name TF's schema, not our copy of it
        other = _other_text_message(text)
        if other:
            raise LoadError(f"{located.display} is {other} ({message})") from None
        raise LoadError(f"{located.display} is not a valid text SavedModel: {message}") from None
    except RecursionError:
        raise LoadError(f"{located.display}: messages nested too deeply") from None
    if not model.meta_graphs:
        raise LoadError(f"{located.display} holds no MetaGraph; re-export the model")
    return read_bytes(model.SerializeToString(), located.display, ops=ops, functions=functions, graph=graph)


_GRAPH_DEF_FIELDS = {"node", "library", "versions", "version"}
_META_GRAPH_DEF_FIELDS = {
    "meta_info_def",
    "graph_def",
    "saver_def",
    "collection_def",
    "signature_def",
    "asset_file_def",
    "object_graph_def",
}


def _other_text_message(text: str) -> str | None:
    """What a text protobuf that is not a SavedModel is, from its first field; None when unclear."""
    import re

    body = re.sub(r"#[^\n]*", "", text)
    match = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)", body)
    first = match.group(1) if match else ""
    if first in _GRAPH_DEF_FIELDS:
        return (
            "a GraphDef (a graph in text format, such as a frozen graph), not a SavedModel: it has no MetaGraphs "
            "or signatures; export a SavedModel from the model with tf.saved_model.save"
        )
    if first in _META_GRAPH_DEF_FIELDS:
        return "a MetaGraphDef in text format, not a SavedModel: wrap it as meta_graphs { ... } in a saved_model.pbtxt"
    return None


# --- ops used by a graph --------------------------------------------------------------


def _ops_of_graph(buf, graph_ranges, path: str = "meta_graphs[0]") -> tuple[str, ...]:
    """Ops used by a serialized GraphDef, as TF's ops_used_by_graph_def computes them.

    Only node headers (op, and the called function of *PartitionedCall nodes) are
    decoded; attribute values such as constant tensors are skipped.
    """
    nodes: list[tuple[str, str]] = []  # (op, called function)
    functions: dict[str, list[tuple[str, str]]] = {}
    count = 0
    for f in (f for start, end in graph_ranges for f in wire.iter_fields(buf, start, end)):
        if f.number == GraphDef.node and f.wire_type == wire.LEN:
            nodes.append(_node_header(buf, f.value_start, f.end, f"{path}.graph_def.node[{len(nodes)}]"))
        elif f.number == GraphDef.library and f.wire_type == wire.LEN:
            for fn in wire.iter_fields(buf, f.value_start, f.end):
                if fn.number == FunctionDefLibrary.function and fn.wire_type == wire.LEN:
                    name, body = _function_def(
                        buf, fn.value_start, fn.end, f"{path}.graph_def.library.function[{count}]"
                    )
                    functions.setdefault(name, body)
                    count += 1
    return _used_ops(nodes, functions)


def _used_ops(nodes, functions) -> tuple[str, ...]:
    used: set[str] = set()
    pending = list(nodes)
    while pending:
        op, called = pending.pop()
        for name in (op, called) if called else (op,):
            if name not in used and name in functions:
                pending.extend(functions[name])
            used.add(name)
    return tuple(sorted(used - set(functions)))


def _text(buf, f: wire.Field, path: str) -> str:
    return utf8.text(bytes(buf[f.value_start : f.end]), path)


def _node_header(buf, start: int, end: int, path: str) -> tuple[str, str]:
    op = called = ""
    attrs = []
    for f in wire.iter_fields(buf, start, end):
        if f.number == NodeDef.op and f.wire_type == wire.LEN:
            op = _text(buf, f, f"{path}.op")
        elif f.number == NodeDef.attr and f.wire_type == wire.LEN:
            attrs.append(f)
    if op in CALL_OPS:
        for entry in attrs:
            key = value = None
            for f in wire.iter_fields(buf, entry.value_start, entry.end):
                if f.number == MapEntry.key and f.wire_type == wire.LEN:
                    key = wire.text(buf, f)
                elif f.number == MapEntry.value and f.wire_type == wire.LEN:
                    value = f
            if key == "f" and value is not None:
                called = _attr_func_name(buf, value, f"{path}.attr['f'].func.name")
    return op, called


def _attr_func_name(buf, value: wire.Field, path: str) -> str:
    for f in wire.iter_fields(buf, value.value_start, value.end):
        if f.number == AttrValue.func and f.wire_type == wire.LEN:  # a NameAttrList
            for g in wire.iter_fields(buf, f.value_start, f.end):
                if g.number == NameAttrList.name and g.wire_type == wire.LEN:
                    return _text(buf, g, path)
    return ""


def _function_def(buf, start: int, end: int, path: str) -> tuple[str, list[tuple[str, str]]]:
    name = ""
    body: list[tuple[str, str]] = []
    for f in wire.iter_fields(buf, start, end):
        if f.number == FunctionDef.signature and f.wire_type == wire.LEN:  # an OpDef
            for g in wire.iter_fields(buf, f.value_start, f.end):
                if g.number == OpDef.name and g.wire_type == wire.LEN:
                    name = _text(buf, g, f"{path}.signature.name")
        elif f.number == FunctionDef.node_def and f.wire_type == wire.LEN:
            body.append(_node_header(buf, f.value_start, f.end, f"{path}.node_def[{len(body)}]"))
    return name, body
