"""`show -f smcli --all` in saved_model_cli's order, checked against TensorFlow itself.

saved_model_cli loads the model and lists each function's concrete functions by their names after
loading, which count up in the order tf.saved_model.load creates them (sigtool/loader/load_order.py).
Here: that order against TF's own loader, the listing against the live saved_model_cli, and the one
case the file cannot decide (the loader's counter crossing a power of ten).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TESTDATA, invoke

from sigtool import loader, wire
from sigtool.loader import load_order
from sigtool.model import ConcreteFunction
from sigtool.render import smcli

WILD = TESTDATA / "wild" / "loader"
TF_FUNCTIONS = WILD / "tf_functions"
SAVED_MODEL_CLI = Path(sys.executable).with_name("saved_model_cli")
TF_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0", "CUDA_VISIBLE_DEVICES": ""}


def live_saved_model_cli(model: Path) -> str:
    done = subprocess.run(
        [str(SAVED_MODEL_CLI), "show", "--dir", str(model), "--all"],
        check=False,
        env=TF_ENV,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def sorted_op_sets(text: str) -> str:
    """saved_model_cli prints op sets in hash order; sigtool sorts them (a documented difference)."""

    def fix(m: re.Match) -> str:
        return m.group(1) + "{" + ", ".join(sorted(m.group(2).split(", "))) + "}"

    return re.sub(r"(contains the following ops: )\{(.*)\}", fix, text)


@pytest.mark.parametrize("name", ["tf_functions", "duplicate_tag_sets"])
def test_smcli_all_is_what_saved_model_cli_prints(name):
    model = WILD / name
    ours = invoke("show", model, "--all", "-f", "smcli")
    assert ours.exit_code == 0, ours.stderr
    assert sorted_op_sets(ours.stdout) == sorted_op_sets(live_saved_model_cli(model))


def test_the_fixture_needs_the_load_order():
    """Sorting by the stored names would list __call__'s traces differently: the test above means something."""
    info = loader.load(str(TF_FUNCTIONS), functions=True)
    (call,) = [fn for fn in info.meta_graphs[0].functions if fn.name == "__call__"]
    assert len(call.concrete_functions) == 4
    assert all(cf.load_order >= 0 for cf in call.concrete_functions)
    by_name = [cf.name for cf in call.concrete_functions]
    assert [cf.name for cf in smcli.concrete_function_order(call.concrete_functions)] != by_name


def test_duplicate_tag_sets_each_meta_graph_shows_its_own_signatures():
    out = invoke("show", WILD / "duplicate_tag_sets", "--all", "-f", "smcli").stdout
    serve_blocks = out.split("MetaGraphDef with tag-set: 'serve' ")[1:]
    assert len(serve_blocks) == 2
    assert "second_only" not in serve_blocks[0] and "second_only" in serve_blocks[1]
    assert "name: y2:0" in serve_blocks[1] and "name: y2:0" not in serve_blocks[0]


# --- the loader's creation order, against TensorFlow's loader ----------------------------------------

_TF_ORDER = """
import json, re, sys
from tensorflow.core.framework import function_pb2
from tensorflow.python.framework import ops
from tensorflow.python.saved_model import function_deserialization as fd
from tensorflow.python.util import compat

def number(f):
    name = f.name.decode() if isinstance(f.name, bytes) else f.name
    return int(re.search(r"_(\\d+)$", name).group(1))

out = []
for path in sys.argv[1:]:
    library = function_pb2.FunctionDefLibrary.FromString(open(path, "rb").read())
    # The order load_function_def_library creates functions in, from its own helpers.
    names = {f.signature.name for f in library.function}
    gradients = {compat.as_bytes(g.registered_op_type): g.gradient_func
                 for g in library.registered_gradients if g.registered_op_type}
    deps = {f.signature.name: fd._list_function_deps(f, names, gradients) for f in library.function}
    try:
        order = [f.signature.name for f in fd._sort_function_defs(library, deps)]
    except ValueError:
        order = None
    full = None
    if path.endswith("full.pb"):  # and from a real load: the numbers in the new names
        with ops.Graph().as_default():
            loaded = fd.load_function_def_library(library)
        full = [orig for orig, f in sorted(loaded.items(), key=lambda kv: number(kv[1]))]
    out.append([order, full])
print(json.dumps(out))
"""


