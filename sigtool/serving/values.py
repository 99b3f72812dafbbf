"""The values a REST request carries and the runner returns: dense tensors and tf.train.Features."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Tensor:
    """A dense tensor: values flat in row-major order (float/int/bool; bytes for DT_STRING)."""

    dtype: str  # "DT_FLOAT", ...
    shape: tuple[int, ...]
    values: tuple

    def __post_init__(self):
        if len(self.values) != math.prod(self.shape):
            raise ValueError(
                f"Tensor of shape {list(self.shape)} needs {math.prod(self.shape)} values, got {len(self.values)}"
            )


@dataclass(frozen=True)
class Feature:
    """One tf.train.Feature: kind "bytes_list", "float_list", "int64_list", or "" (none set, from [])."""

    kind: str
    values: tuple = ()


def dtype_string(dtype: str) -> str:
    """TF's DataTypeString, as Serving's messages name a dtype: DT_FLOAT -> float, DT_INVALID -> INVALID."""
    return "INVALID" if dtype == "DT_INVALID" else dtype.removeprefix("DT_").lower()


def shape_str(shape) -> str:
    """A shape as Serving's messages write it: [2,3]."""
    return "[" + ",".join(str(d) for d in shape) + "]"
