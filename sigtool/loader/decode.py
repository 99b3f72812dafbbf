"""Decode the parts of a MetaGraphDef that `show` needs, straight from the wire.

No protobuf import: this is what keeps `show` instant. It follows protobuf's
rules where they matter for reading a SavedModel: a message field that
appears several times is merged (its occurrences are read in order as one
stream), the last scalar wins, the last member of a oneof wins, and nesting
deeper than protobuf's limit is refused, as TensorFlow refuses it.
Field numbers are TensorFlow's, named in fields.py (checked against sigtool's
descriptors by tests/test_field_numbers.py).
"""

from __future__ import annotations

from sigtool import wire
from sigtool.loader import fields as pb  # field numbers, by message
from sigtool.loader import utf8
from sigtool.loader.dtypes import dtype_name, type_spec_class_name
from sigtool.model import (
    AssetFile,
    CompositeSpec,
    Signature,
    SparseNames,
    TensorSpec,
    signature_order,
)

# protobuf (upb) parses 100 levels of messages below the root, and no more.
DEPTH_LIMIT = 100

Ranges = list[tuple[int, int]]


class TooDeep(wire.WireError):
    """Messages nested deeper than protobuf (and so TensorFlow) accepts."""


def _fields(buf, ranges: Ranges, depth: int):
    if depth > DEPTH_LIMIT:
        raise TooDeep(f"messages nested deeper than protobuf's limit of {DEPTH_LIMIT}")
    for start, end in ranges:
        yield from wire.iter_fields(buf, start, end)


def _len(f: wire.Field) -> bool:
    return f.wire_type == wire.LEN


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _text(buf, f: wire.Field, path) -> str:
    """A string field (path: its path, or a callable that builds it); invalid UTF-8 is noted and replaced."""
    return utf8.text(bytes(buf[f.value_start : f.end]), path)


def _map_entries(buf, entries: list[wire.Field], depth: int, path: str) -> dict[str, tuple[Ranges, str]]:
    """map<string, Message>: key -> (the value's ranges, the entry's path); a repeated key: the last entry wins."""
    result: dict[str, tuple[Ranges, str]] = {}
    for entry in entries:
        raw, value = b"", []
        for f in _fields(buf, [(entry.value_start, entry.end)], depth):
            if f.number == pb.MapEntry.key and _len(f):
                raw = bytes(buf[f.value_start : f.end])
            elif f.number == pb.MapEntry.value and _len(f):
                value.append((f.value_start, f.end))
        where = path + utf8.key(raw)
        result[utf8.text(raw, where)] = (value, where)
    return result


# --- MetaGraphDef ---------------------------------------------------------------------------


class MetaGraphParts:
    """What `show` reads of one MetaGraphDef; plain values, built by meta_graph()."""

    def __init__(self):
        self.tags: list[str] = []
        self.tensorflow_version = ""
        self.tensorflow_git_version = ""
        self.stripped_default_attrs = False
        self.signatures: tuple[Signature, ...] = ()
        self.asset_files: tuple[AssetFile, ...] = ()
        self.has_saver = False
        self.collection_keys: tuple[str, ...] = ()
        self.object_graph: Ranges = []
        self.graph: Ranges = []


def meta_graph(buf, start: int, end: int, path: str = "meta_graphs[0]") -> MetaGraphParts:
    """One MetaGraphDef (depth 1 below the SavedModel); the graph and object graph are only located.

    path names it in notes of invalid UTF-8 (see utf8.py).
    """
    parts = MetaGraphParts()
    info: Ranges = []
    signatures: list[wire.Field] = []
    collections: list[wire.Field] = []
    assets: list[wire.Field] = []
    for f in _fields(buf, [(start, end)], 1):
        if not _len(f):
            continue
        if f.number == pb.MetaGraphDef.meta_info_def:
            info.append((f.value_start, f.end))
        elif f.number == pb.MetaGraphDef.graph_def:
            parts.graph.append((f.value_start, f.end))
        elif f.number == pb.MetaGraphDef.saver_def:
            parts.has_saver = True
        elif f.number == pb.MetaGraphDef.collection_def:
            collections.append(f)
        elif f.number == pb.MetaGraphDef.signature_def:
            signatures.append(f)
        elif f.number == pb.MetaGraphDef.asset_file_def:
            assets.append(f)
        elif f.number == pb.MetaGraphDef.object_graph_def:
            parts.object_graph.append((f.value_start, f.end))
    _meta_info(buf, info, parts, f"{path}.meta_info_def")
    parts.collection_keys = tuple(sorted(_map_entries(buf, collections, 2, f"{path}.collection_def")))
    parts.signatures = tuple(
        sorted(
            (
                _signature(buf, key, ranges, where)
                for key, (ranges, where) in _map_entries(buf, signatures, 2, f"{path}.signature_def").items()
            ),
            key=lambda s: signature_order(s.key),
        )
    )
    parts.asset_files = tuple(_asset(buf, f, f"{path}.asset_file_def[{i}]") for i, f in enumerate(assets))
    return parts


