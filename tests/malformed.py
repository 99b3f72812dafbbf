"""Malformed model directories built at test time from testdata/ (the kinds the conformance corpus's bad/ holds).

`build(name, root)` writes case `name` under root and returns its path. Each is made from the repository's
own models with plain byte edits, so the main suite needs nothing beside the checkout; which of them
TensorFlow can read is asked of TensorFlow itself (tf_oracle.tf_reads).
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

from factories import ld, varint

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
TF1 = TESTDATA / "real" / "saved_model_half_plus_two_cpu" / "00000123"  # TF Serving's TF1 model
TF2 = TESTDATA / "tf" / "tf2_warmup"  # a TF2 model with a variable
PBTXT = TESTDATA / "tf" / "tf1_pbtxt" / "saved_model.pbtxt"


def nested_model(messages: int) -> bytes:
    """A SavedModel whose serving_default input nests TensorInfo.composite_tensor.components: `messages`
    nested messages in all, counting the SavedModel itself."""
    # SavedModel > MetaGraphDef > map entry > SignatureDef > map entry > TensorInfo: 6 levels, then each
    # composite_tensor (5) + components (2) adds two.
    info = ld(1, b"x:0") + varint(2 << 3) + varint(1)  # TensorInfo{name, dtype=DT_FLOAT}
    for _ in range((messages - 6) // 2):
        info = ld(5, ld(2, info))
    signature = ld(1, ld(1, b"x") + ld(2, info)) + ld(3, b"tensorflow/serving/predict")
    meta_graph = ld(1, ld(4, b"serve")) + ld(5, ld(1, b"serving_default") + ld(2, signature))
    return varint(1 << 3) + varint(1) + ld(2, meta_graph)


def _copy(source: Path, target: Path, **kwargs) -> Path:
    shutil.copytree(source, target, **kwargs)
    for p in [target, *target.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return target


def _pb(target: Path, data: bytes, name: str = "saved_model.pb") -> Path:
    target.mkdir(parents=True)
    (target / name).write_bytes(data)
    return target


def _truncated(keep):
    def make(target: Path) -> Path:
        model = _copy(TF1, target)
        data = (model / "saved_model.pb").read_bytes()
        (model / "saved_model.pb").write_bytes(data[: keep(len(data))])
        return model

    return make


def _graphdef() -> bytes:
    node = ld(1, b"x") + ld(2, b"Placeholder")  # NodeDef{name, op}
    return ld(1, node) + ld(4, varint(1 << 3) + varint(27))  # GraphDef{node, versions{producer}}


def _symlink_loop(target: Path) -> Path:
    target.mkdir()
    os.symlink("loop_a", target / "saved_model.pb")
    os.symlink("saved_model.pb", target / "loop_a")
    return target


def _dangling(target: Path) -> Path:
    target.mkdir()
    os.symlink("nowhere.pb", target / "saved_model.pb")
    return target


def _without(source: Path, removed: str):
    def make(target: Path) -> Path:
        model = _copy(source, target)
        path = model / removed
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        return model

    return make


def _both(target: Path) -> Path:
    model = _pb(target, (TESTDATA / "minimal" / "saved_model.pb").read_bytes())
    shutil.copy(TESTDATA / "pbtxt" / "saved_model.pbtxt", model / "saved_model.pbtxt")
    return model


def _only_variables(target: Path) -> Path:
    return _copy(TF1, target, ignore=shutil.ignore_patterns("saved_model.pb"))


CASES = {
    "empty_dir": lambda t: (t.mkdir(), t)[1],
    "zero_byte_pb": lambda t: _pb(t, b""),
    "random_bytes": lambda t: _pb(t, random.Random(1234).randbytes(4096)),
    "truncated_pb_1": _truncated(lambda n: 1),
    "truncated_pb_2": _truncated(lambda n: 2),
    "truncated_pb_3": _truncated(lambda n: 3),
    "truncated_pb_64": _truncated(lambda n: 64),
    "truncated_pb_1000": _truncated(lambda n: 1000),
    "truncated_pb_minus1": _truncated(lambda n: n - 1),
    "huge_length_prefix": lambda t: _pb(t, varint(2 << 3 | 2) + varint(2**62) + b"\x00" * 16),
    "graphdef_as_pb": lambda t: _pb(t, _graphdef()),
    # a legacy export's MetaGraphDef: graph_def (2) has meta_graphs' wire type; parsers descend into garbage
    "metagraphdef_as_pb": lambda t: _pb(
        t, (TESTDATA / "real" / "hist_half_plus_two" / "00000123" / "export.meta").read_bytes()
    ),
    "schema_version_99": lambda t: _pb(t, (TESTDATA / "minimal" / "saved_model.pb").read_bytes() + b"\x08\x63"),
    "nested_depth_86": lambda t: _pb(t, nested_model(86)),
    "nested_depth_100": lambda t: _pb(t, nested_model(100)),
    "nested_depth_102": lambda t: _pb(t, nested_model(102)),
    "nested_depth_306": lambda t: _pb(t, nested_model(306)),
    "pb_is_directory": lambda t: ((t / "saved_model.pb").mkdir(parents=True), t)[1],
    "pbtxt_binary_content": lambda t: _pb(t, (TF1 / "saved_model.pb").read_bytes()[:900], "saved_model.pbtxt"),
    "malformed_pbtxt_unclosed": lambda t: _pb(t, PBTXT.read_bytes()[:2000], "saved_model.pbtxt"),
    "malformed_pbtxt_unknown_field": lambda t: _pb(t, b"no_such_field: 1\n" + PBTXT.read_bytes(), "saved_model.pbtxt"),
    "both_pb_and_pbtxt": _both,
    "cpb_only_garbage": lambda t: _pb(t, b"\x89not really chunked" * 10, "saved_model.cpb"),
    "symlink_loop_pb": _symlink_loop,
    "dangling_symlink_pb": _dangling,
    "only_variables": _only_variables,
    "missing_variables_tf1": _without(TF1, "variables"),
    "missing_variables_tf2": _without(TF2, "variables"),
    "variables_index_missing": _without(TF2, "variables/variables.index"),
    "tflite_flatbuffer": lambda t: _pb(t, b"\x1c\x00\x00\x00TFL3" + bytes(64), "model.tflite"),
}


def build(name: str, root: Path) -> Path:
    return CASES[name](root / name)


def build_all(root: Path) -> dict[str, Path]:
    return {name: build(name, root) for name in CASES}
