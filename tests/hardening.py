"""Shared by the test_hardening_* modules: protobuf-built models, the commands every malformed input goes through,
and the assertions that a refusal is clean (one `Error: ` line, the documented exit code, no traceback).
"""

from __future__ import annotations

import json
import signal
from contextlib import contextmanager
from pathlib import Path

from conftest import assert_one_error_line, invoke

from sigtool._proto import attr_value_pb2, graph_pb2, meta_graph_pb2, node_def_pb2, saved_model_pb2

LOAD_FAILED = 3
COMMANDS = (("show",), ("show", "--all", "-f", "json"), ("check",))


# --- building inputs -------------------------------------------------------------------------------


def tensor_info(name: str = "x:0", dtype: int = 1, dims=(-1, 1)) -> meta_graph_pb2.TensorInfo:
    info = meta_graph_pb2.TensorInfo(name=name, dtype=dtype)
    for d in dims:
        info.tensor_shape.dim.add(size=d)
    return info


def node(name: str, op: str, *inputs: str, **attrs) -> node_def_pb2.NodeDef:
    n = node_def_pb2.NodeDef(name=name, op=op, input=list(inputs))
    for key, value in attrs.items():
        n.attr[key].CopyFrom(value)
    return n


def float_type() -> attr_value_pb2.AttrValue:
    return attr_value_pb2.AttrValue(type=1)


def small_graph() -> graph_pb2.GraphDef:
    graph = graph_pb2.GraphDef()
    graph.node.extend(
        [
            node("x", "Placeholder", dtype=float_type()),
            node("y", "Identity", "x", T=float_type()),
        ]
    )
    return graph


def meta_graph(tags=("serve",), key="serving_default", graph=True) -> meta_graph_pb2.MetaGraphDef:
    mg = meta_graph_pb2.MetaGraphDef()
    mg.meta_info_def.tags.extend(tags)
    mg.meta_info_def.tensorflow_version = "2.21.0"
    if graph:
        mg.graph_def.CopyFrom(small_graph())
    sig = mg.signature_def[key]
    sig.method_name = "tensorflow/serving/predict"
    sig.inputs["x"].CopyFrom(tensor_info("x:0"))
    sig.outputs["y"].CopyFrom(tensor_info("y:0"))
    return mg


def saved_model(*meta_graphs) -> bytes:
    sm = saved_model_pb2.SavedModel(saved_model_schema_version=1)
    sm.meta_graphs.extend(meta_graphs or [meta_graph()])
    return sm.SerializeToString(deterministic=True)


def write_model(directory: Path, data: bytes, name: str = "saved_model.pb") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)
    return directory


def protobuf_reads(data: bytes) -> bool:
    """Whether protobuf (as TensorFlow's Python reader uses it) parses the bytes as a SavedModel."""
    from google.protobuf import message

    try:
        saved_model_pb2.SavedModel.FromString(data)
    except message.DecodeError:
        return False
    return True


def show_json(path, *extra) -> dict:
    result = invoke("show", path, "-f", "json", *extra)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def assert_refused(path, *, commands=COMMANDS) -> list[str]:
    """Every command fails with exit 3 and one Error: line; returns the messages."""
    messages = []
    for command in commands:
        result = invoke(*command, path)
        messages.append(assert_one_error_line(result, LOAD_FAILED))
        assert result.stdout == "", command
    return messages


def assert_check_ran(path, *extra) -> list[dict]:
    """check read the model (exit 0 or 1, no Error: line); returns its findings."""
    result = invoke("check", "-f", "json", path, *extra)
    assert result.exit_code in (0, 1), result.stderr
    assert "Error:" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    return [f for m in json.loads(result.stdout)["models"] for f in m["findings"]]


class Hang(BaseException):
    """Raised by time_limit; a BaseException, so that no `except OSError/Exception` in sigtool swallows it."""


@contextmanager
def time_limit(seconds: float):
    """Fail instead of hanging (a FIFO, say, can block an open forever)."""

    def expired(signum, frame):
        raise Hang(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)  # and again every second, should one be swallowed
    try:
        yield
    except Hang as e:
        raise AssertionError(str(e)) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def assert_handled_as_tensorflow_reads_it(result, command: tuple[str, ...], tensorflow_meta_graphs) -> None:
    """A malformed input through one command: refused with one Error: line (exit 3) where TensorFlow cannot read
    it (tensorflow_meta_graphs None), else read with no error; show -f json then lists TF's (tag-set, keys)."""
    assert "Traceback" not in result.stderr
    if tensorflow_meta_graphs is None:
        message = assert_one_error_line(result, LOAD_FAILED)
        assert result.stdout == ""
        assert len(message) > 30, message  # says what is wrong
        return
    assert "Error:" not in result.stderr, result.stderr
    if command[0] == "check":
        assert result.exit_code in (0, 1), result.stderr
        return
    assert result.exit_code == 0, result.stderr
    if "json" in command:
        ours = {
            (tuple(sorted(mg["tags"])), tuple(sorted(s["key"] for s in mg["signatures"])))
            for mg in json.loads(result.stdout)["meta_graphs"]
        }
        assert ours == tensorflow_meta_graphs