def _meta_info(buf, ranges: Ranges, parts: MetaGraphParts, path: str) -> None:
    for f in _fields(buf, ranges, 2):
        if f.number == pb.MetaInfoDef.tags and _len(f):
            parts.tags.append(_text(buf, f, f"{path}.tags[{len(parts.tags)}]"))
        elif f.number == pb.MetaInfoDef.tensorflow_version and _len(f):
            parts.tensorflow_version = _text(buf, f, f"{path}.tensorflow_version")
        elif f.number == pb.MetaInfoDef.tensorflow_git_version and _len(f):
            parts.tensorflow_git_version = _text(buf, f, f"{path}.tensorflow_git_version")
        elif f.number == pb.MetaInfoDef.stripped_default_attrs and f.wire_type == wire.VARINT:
            parts.stripped_default_attrs = bool(f.varint)


def _asset(buf, field: wire.Field, path: str) -> AssetFile:
    tensor_name = filename = ""
    for f in _fields(buf, [(field.value_start, field.end)], 2):
        if f.number == pb.AssetFileDef.tensor_info and _len(f):
            for g in _fields(buf, [(f.value_start, f.end)], 3):
                if g.number == pb.TensorInfo.name and _len(g):
                    tensor_name = _text(buf, g, f"{path}.tensor_info.name")
        elif f.number == pb.AssetFileDef.filename and _len(f):
            filename = _text(buf, f, f"{path}.filename")
    return AssetFile(tensor_name, filename)


# --- SignatureDef and TensorInfo ---------------------------------------------------------------


def _signature(buf, key: str, ranges: Ranges, path: str) -> Signature:
    depth = 3  # SavedModel > MetaGraphDef > map entry > SignatureDef
    inputs: list[wire.Field] = []
    outputs: list[wire.Field] = []
    defaults: list[wire.Field] = []
    method = ""
    for f in _fields(buf, ranges, depth):
        if f.number == pb.SignatureDef.inputs and _len(f):
            inputs.append(f)
        elif f.number == pb.SignatureDef.outputs and _len(f):
            outputs.append(f)
        elif f.number == pb.SignatureDef.method_name and _len(f):
            method = _text(buf, f, f"{path}.method_name")
        elif f.number == pb.SignatureDef.defaults and _len(f):
            defaults.append(f)

    def specs(entries, name):
        found = _map_entries(buf, entries, depth + 1, f"{path}.{name}")
        return tuple(tensor_info(buf, k, found[k][0], depth + 2, found[k][1]) for k in sorted(found))

    with_default = tuple(sorted(_map_entries(buf, defaults, depth + 1, f"{path}.defaults")))
    return Signature(
        key=key,
        method_name=method,
        inputs=specs(inputs, "inputs"),
        outputs=specs(outputs, "outputs"),
        defaults=with_default,
    )


_ENCODINGS = {number: name for name, number in vars(pb.TensorInfo).items() if number in pb.TensorInfo.ENCODING}


