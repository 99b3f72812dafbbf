"""Python's repr() and str() of the values TensorFlow rebuilds from a SavedModel's function signatures
(StructValue), as saved_model_cli prints them; the table shows them the same way."""

from __future__ import annotations

from sigtool.model import StructValue


def py_str(v: StructValue) -> str:
    """What Python's str() prints for the value TensorFlow would rebuild."""
    if v.kind == "str":
        return str(v.scalar)
    if v.kind == "tensor_shape":
        return _shape_str(v.shape)
    if v.kind == "dtype":
        return f"<dtype: '{python_dtype(v.dtype)}'>"
    return py_repr(v)


def py_repr(v: StructValue) -> str:
    """What Python's repr() prints for the value TensorFlow would rebuild."""
    kind = v.kind
    if kind == "none":
        return "None"
    if kind in ("bool", "int", "float", "str"):
        return repr(v.scalar)
    if kind == "list":
        return "[" + ", ".join(py_repr(i) for i in v.items) + "]"
    if kind == "tuple":
        inner = ", ".join(py_repr(i) for i in v.items)
        return f"({inner},)" if len(v.items) == 1 else f"({inner})"
    if kind == "dict":
        return "{" + ", ".join(f"{k!r}: {py_repr(i)}" for k, i in zip(v.keys, v.items)) + "}"
    if kind == "named_tuple":
        return f"{v.name}(" + ", ".join(f"{k}={py_repr(i)}" for k, i in zip(v.keys, v.items)) + ")"
    if kind in ("tensor_spec", "bounded_tensor_spec"):
        cls = "TensorSpec" if kind == "tensor_spec" else "BoundedTensorSpec"
        return f"{cls}(shape={_shape_str(v.shape)}, dtype=tf.{python_dtype(v.dtype)}, name={v.name!r})"
    if kind == "tensor_shape":
        return "TensorShape(None)" if v.shape is None else "TensorShape([" + ", ".join(_dim(d) for d in v.shape) + "])"
    if kind == "dtype":
        return f"tf.{python_dtype(v.dtype)}"
    if kind == "type_spec":
        state = v.items[0] if v.items else StructValue("tuple")
        return f"{v.name}{py_repr(state)}"
    return f"<{v.name or kind}>"


def _dim(d: int) -> str:
    return "None" if d < 0 else str(d)


def _shape_str(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "<unknown>"
    if len(shape) == 1:
        return f"({_dim(shape[0])},)"
    return "(" + ", ".join(_dim(d) for d in shape) + ")"


_PY_NAMES = {"DT_FLOAT": "float32", "DT_DOUBLE": "float64", "DT_HALF": "float16"}


def python_dtype(dtype: str) -> str:
    """TF's Python name for a DataType enum name: DT_FLOAT -> float32, DT_INT64_REF -> int64_ref."""
    base, ref = (dtype[:-4], "_ref") if dtype.endswith("_REF") else (dtype, "")
    return _PY_NAMES.get(base, base.removeprefix("DT_").lower()) + ref
