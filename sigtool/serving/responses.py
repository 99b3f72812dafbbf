"""Tensors -> the REST response body TF Serving would answer, byte for byte (without a trailing newline)."""

# Departures, on purpose: a non-`_bytes` string output that is not valid UTF-8 is written as {"b64": ...}
# (Serving writes the raw bytes, which is not valid JSON); several outputs are written in sorted key order
# (Serving: protobuf map order).

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import cast

from sigtool.serving.api import NO_CLASSES_OR_SCORES
from sigtool.serving.errors import ResponseRejected
from sigtool.serving.floats import float_tokens
from sigtool.serving.json_io import Writer, quote, utf8
from sigtool.serving.values import Tensor, dtype_string, shape_str

_BYTES_SUFFIX = "_bytes"
_INT_DTYPES = {"DT_INT32", "DT_INT16", "DT_INT8", "DT_UINT8", "DT_INT64", "DT_UINT32", "DT_UINT64"}


def _string_token(value: bytes | str, as_b64: bool) -> str | None:
    """A quoted JSON string, or None when it must go out as {"b64": ...}."""
    if isinstance(value, str):
        value = utf8(value)
    if not as_b64:
        try:
            return quote(value.decode("utf-8"))
        except UnicodeDecodeError:
            pass  # Serving would write invalid JSON here
    return None


def _tokens(dtype: str, values, as_b64: bool) -> list[str | None]:
    """Serving's AddSingleValueAndAdvance for every value: JSON text, or None for a {"b64": ...} object."""
    if dtype in ("DT_FLOAT", "DT_DOUBLE"):
        return cast("list[str | None]", float_tokens(values, dtype))
    if dtype in _INT_DTYPES:
        return list(map(str, map(int, values)))
    if dtype == "DT_BOOL":
        return ["true" if v else "false" for v in values]
    if dtype == "DT_STRING":
        return [_string_token(v, as_b64) for v in values]
    if values:
        raise ResponseRejected(
            f"Failed to write JSON value for tensor type: {dtype_string(dtype)}",
            "TF Serving's REST API cannot return this dtype; cast the output in the model",
        )
    return []


def _write_b64(w: Writer, value: bytes | str) -> None:
    w.start(False)
    w.raw('"b64"')
    w.raw(quote(base64.b64encode(utf8(value) if isinstance(value, str) else value).decode("ascii")))
    w.end()


class _TensorWriter:
    """Serving's AddTensorValues for one tensor, walking its flat values with an offset."""

    def __init__(self, name: str, tensor: Tensor):
        self.tensor, self.offset = tensor, 0
        self.tokens = _tokens(tensor.dtype, tensor.values, tensor.dtype == "DT_STRING" and name.endswith(_BYTES_SUFFIX))

    def _one(self, w: Writer) -> None:
        token = self.tokens[self.offset]
        if token is None:
            _write_b64(w, self.tensor.values[self.offset])
        else:
            w.raw(token)
        self.offset += 1

    def write(self, w: Writer, dim: int) -> None:
        shape = self.tensor.shape
        if dim >= len(shape):
            self._one(w)
            return
        if dim == len(shape) - 1:
            tokens = self.tokens[self.offset : self.offset + shape[dim]]
            if None not in tokens:
                w.array_of(cast("list[str]", tokens))
                self.offset += shape[dim]
                return
        w.start(True)
        for _ in range(shape[dim]):
            self.write(w, dim + 1)
        w.end()


def format_predict_response(outputs: Mapping[str, Tensor], row_format: bool) -> str:
    """Serving's MakeJsonFromTensors: {"predictions": ...} for row requests, {"outputs": ...} for columnar."""
    if not outputs:
        raise ResponseRejected("Cannot convert empty tensor map to JSON", "the signature returned no outputs")
    names = sorted(outputs)
    w = Writer()
    w.start(False)
    if row_format:
        batch = None
        for n in names:
            shape = outputs[n].shape
            if not shape:
                raise ResponseRejected(
                    f"Tensor name: {n} has no shape information ",
                    "a row-format response needs every output to have a batch dimension; "
                    'send "inputs" (columnar) instead of "instances"',
                )
            if batch is not None and shape[0] != batch:
                raise ResponseRejected(
                    f"Tensor name: {n} has inconsistent batch size: {shape[0]} expecting: {batch}",
                    'outputs disagree on the batch dimension; send "inputs" (columnar) instead of "instances"',
                )
            batch = shape[0]
        writers = {n: _TensorWriter(n, outputs[n]) for n in names}
        w.raw('"predictions"')
        w.start(True)
        assert batch is not None  # outputs is not empty
        for _ in range(batch):
            if len(names) > 1:
                w.start(False)
            w.single_line = True
            for n in names:
                if len(names) > 1:
                    w.raw(quote(n))
                writers[n].write(w, 1)
            w.single_line = False
            if len(names) > 1:
                w.end()
        w.end()
    else:
        writers = {n: _TensorWriter(n, outputs[n]) for n in names}
        w.raw('"outputs"')
        if len(names) > 1:
            w.start(False)
        for n in names:
            if len(names) > 1:
                w.raw(quote(n))
            writers[n].write(w, 0)
        if len(names) > 1:
            w.end()
    w.end()
    return w.text()


