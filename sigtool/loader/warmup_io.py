"""Warmup files (assets.extra/tf_serving_warmup_requests) written and listed record by record.

Writing: plain request data -> the PredictionLog protos Serving's REST handler would have built
(PredictLog with a PredictRequest of TensorProtos; ClassifyLog / RegressLog with an Input of tf.Examples)
-> TFRecord framing (sigtool.loader.tfrecord). Listing: the same, backwards, for `sigtool warmup show`;
check's SERVE006 reads these files through sigtool.loader.files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sigtool.loader import tfrecord

if TYPE_CHECKING:  # the loader reads a Tensor's dtype, shape and values; it never imports the serving layer
    from sigtool.serving.values import Tensor

MAX_RECORDS = 1000  # Serving's kMaxNumRecords

# dtype -> the TensorProto field Serving's JSON codec fills (json_tensor.cc AddValueToTensor)
_VALUE_FIELDS = {
    "DT_FLOAT": "float_val",
    "DT_DOUBLE": "double_val",
    "DT_INT32": "int_val",
    "DT_INT16": "int_val",
    "DT_INT8": "int_val",
    "DT_UINT8": "int_val",
    "DT_INT64": "int64_val",
    "DT_UINT32": "uint32_val",
    "DT_UINT64": "uint64_val",
    "DT_BOOL": "bool_val",
    "DT_STRING": "string_val",
}
_METHODS = {
    "predict_log": "predict",
    "classify_log": "classify",
    "regress_log": "regress",
    "multi_inference_log": "multi_inference",
    "predict_streamed_log": "predict_streamed",
    "session_run_log": "session_run",
}


# --- writing ---------------------------------------------------------------------------------


def predict_record(model_name: str, signature_name: str, inputs: Mapping[str, Tensor]) -> bytes:
    """A serialized PredictionLog holding a PredictLog whose request carries these tensors."""
    from sigtool._proto import prediction_log_pb2, types_pb2

    log = prediction_log_pb2.PredictionLog()
    request = log.predict_log.request
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    for key in sorted(inputs):
        tensor = inputs[key]
        proto = request.inputs[key]
        proto.dtype = types_pb2.DataType.Value(tensor.dtype)
        for size in tensor.shape:
            proto.tensor_shape.dim.add().size = size
        field = _VALUE_FIELDS.get(tensor.dtype)
        if field is None:
            raise ValueError(f"Serving's REST API cannot carry {tensor.dtype}")
        getattr(proto, field).extend(tensor.values)
    return log.SerializeToString(deterministic=True)


def examples_record(
    method: str, model_name: str, signature_name: str, examples: Iterable[bytes], context: bytes | None
) -> bytes:
    """A serialized PredictionLog with a ClassifyLog (method "classify") or RegressLog ("regress").

    examples / context are serialized tf.Examples; a context makes the Input an example_list_with_context,
    as Serving's REST handler does when the body has "context".
    """
    from sigtool._proto import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    request = (log.classify_log if method == "classify" else log.regress_log).request
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if context is None:
        target = request.input.example_list
    else:
        target = request.input.example_list_with_context
        target.context.ParseFromString(context)
    for example in examples:
        target.examples.add().ParseFromString(example)
    return log.SerializeToString(deterministic=True)


def write_file(path: str | os.PathLike, records: Iterable[bytes]) -> int:
    """Write the records as one TFRecord file, replacing `path` only once all are written; returns bytes written."""
    path = Path(path)
    data = b"".join(tfrecord.frame(r) for r in records)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return len(data)


# --- listing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarmupTensor:
    key: str
    dtype: str  # DataType enum name
    shape: tuple[int, ...] | None  # None: unknown rank or no shape


@dataclass(frozen=True)
class WarmupEntry:
    number: int  # 1-based, as errors and check name records
    log_type: str  # "predict_log", "classify_log", ...; "" when unset
    method: str  # "predict", "classify", "regress", "multi_inference", ...; "" when unset
    model_name: str
    signature_name: str  # as the request gives it ("" = serving_default)
    inputs: tuple[WarmupTensor, ...] = ()  # predict: the request's tensors, sorted by key
    batch_size: int | None = None  # predict: dim 0 shared by every input; classify/regress: examples
    context: bool = False  # classify/regress: example_list_with_context


@dataclass(frozen=True)
class WarmupListing:
    path: str
    records: tuple[WarmupEntry, ...]
    error: str = ""  # why reading stopped (framing, CRC, a record that does not parse), naming the record
    more_than_limit: bool = False  # over Serving's 1000 records (reading stopped at the 1001st)


def read_listing(path: str | os.PathLike) -> WarmupListing:
    """Every record of a warmup file, up to the first bad one (OSError when it cannot be opened)."""
    from google.protobuf import message as pb_message

    from sigtool._proto import prediction_log_pb2

    entries: list[WarmupEntry] = []
    error = ""
    size = os.stat(path).st_size
    with open(path, "rb") as f:
        try:
            for payload in tfrecord.iter_records(f, size, limit=MAX_RECORDS + 1):
                number = len(entries) + 1
                try:
                    log = prediction_log_pb2.PredictionLog.FromString(payload)
                except (pb_message.DecodeError, UnicodeDecodeError):
                    error = f"record {number}: not a PredictionLog ({len(payload)} bytes that do not parse)"
                    break
                entries.append(_entry(number, log))
        except tfrecord.RecordError as e:
            error = str(e)
    more = len(entries) > MAX_RECORDS
    return WarmupListing(str(path), tuple(entries), error, more)


def _entry(number: int, log) -> WarmupEntry:
    from sigtool._proto import types_pb2

    kind = log.WhichOneof("log_type") or ""
    if kind in ("predict_log", "classify_log", "regress_log"):
        request = getattr(log, kind).request
    elif kind == "predict_streamed_log" and log.predict_streamed_log.request:
        request = log.predict_streamed_log.request[0]
    elif kind == "multi_inference_log":
        tasks = log.multi_inference_log.request.tasks
        spec = log.multi_inference_log.request.tasks[0].model_spec if tasks else None
        return WarmupEntry(number, kind, _METHODS[kind], spec.name if spec else "", spec.signature_name if spec else "")
    else:
        return WarmupEntry(number, kind, _METHODS.get(kind, ""), "", "")
    name, signature = request.model_spec.name, request.model_spec.signature_name
    if kind in ("classify_log", "regress_log"):
        which = request.input.WhichOneof("kind")
        examples = getattr(request.input, which).examples if which else ()
        return WarmupEntry(
            number,
            kind,
            _METHODS[kind],
            name,
            signature,
            batch_size=len(examples),
            context=which == "example_list_with_context",
        )
    tensors = []
    for key in sorted(request.inputs):
        proto = request.inputs[key]
        shape = None if proto.tensor_shape.unknown_rank else tuple(d.size for d in proto.tensor_shape.dim)
        dtype = types_pb2.DataType.Name(proto.dtype) if proto.dtype in types_pb2.DataType.values() else str(proto.dtype)
        tensors.append(WarmupTensor(key, dtype, shape))
    firsts = {t.shape[0] for t in tensors if t.shape}
    batch = firsts.pop() if len(firsts) == 1 and all(t.shape for t in tensors) else None
    return WarmupEntry(number, kind, _METHODS[kind], name, signature, tuple(tensors), batch)