def tensor_info(buf, key: str, ranges: Ranges, depth: int, path: str = "") -> TensorSpec:
    name, dtype = "", 0
    encoding = ""
    encoding_ranges: Ranges = []
    shape: Ranges = []
    for f in _fields(buf, ranges, depth):
        if f.number in pb.TensorInfo.ENCODING and _len(f):  # the "encoding" oneof: the last member set wins
            member = _ENCODINGS[f.number]
            if member != encoding:
                encoding, encoding_ranges = member, []
            if member == "name":
                name = _text(buf, f, f"{path}.name")
            else:
                encoding_ranges.append((f.value_start, f.end))
        elif f.number == pb.TensorInfo.dtype and f.wire_type == wire.VARINT:
            dtype = _signed32(f.varint)
        elif f.number == pb.TensorInfo.tensor_shape and _len(f):
            shape.append((f.value_start, f.end))
    dims, unknown_rank, dim_names = _shape(buf, shape, depth + 1, f"{path}.tensor_shape")
    sparse = composite = None
    if encoding == "coo_sparse":
        sparse = _coo_sparse(buf, encoding_ranges, depth + 1, f"{path}.coo_sparse")
    elif encoding == "composite_tensor":
        composite = _composite(buf, encoding_ranges, depth + 1, f"{path}.composite_tensor")
    return TensorSpec(
        key=key,
        dtype=dtype_name(dtype),
        shape=None if unknown_rank else dims,
        shape_present=bool(shape),
        encoding=encoding,
        name=name if encoding == "name" else "",
        sparse=sparse,
        composite=composite,
        dim_names=dim_names if any(dim_names) else (),
    )


def _shape(buf, ranges: Ranges, depth: int, path: str) -> tuple[tuple[int, ...], bool, tuple[str, ...]]:
    dims: list[tuple[int, str]] = []
    unknown_rank = False
    for f in _fields(buf, ranges, depth):
        if f.number == pb.TensorShapeProto.dim and _len(f):
            size, dim_name = 0, ""
            for g in _fields(buf, [(f.value_start, f.end)], depth + 1):
                if g.number == pb.Dim.size and g.wire_type == wire.VARINT:
                    size = _signed64(g.varint)
                elif g.number == pb.Dim.name and _len(g):
                    dim_name = _text(buf, g, f"{path}.dim[{len(dims)}].name")
            dims.append((size, dim_name))
        elif f.number == pb.TensorShapeProto.unknown_rank and f.wire_type == wire.VARINT:
            unknown_rank = bool(f.varint)
    return tuple(d for d, _ in dims), unknown_rank, tuple(n for _, n in dims)


_COO_FIELDS = ("values_tensor_name", "indices_tensor_name", "dense_shape_tensor_name")  # SparseNames' order
_COO_NUMBERS = {getattr(pb.CooSparse, name): i for i, name in enumerate(_COO_FIELDS)}


def _coo_sparse(buf, ranges: Ranges, depth: int, path: str) -> SparseNames:
    names = ["", "", ""]
    for f in _fields(buf, ranges, depth):
        if f.number in _COO_NUMBERS and _len(f):
            i = _COO_NUMBERS[f.number]
            names[i] = _text(buf, f, f"{path}.{_COO_FIELDS[i]}")
    return SparseNames(*names)


def _composite(buf, ranges: Ranges, depth: int, path: str) -> CompositeSpec:
    type_spec: Ranges = []
    components: list[TensorSpec] = []
    for f in _fields(buf, ranges, depth):
        if f.number == pb.CompositeTensor.type_spec and _len(f):
            type_spec.append((f.value_start, f.end))
        elif f.number == pb.CompositeTensor.components and _len(f):
            index = len(components)
            components.append(
                tensor_info(buf, str(index), [(f.value_start, f.end)], depth + 1, f"{path}.components[{index}]")
            )
    spec_class, class_name, flat = 0, "", 0
    for f in _fields(buf, type_spec, depth + 1) if type_spec else ():
        if f.number == pb.TypeSpecProto.type_spec_class and f.wire_type == wire.VARINT:
            spec_class = _signed32(f.varint)
        elif f.number == pb.TypeSpecProto.type_state and _len(f):
            from sigtool.loader.object_graph import struct_value  # the two modules call each other

            struct_value(buf, [(f.value_start, f.end)], depth + 2, f"{path}.type_spec.type_state")  # depth check only
        elif f.number == pb.TypeSpecProto.type_spec_class_name and _len(f):
            class_name = _text(buf, f, f"{path}.type_spec.type_spec_class_name")
        elif f.number == pb.TypeSpecProto.num_flat_components and f.wire_type == wire.VARINT:
            flat = _signed32(f.varint)
    return CompositeSpec(type_spec_class_name(spec_class), class_name, flat, tuple(components))