def format_classify_response(classes: Tensor | None, scores: Tensor | None, num_examples: int | None = None) -> str:
    """Serving's classify result: {"results": [[[label, score], ...] per example]}.

    classes: DT_STRING [batch, num_classes]; scores: DT_FLOAT [batch, num_classes]; either may be None
    (label "" / score 0). num_examples: how many examples were fed (default: the outputs' batch size).
    """
    if classes is None and scores is None:
        raise ResponseRejected(NO_CLASSES_OR_SCORES, 'give the signature a "classes" and/or "scores" output')
    for label, t, dtype in (("classes", classes, "DT_STRING"), ("scores", scores, "DT_FLOAT")):
        if t is None:
            continue
        if len(t.shape) != 2:
            raise ResponseRejected(
                f"Expected Tensor shape: [batch_size num_classes] but got {shape_str(t.shape)}",
                f"the {label} output must have shape [batch, num_classes]",
            )
        if t.dtype != dtype:
            raise ResponseRejected(
                f"Expected {label} Tensor of {dtype}. Got: {t.dtype}", f"the {label} output must be {dtype}"
            )
        if num_examples is not None and t.shape[0] != num_examples:
            raise ResponseRejected(
                f"Expected {label} output batch size of {num_examples}. Got: {t.shape[0]}",
                f"the {label} output needs one row per example",
            )
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise ResponseRejected(
            f"Tensors class and score should match in dim_size(1). Got {classes.shape[1]} vs. {scores.shape[1]}",
            "classes and scores must have the same number of columns",
        )
    first = classes if classes is not None else scores
    assert first is not None
    batch, width = first.shape
    if not batch:
        raise ResponseRejected("Cannot convert empty ClassificationResults to JSON", "send at least one example")
    labels = classes.values if classes is not None else (b"",) * (batch * width)
    scores_text = float_tokens(scores.values if scores is not None else (0.0,) * (batch * width), "DT_FLOAT")
    w = Writer()
    w.start(False)
    w.raw('"results"')
    w.start(True)
    for i in range(batch):
        w.single_line = True
        w.start(True)
        for j in range(i * width, (i + 1) * width):
            w.start(True)
            token = _string_token(labels[j], False)
            if token is None:
                _write_b64(w, labels[j])
            else:
                w.raw(token)
            w.raw(scores_text[j])
            w.end()
        w.end()
        w.single_line = False
    w.end()
    w.end()
    return w.text()


def format_regress_response(outputs: Tensor, num_examples: int | None = None) -> str:
    """Serving's regress result: {"results": [value, ...]}; outputs is DT_FLOAT [batch] or [batch, 1]."""
    shape = outputs.shape
    if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
        raise ResponseRejected(
            f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got {shape_str(shape)}",
            "the regression output must have shape [batch] or [batch, 1]",
        )
    if num_examples is not None and shape[0] != num_examples:
        raise ResponseRejected(
            f"Input batch size did not match output batch size: {num_examples} vs. {shape[0]}",
            "the regression output needs one value per example",
        )
    if outputs.dtype != "DT_FLOAT":
        raise ResponseRejected(
            f"Expected output Tensor of DT_FLOAT.  Got: {outputs.dtype}", "the regression output must be DT_FLOAT"
        )
    if not outputs.values:
        raise ResponseRejected("Cannot convert empty RegressionResults to JSON", "send at least one example")
    w = Writer()
    w.start(False)
    w.raw('"results"')
    w.single_line = True
    w.array_of(float_tokens(outputs.values, "DT_FLOAT"))
    w.end()
    return w.text()


def format_error(message: str) -> str:
    """Serving's MakeJsonFromStatus body for a failed request."""
    w = Writer()
    w.start(False)
    w.raw('"error"')
    w.raw(quote(message))
    w.end()
    return w.text()
