"""A saved TF Serving GetModelMetadata response (REST `GET /v1/models/NAME[/versions/N]/metadata`) as
sigtool.model data, so that `diff` compares it with a SavedModel like any other model.

The body (GET /v1/models/NAME/metadata): {"model_spec": {"name", "signature_name", "version"},
"metadata": {"signature_def": {"signature_def": {KEY: SignatureDef}}}}, printed by protobuf's JSON printer
with proto field names (method_name, tensor_shape) or, from other printers, JSON names (methodName,
tensorShape): both are read. What a response holds is the served MetaGraph's signatures only: no tags, no
graph, no ops, no TensorFlow version.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from sigtool.errors import LoadError
from sigtool.loader.dtypes import dtype_name, type_spec_class_name
from sigtool.model import (
    SERVE_TAG,
    CompositeSpec,
    MetaGraph,
    SavedModelInfo,
    Signature,
    SparseNames,
    TensorSpec,
    signature_order,
)

FORMAT = "metadata_json"
_MAX_BYTES = 256 * 1024 * 1024


def looks_like_metadata(path: str) -> bool:
    """A file named *.json, or one whose first non-blank byte is '{' (no SavedModel file starts so)."""
    p = Path(path)
    if not p.is_file():
        return False
    if p.suffix.lower() == ".json":
        return True
    try:
        with open(p, "rb") as f:
            head = f.read(64).lstrip()
    except OSError:
        return False
    return head.startswith(b"{")


def read(path: str, tags: tuple[str, ...] | None = None) -> SavedModelInfo:
    """The response at path as a model with one MetaGraph tagged `tags` (default serve: what Serving loads)."""
    try:
        with open(path, "rb") as f:
            data = f.read(_MAX_BYTES + 1)
    except OSError as e:
        raise LoadError(f"{path}: cannot read the file ({e.strerror})") from None
    if len(data) > _MAX_BYTES:
        raise LoadError(f"{path}: over {_MAX_BYTES // 2**20} MiB; a metadata response is far smaller")
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise LoadError(f"{path}: not valid JSON ({e}); expected a saved GetModelMetadata response") from None
    return parse(body, path, tags)


def parse(body, path: str, tags: tuple[str, ...] | None = None) -> SavedModelInfo:
    """A decoded response body as a SavedModelInfo; LoadError naming the part that is not what Serving writes."""
    if not isinstance(body, dict) or not ({"metadata", "model_spec"} & body.keys()):
        raise LoadError(
            f'{path}: not a GetModelMetadata response (expected a JSON object with "model_spec" '
            'and "metadata", as GET /v1/models/NAME/metadata returns)'
        )
    spec = _object(body.get("model_spec", {}), path, "model_spec")
    metadata = _object(body.get("metadata"), path, "metadata")
    if "signature_def" not in metadata:
        raise LoadError(f'{path}: metadata has no "signature_def" (the only metadata field Serving returns)')
    outer = _object(metadata["signature_def"], path, "metadata.signature_def")
    sig_map = outer.get("signature_def", outer.get("signatureDef", {}))  # SignatureDefMap.signature_def
    sig_map = _object(sig_map, path, "metadata.signature_def.signature_def")
    signatures = []
    for key, value in sig_map.items():
        if key == "@type":
            continue
        signatures.append(_signature(key, value, path, f"metadata.signature_def.signature_def.{key}"))
    signatures.sort(key=lambda s: signature_order(s.key))
    version = spec.get("version")
    return SavedModelInfo(
        path=path,
        source=path,
        format=FORMAT,
        schema_version=0,
        meta_graphs=(MetaGraph(tags=tuple(tags) if tags else (SERVE_TAG,), signatures=tuple(signatures)),),
        version=None if version is None else str(version),
    )


def _object(value, path: str, where: str) -> dict:
    if not isinstance(value, dict):
        raise LoadError(f"{path}: {where} is not a JSON object")
    return value


def _field(obj: dict, name: str, default=None):
    """A field by its proto name (method_name) or its JSON name (methodName)."""
    if name in obj:
        return obj[name]
    head, *rest = name.split("_")
    return obj.get(head + "".join(p.title() for p in rest), default)


def _signature(key: str, value, path: str, where: str) -> Signature:
    value = _object(value, path, where)
    method = _field(value, "method_name", "")
    if not isinstance(method, str):
        raise LoadError(f"{path}: {where}.method_name is not a string")
    io = {}
    for part in ("inputs", "outputs"):
        tensors = _object(value.get(part, {}), path, f"{where}.{part}")
        io[part] = tuple(
            sorted((_tensor(k, v, path, f"{where}.{part}.{k}") for k, v in tensors.items()), key=lambda t: t.key)
        )
    defaults = _object(value.get("defaults", {}), path, f"{where}.defaults")
    return Signature(key, method, io["inputs"], io["outputs"], defaults=tuple(sorted(defaults)))


def _dtype(value, path: str, where: str) -> str:
    if value is None:
        return "DT_INVALID"
    if isinstance(value, int) and not isinstance(value, bool):
        return dtype_name(value)
    if isinstance(value, str) and value.startswith("DT_"):
        return value
    raise LoadError(f"{path}: {where}.dtype {value!r} is not a DataType")


def _shape(value, path: str, where: str) -> tuple[int, ...] | None:
    value = _object(value, path, f"{where}.tensor_shape")
    if _field(value, "unknown_rank", False) is True:
        return None
    dims = []
    for dim in value.get("dim", []):
        size = _object(dim, path, f"{where}.tensor_shape.dim").get("size", 0)  # int64: a string in JSON
        try:
            dims.append(int(size))
        except (TypeError, ValueError):
            raise LoadError(f"{path}: {where}.tensor_shape dim size {size!r} is not an integer") from None
    return tuple(dims)


def _tensor(key: str, value, path: str, where: str) -> TensorSpec:
    value = _object(value, path, where)
    dtype = _dtype(value.get("dtype"), path, where)
    raw_shape = _field(value, "tensor_shape")
    shape = () if raw_shape is None else _shape(raw_shape, path, where)
    dim_names: tuple[str, ...] = ()
    if raw_shape is not None:
        names = tuple(str(d.get("name", "")) for d in raw_shape.get("dim", []) if isinstance(d, dict))
        dim_names = names if any(names) else ()
    common = TensorSpec(
        key=key, dtype=dtype, shape=shape, shape_present=raw_shape is not None, encoding="", dim_names=dim_names
    )
    sparse = _field(value, "coo_sparse")
    composite = _field(value, "composite_tensor")
    if sparse is not None:
        sparse = _object(sparse, path, f"{where}.coo_sparse")
        parts = ("values", "indices", "dense_shape")
        sparse_names = SparseNames(*(str(_field(sparse, f"{n}_tensor_name", "")) for n in parts))
        return replace(common, encoding="coo_sparse", sparse=sparse_names)
    if composite is not None:
        composite = _object(composite, path, f"{where}.composite_tensor")
        spec = _object(_field(composite, "type_spec", {}), path, f"{where}.composite_tensor.type_spec")
        spec_class = _field(spec, "type_spec_class", "UNKNOWN")
        if isinstance(spec_class, int):
            spec_class = type_spec_class_name(spec_class)
        components = tuple(
            _tensor(str(i), c, path, f"{where}.composite_tensor.components[{i}]")
            for i, c in enumerate(composite.get("components", []))
        )
        flat = int(_field(spec, "num_flat_components", 0) or 0)
        comp = CompositeSpec(str(spec_class), str(_field(spec, "type_spec_class_name", "")), flat, components)
        return replace(common, encoding="composite_tensor", composite=comp)
    name = value.get("name")
    if name is None:
        return common
    return replace(common, encoding="name", name=str(name))
