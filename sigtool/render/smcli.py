"""saved_model_cli's `show` text, byte for byte, for scripts that parse it.

Two deliberate differences: op sets are printed sorted (saved_model_cli's order
depends on the hash seed), and list/dict argument values are closed cleanly
instead of with its ", " + two backspace characters.
"""

from __future__ import annotations

import re

from sigtool.model import MetaGraph, SavedModelInfo, Signature, StructValue, TensorSpec
from sigtool.render.pyrepr import py_repr, py_str


def tag_sets(info: SavedModelInfo) -> str:
    lines = ["The given SavedModel contains the following tag-sets:"]
    lines += [repr(", ".join(sorted(tags))) for tags in sorted(list(mg.tags) for mg in info.meta_graphs)]
    return _text(lines)


def signature_keys(mg: MetaGraph) -> str:
    lines = ["The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:"]
    lines += [f'SignatureDef key: "{key}"' for key in sorted(s.key for s in mg.signatures)]
    return _text(lines)


def signature(sig: Signature) -> str:
    return _text(_inputs_outputs(sig, indent=0))


def show_all(info: SavedModelInfo) -> str:
    """`show --all`; info must have been loaded with ops and functions."""
    out = []
    for mg in sorted(info.meta_graphs, key=lambda m: list(m.tags)):
        out.append(f"\nMetaGraphDef with tag-set: '{', '.join(mg.tags)}' contains the following SignatureDefs:")
        for sig in sorted(mg.signatures, key=lambda s: s.key):  # each MetaGraph's own, duplicate tag-sets too
            out.append(f"\nsignature_def['{sig.key}']:")
            out.extend(_inputs_outputs(sig, indent=1))
        out.append(ops_line(mg))
    text = _text(out)
    with_functions = [mg for mg in info.meta_graphs if mg.has_object_graph]
    if with_functions:
        text += "\nConcrete Functions:" + "".join(_function(f) for f in with_functions[0].functions or ())
    return text


def ops_line(mg: MetaGraph) -> str:
    ops = "{" + ", ".join(repr(op) for op in mg.ops or ()) + "}" if mg.ops else "set()"
    return f"The MetaGraph with tag set {list(mg.tags)!r} contains the following ops: {ops}"


def _text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _inputs_outputs(sig: Signature, indent: int) -> list[str]:
    pad = "  " * indent
    lines = [pad + "The given SavedModel SignatureDef contains the following input(s):"]
    for t in sig.inputs:
        lines += [pad + f"  inputs['{t.key}'] tensor_info:"] + _tensor_info(t, indent + 1)
    lines.append(pad + "The given SavedModel SignatureDef contains the following output(s):")
    for t in sig.outputs:
        lines += [pad + f"  outputs['{t.key}'] tensor_info:"] + _tensor_info(t, indent + 1)
    lines.append(pad + f"Method name is: {sig.method_name}")
    return lines


def _tensor_info(t: TensorSpec, indent: int) -> list[str]:
    pad = "  " * indent
    shape = "unknown_rank" if t.shape is None else "(" + ", ".join(str(d) for d in t.shape) + ")"
    return [pad + f"    dtype: {t.dtype}", pad + f"    shape: {shape}", pad + f"    name: {t.name}"]


# --- Concrete Functions -----------------------------------------------------------


_WRAPPED = re.compile(r"^__inference_(.*)_\d+$")
_COUNTER = 10**12  # stands in for TF's process-wide counter; see concrete_function_order


def concrete_function_order(functions) -> list:
    """A function's concrete functions in saved_model_cli's order.

    saved_model_cli loads the model and sorts them by their names after loading:
    "__inference_<base>_<n>", where <base> is the stored name cleaned of TF's
    prefix and numeric suffix, and <n> counts up in the order the loader creates
    functions (load_order). Equal-width numbers stand in for <n>. The real ones
    come from a process-wide counter, so where they cross a power of ten
    ("__inference_f_998" > "__inference_f_1002"), saved_model_cli's order differs
    from this one; that cannot be derived from the file. When the load order is
    not known (TF's loader would fail), the stored names decide.
    """
    if any(cf.load_order < 0 for cf in functions):
        return sorted(functions, key=lambda cf: cf.name)

    def loaded_name(cf) -> str:
        match = _WRAPPED.search(cf.name)
        return f"__inference_{match.group(1) if match else cf.name}_{_COUNTER + cf.load_order}"

    return sorted(functions, key=loaded_name)


def _function(fn) -> str:
    out = [f"\n  Function Name: '{fn.name}'"]
    for index, cf in enumerate(concrete_function_order(fn.concrete_functions), 1):
        if cf.args:
            out += [f"    Option #{index}", "      Callable with:"]
            out += _args(cf.args, "Argument")
        if cf.kwargs is not None and cf.kwargs.items:
            # saved_model_cli iterates the kwargs dict itself, which yields its keys.
            out += _args(tuple(StructValue("str", scalar=k) for k in cf.kwargs.keys), "Named Argument")
    return _text(out)


def _args(values: tuple[StructValue, ...], label: str) -> list[str]:
    pad = " " * 8
    out = []
    for index, v in enumerate(values, 1):
        out.append(f"{pad}{label} #{index}")
        if v.kind == "str":
            out.append(f"{pad}  {v.scalar}")
        elif v.kind in ("tensor_spec", "bounded_tensor_spec"):
            out.append(f"{pad}  {v.name}: {py_repr(v)}")
        elif v.kind in ("list", "tuple", "named_tuple", "tensor_shape"):
            out += [
                f"{pad}  DType: {_type_name(v)}",
                f"{pad}  Value: [" + ", ".join(_quoted(i) for i in _iter(v)) + "]",
            ]
        elif v.kind == "dict":
            entries = sorted(f"'{k}': {_quoted(i)}" for k, i in zip(v.keys, v.items))
            out += [f"{pad}  DType: dict", f"{pad}  Value: {{" + ", ".join(entries) + "}"]
        else:
            out += [f"{pad}  DType: {_type_name(v)}", f"{pad}  Value: {py_str(v)}"]
    return out


def _iter(v: StructValue) -> tuple[StructValue, ...]:
    if v.kind == "tensor_shape":
        return tuple(StructValue("none") if d < 0 else StructValue("int", scalar=d) for d in v.shape or ())
    return v.items


def _quoted(v: StructValue) -> str:
    return f"'{v.scalar}'" if v.kind == "str" else py_str(v)


def _type_name(v: StructValue) -> str:
    names = {"none": "NoneType", "tensor_shape": "TensorShape", "dtype": "DType", "bytes": "bytes"}
    if v.kind in ("named_tuple", "type_spec"):
        return v.name or v.kind
    return names.get(v.kind, v.kind)
