""".npy / .npz files for `sigtool run`: inputs read and outputs written with numpy, never pickled (no TensorFlow).

save_npy(path, tensor)             one output as .npy at exactly `path`
load_array(path, name) -> Tensor   one input from .npy or .npz[name]
"""

from __future__ import annotations

import math
import zipfile

from sigtool.errors import TensorFlowMissing, UsageError
from sigtool.serving.values import Tensor

_INSTALL_NUMPY = "reading and writing .npy files needs numpy: pip install 'sigtool[run]' (or numpy)"
_TEXT = "DT_STRING"


def save_npy(path: str, tensor: Tensor) -> None:
    """Write one tensor as .npy at exactly `path` (no ".npy" appended), never pickled.

    DT_STRING becomes a bytes ('S') array; values ending in NUL bytes cannot survive that and are refused.
    DT_BFLOAT16, which .npy cannot describe, is widened to float32 (exactly).
    """
    np = import_numpy()
    if tensor.dtype == _TEXT:
        values = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in tensor.values]
        if any(v.endswith(b"\0") for v in values):
            raise UsageError(
                f"cannot write {path}: .npy byte strings drop trailing NUL bytes and these strings end "
                "in one; use the JSON output instead"
            )
        width = max((len(v) for v in values), default=1) or 1
        array = np.array(values, dtype=f"S{width}").reshape(tensor.shape)
    else:
        np_dtype = numpy_dtype(tensor.dtype)
        if np_dtype is None:
            raise UsageError(f"cannot write {path}: .npy cannot hold {tensor.dtype}; use the JSON output instead")
        array = np.array(tensor.values, dtype=np_dtype).reshape(tensor.shape)
    try:
        with open(path, "wb") as f:
            np.save(f, array, allow_pickle=False)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}; pick a writable path") from None


def load_array(path: str, name: str | None) -> Tensor:
    """One array from a .npy file, or from a .npz archive (by `name`, or its only array). Pickles are refused."""
    np = import_numpy()
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file; give an existing .npy or .npz file") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory; give a .npy or .npz file") from None
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or first_line(str(e))}; give a .npy or .npz file") from None
    except ValueError as e:
        if "pickle" in str(e):
            raise UsageError(
                f"{path} holds pickled Python objects, which sigtool never loads; save plain numeric "
                "or bytes arrays (np.save with allow_pickle=False)"
            ) from None
        raise UsageError(f"cannot read {path}: {first_line(str(e))}; give a .npy or .npz file") from None
    except (EOFError, zipfile.BadZipFile) as e:
        raise UsageError(
            f"cannot read {path}: {first_line(str(e)) or 'file ends early'}; give a .npy or .npz file"
        ) from None
    if isinstance(loaded, np.ndarray):
        if name is not None:
            raise UsageError(
                f"{path} is a .npy file holding one array; drop [{name}] (names select arrays in .npz files)"
            )
        array, label = loaded, path
    else:
        with loaded:
            names = sorted(loaded.files)
            if name is None:
                if len(names) != 1:
                    what = f"{len(names)} arrays ({', '.join(names)})" if names else "no arrays"
                    raise UsageError(f"{path} holds {what}; name the one to use, as {path}[NAME]")
                name = names[0]
            elif name not in names:
                raise UsageError(f"{path} has no array {name!r}; it holds: {', '.join(names) or '(none)'}")
            try:
                array = loaded[name]
            except ValueError as e:
                if "pickle" in str(e):
                    raise UsageError(
                        f"{path}[{name}] holds pickled Python objects, which sigtool never loads; save "
                        "plain numeric or bytes arrays"
                    ) from None
                raise UsageError(f"cannot read {path}[{name}]: {first_line(str(e))}") from None
            except (OSError, EOFError, zipfile.BadZipFile) as e:
                raise UsageError(f"cannot read {path}[{name}]: {first_line(str(e))}") from None
        label = f"{path}[{name}]"
    return _tensor_from_array(np, array, label)


def import_numpy():
    try:
        import numpy as np
    except ImportError:
        raise TensorFlowMissing(_INSTALL_NUMPY) from None
    return np


def numpy_dtype(dtype: str):
    """The numpy dtype for a DataType name, without TensorFlow (None: numpy has none)."""
    np = import_numpy()
    simple = {
        "DT_FLOAT": np.float32,
        "DT_DOUBLE": np.float64,
        "DT_HALF": np.float16,
        "DT_INT8": np.int8,
        "DT_INT16": np.int16,
        "DT_INT32": np.int32,
        "DT_INT64": np.int64,
        "DT_UINT8": np.uint8,
        "DT_UINT16": np.uint16,
        "DT_UINT32": np.uint32,
        "DT_UINT64": np.uint64,
        "DT_BOOL": np.bool_,
        "DT_COMPLEX64": np.complex64,
        "DT_COMPLEX128": np.complex128,
    }
    if dtype.removesuffix("_REF") == "DT_BFLOAT16":
        return np.float32  # .npy cannot describe bfloat16; float32 holds every bfloat16 exactly
    return simple.get(dtype.removesuffix("_REF"))


def _tensor_from_array(np, array, label: str) -> Tensor:
    """A loaded numpy array as a Tensor; dtypes without a TensorFlow counterpart are refused."""
    kind = array.dtype.kind
    shape = tuple(int(d) for d in array.shape)
    flat = array.reshape(-1)
    if kind == "S":
        return Tensor(_TEXT, shape, tuple(flat.tolist()))
    if kind == "U":
        return Tensor(_TEXT, shape, tuple(v.encode("utf-8") for v in flat.tolist()))
    names = {
        "float32": "DT_FLOAT",
        "float64": "DT_DOUBLE",
        "float16": "DT_HALF",
        "bool": "DT_BOOL",
        "int8": "DT_INT8",
        "int16": "DT_INT16",
        "int32": "DT_INT32",
        "int64": "DT_INT64",
        "uint8": "DT_UINT8",
        "uint16": "DT_UINT16",
        "uint32": "DT_UINT32",
        "uint64": "DT_UINT64",
        "complex64": "DT_COMPLEX64",
        "complex128": "DT_COMPLEX128",
    }
    dtype = names.get(array.dtype.name) if array.dtype.byteorder in "=|<>" and not array.dtype.fields else None
    if dtype is None:
        raise UsageError(
            f"{label} holds {array.dtype} values, which TensorFlow cannot take; save a numeric, bool or bytes array"
        )
    if math.prod(shape) != flat.size:  # pragma: no cover - numpy guarantees it
        raise UsageError(f"{label}: inconsistent array")
    return Tensor(dtype, shape, tuple(flat.tolist()))


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