def tf_creation_order(libraries: list[bytes], tmp_path) -> list:
    """[TF's order, and for the first library also the order of a real load's numbers] per library."""
    paths = []
    for index, data in enumerate(libraries):
        paths.append(tmp_path / (f"library{index}" + ("_full.pb" if index == 0 else ".pb")))
        paths[-1].write_bytes(data)
    command = [sys.executable, "-c", _TF_ORDER, *map(str, paths)]
    done = subprocess.run(command, check=False, env=TF_ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def our_order(library: bytes) -> list[str] | None:
    ranks = load_order.ranks(wire.length_delimited(2, library), [(0, len(wire.length_delimited(2, library)))])
    return sorted(ranks, key=ranks.get) if ranks else None


def library_of(model: Path) -> bytes:
    from sigtool._proto import saved_model_pb2

    sm = saved_model_pb2.SavedModel.FromString((model / "saved_model.pb").read_bytes())
    return sm.meta_graphs[0].graph_def.library.SerializeToString()


def synthetic_libraries() -> list[bytes]:
    """Callers and callees named every way the loader follows: op name, func attr, func list, gradient."""
    from sigtool._proto import function_pb2

    def library(*functions, gradients=()):
        lib = function_pb2.FunctionDefLibrary()
        for name, nodes in functions:
            fn = lib.function.add()
            fn.signature.name = name
            for op, attrs in nodes:
                node = fn.node_def.add(name=f"n{len(fn.node_def)}", op=op)
                for key, value in attrs.items():
                    if key == "_gradient_op_type":
                        node.attr[key].s = value
                    elif isinstance(value, list):
                        for called in value:
                            node.attr[key].list.func.add(name=called)
                    else:
                        node.attr[key].func.name = value
        for func, op_type in gradients:
            lib.registered_gradients.add(gradient_func=func, registered_op_type=op_type)
        return lib.SerializeToString()

    return [
        library(
            ("__inference_a_9", [("StatefulPartitionedCall", {"f": "__inference_b_3"})]),
            ("__inference_b_3", [("NoOp", {})]),
            ("__inference_c_1", [("__inference_b_3", {})]),
            ("__inference_d_7", [("While", {"cond": "__inference_c_1", "body": "__inference_e_2"})]),
            ("__inference_e_2", [("NoOp", {})]),
            ("__inference_f_5", [("Case", {"branches": ["__inference_a_9", "__inference_e_2"]})]),
            ("__inference_g_4", [("NoOp", {})]),
        ),
        library(
            ("__inference_grad_8", [("NoOp", {})]),
            ("__inference_h_6", [("Identity", {"_gradient_op_type": b"CustomGradient-1"})]),
            (
                "__inference_i_2",
                [("PartitionedCall", {"f": "__inference_h_6", "_gradient_op_type": b"CustomGradient-1"})],
            ),
            gradients=[("__inference_grad_8", b"CustomGradient-1")],
        ),
        library(  # a cycle: TF's loader refuses it
            ("__inference_x_1", [("__inference_y_2", {})]),
            ("__inference_y_2", [("__inference_x_1", {})]),
        ),
    ]


def test_load_order_is_tensorflows(tmp_path):
    libraries = [library_of(TF_FUNCTIONS)] + synthetic_libraries()
    found = tf_creation_order(libraries, tmp_path)
    expected = [order for order, _ in found]
    assert found[0][1] == expected[0]  # a real load numbers the functions in that order
    assert expected[-1] is None  # the cycle
    assert [our_order(lib) for lib in libraries] == expected


# --- what the file cannot decide -----------------------------------------------------------------------


def test_order_is_by_loaded_name_with_equal_width_numbers():
    def cf(name, rank):
        return ConcreteFunction(name, (), None, load_order=rank)

    functions = [cf("__inference_f_10", 2), cf("__inference_f_9", 0), cf("__inference_f_100", 1), cf("f_bare", 3)]
    # Loaded names: __inference_f_<n> by creation (9, 100, 10), and __inference_f_bare_<n> last by base name.
    assert [c.name for c in smcli.concrete_function_order(functions)] == [
        "__inference_f_9",
        "__inference_f_100",
        "__inference_f_10",
        "f_bare",
    ]
    # Unknown load order (TF's loader would fail): the stored names decide.
    unknown = [cf("__inference_f_9", -1), cf("__inference_f_10", 0)]
    assert [c.name for c in smcli.concrete_function_order(unknown)] == ["__inference_f_10", "__inference_f_9"]
