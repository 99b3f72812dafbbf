"""sigtool on untrusted bytes: clean one-line errors, TensorFlow's limits, bounded memory, no surprises on disk.

Each malformed input must end in a result or the documented exit code with
one `Error: ` line and no traceback. Where TensorFlow (protobuf) accepts an
input, sigtool accepts it too; where it refuses, sigtool refuses with a
message that says why.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

import malformed
from conftest import GEN, TESTDATA, assert_one_error_line, invoke
from factories import ld, tag, varint, vf
from tf_oracle import tf_reads

from sigtool._proto import (
    attr_value_pb2,
    graph_pb2,
    meta_graph_pb2,
    node_def_pb2,
    saved_model_pb2,
    tensor_pb2,
    tensor_shape_pb2,
)
from sigtool.loader import load

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
    graph.node.extend([
        node("x", "Placeholder", dtype=float_type()),
        node("y", "Identity", "x", T=float_type()),
    ])
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


# --- malformed inputs of every kind the corpus holds, built from testdata/ (tests/malformed.py) -------------


@pytest.fixture(scope="module")
def malformed_cases(tmp_path_factory):
    """Each case built once, with what TensorFlow's own reader makes of it (asked live)."""
    paths = malformed.build_all(tmp_path_factory.mktemp("malformed"))
    reads = tf_reads(paths.values())
    return {name: (path, reads[str(path)]) for name, path in paths.items()}


def tensorflow_reads(read: dict) -> bool:
    return read["ok"] and len(read["meta_graphs"]) > 0


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("name", sorted(malformed.CASES))
def test_malformed_case(name, command, malformed_cases):
    path, read = malformed_cases[name]
    with time_limit(30):
        result = invoke(*command, path)
    assert "Traceback" not in result.stderr
    if not tensorflow_reads(read):
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
        ours = {(tuple(sorted(mg["tags"])), tuple(sorted(s["key"] for s in mg["signatures"])))
                for mg in json.loads(result.stdout)["meta_graphs"]}
        assert ours == {(tuple(sorted(tags)), tuple(keys)) for tags, keys in read["meta_graphs"]}


def test_the_malformed_cases_cover_both_verdicts(malformed_cases):
    verdicts = [tensorflow_reads(read) for _, read in malformed_cases.values()]
    assert verdicts.count(True) >= 5 and verdicts.count(False) >= 15


# --- the file system: links, directories, FIFOs, permissions ------------------------------------------


def test_symlink_loop(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "saved_model.pb").symlink_to("loop_a")
    (model / "loop_a").symlink_to("saved_model.pb")
    for message in assert_refused(model):
        assert "symbolic link loop" in message


def test_dangling_symlink(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "saved_model.pb").symlink_to("does_not_exist.pb")
    for message in assert_refused(model):
        assert "dangling symbolic link" in message and "does_not_exist.pb" in message


def test_symlink_to_a_directory(tmp_path):
    model = tmp_path / "m"
    (model / "elsewhere").mkdir(parents=True)
    (model / "saved_model.pb").symlink_to("elsewhere")
    for message in assert_refused(model):
        assert "is a directory" in message


def test_saved_model_pb_is_a_directory(tmp_path):
    model = tmp_path / "m"
    (model / "saved_model.pb").mkdir(parents=True)
    for message in assert_refused(model):
        assert "is a directory" in message


def test_symlink_to_a_valid_model_file_is_followed(tmp_path):
    real = write_model(tmp_path / "real", saved_model())
    model = tmp_path / "m"
    model.mkdir()
    (model / "saved_model.pb").symlink_to(real / "saved_model.pb")
    assert [s["key"] for s in show_json(model)["meta_graphs"][0]["signatures"]] == ["serving_default"]


def test_model_path_is_a_file(tmp_path):
    garbage = tmp_path / "model"
    garbage.write_bytes(b"\x07\x08 not a model")
    for message in assert_refused(garbage):
        assert "not a valid SavedModel" in message
    for message in assert_refused(garbage / "saved_model.pb"):  # a path through a file
        assert "no such file" in message


def test_fifo_fails_fast_instead_of_blocking(tmp_path):
    # Regression: os.open on a FIFO blocked until a writer came (show hung forever).
    model = tmp_path / "m"
    model.mkdir()
    os.mkfifo(model / "saved_model.pb")
    with time_limit(20):
        for message in assert_refused(model):
            assert "FIFO" in message and "regular file" in message


def test_device_is_not_read(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "saved_model.pb").symlink_to(os.devnull)
    for message in assert_refused(model):
        assert "not a regular file" in message


def test_directories_linked_far_away_are_not_walked_whole(tmp_path):
    # Found while hardening: assets/ -> / made check list the whole file system (15 s here).
    model = tmp_path / "m"
    shutil.copytree(GEN / "tf2_assets_lookup", model, ignore=shutil.ignore_patterns("assets*"))
    (model / "assets").symlink_to("/")
    (model / "assets.extra").symlink_to("/")
    start = time.monotonic()
    with time_limit(60):
        assert_check_ran(model)
        files = load(str(model), graph=True).files
    assert time.monotonic() - start < 10
    assert 0 < len(files.assets) <= 10_000 and len(files.assets_extra) <= 10_000


def test_version_directory_that_is_a_symlink_loop(tmp_path):
    base = tmp_path / "base"
    write_model(base / "1", saved_model())
    (base / "2").symlink_to("2")
    result = invoke("show", base)
    assert "Traceback" not in result.stderr
    assert_one_error_line(result, LOAD_FAILED)


@pytest.fixture
def unprivileged():
    """A context manager under which file permissions apply: as root, the effective user becomes nobody."""
    if os.geteuid() != 0:
        yield contextmanager(lambda: (yield))
        return

    @contextmanager
    def as_nobody():
        try:
            os.setegid(65534)
            os.seteuid(65534)
        except OSError as e:
            os.setegid(0)
            pytest.skip(f"cannot drop root privileges here ({e})")
        try:
            yield
        finally:
            os.seteuid(0)
            os.setegid(0)

    yield as_nobody


@pytest.fixture
def shared_tmp():
    """A temporary directory that another user can enter (pytest's own is private to its user)."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="sigtool-test-"))
    root.chmod(0o755)
    yield root
    for p in [root, *root.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(root)


def test_unreadable_files_and_directories(shared_tmp, unprivileged):
    # Regressions: check crashed with PermissionError on an unreadable warmup file or an unsearchable
    # assets.extra/, and show/check on a link into a directory that cannot be searched.
    source = GEN / "tf2_warmup"

    def model(name: str) -> Path:
        d = shared_tmp / name
        shutil.copytree(source, d)
        for p in [d, *d.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        return d

    unreadable_pb = model("unreadable_pb")
    (unreadable_pb / "saved_model.pb").chmod(0)
    extra = model("extra_not_searchable")
    (extra / "assets.extra").chmod(0o600)
    warmup = model("warmup_unreadable")
    (warmup / "assets.extra" / "tf_serving_warmup_requests").chmod(0)
    hidden = shared_tmp / "hidden"
    hidden.mkdir(mode=0o700)
    shutil.copy(source / "saved_model.pb", hidden / "saved_model.pb")
    link = shared_tmp / "link"
    link.mkdir()
    (link / "saved_model.pb").symlink_to(hidden / "saved_model.pb")
    base = shared_tmp / "base"
    shutil.copytree(source, base / "1")
    base.chmod(0o311)  # can be entered, not listed

    refused = {unreadable_pb: "Permission denied", link: "Permission denied",
               link / "saved_model.pb": "Permission denied", base: "cannot list"}
    readable = (extra, warmup)
    runs = [(args, path) for path in [*refused, *readable] for args in COMMANDS]
    for args, path in runs:  # once with privileges: lazy imports happen before they are dropped
        invoke(*args, path)
    results = {}
    with unprivileged():  # gives the privileges back even when a command crashes
        for args, path in runs:
            results[args, path] = invoke(*args, path)
    for (args, path), result in results.items():
        assert "Traceback" not in result.stderr
        if path in refused:
            assert refused[path] in assert_one_error_line(result, LOAD_FAILED), (args, path)
        elif args[0] == "check":
            assert result.exit_code == 1, result.stderr  # the warmup file Serving cannot read
            assert "SERVE006" in result.stdout and "cannot read the file (Permission denied)" in result.stdout
        else:
            assert result.exit_code == 0, result.stderr


# --- the wire format: what protobuf refuses, sigtool refuses cleanly -----------------------------------

GOOD = saved_model()
SIGNATURE_ENTRY = meta_graph().signature_def["serving_default"].SerializeToString()


def mg_with(extra: bytes) -> bytes:
    """A SavedModel whose MetaGraphDef ends with the given bytes (show reads every byte of it)."""
    return vf(1, 1) + ld(2, meta_graph(graph=False).SerializeToString() + extra)


WIRE_CASES = {
    "meta_graphs claims 2^62 bytes": vf(1, 1) + tag(2, 2) + varint(2**62) + b"\x00" * 16,
    "meta_graphs claims 2^64-1 bytes": vf(1, 1) + tag(2, 2) + varint(2**64 - 1) + b"\x00" * 16,
    "a signature claims 2^62 bytes": mg_with(ld(5, ld(1, b"k") + tag(2, 2) + varint(2**62) + b"abc")),
    "11-byte varint (value)": vf(1, 0)[:1] + b"\xff" * 10 + b"\x01",
    "11-byte varint (length)": tag(2, 2) + b"\x80" * 10 + b"\x00",
    "11-byte varint (tag)": b"\xff" * 10 + b"\x01",
    "field number 0 at the top": b"\x00\x01" + GOOD,
    "field number 0 in a MetaGraphDef": mg_with(b"\x02\x01\x00"),
    "wire type 6": GOOD + tag(9, 6) + b"\x00",
    "wire type 7": GOOD + tag(9, 7) + b"\x00",
    "wire type 6 in a MetaGraphDef": mg_with(tag(9, 6)),
    "group without end": GOOD + tag(9, 3) + vf(1, 5),
    "group without end in a MetaGraphDef": mg_with(tag(9, 3) + vf(1, 5)),
    "end of a group never started": GOOD + tag(9, 4),
    "group closed by another number": GOOD + tag(9, 3) + vf(1, 5) + tag(8, 4),
    "fixed64 cut short": GOOD + tag(9, 1) + b"\x00\x00\x00",
    "fixed32 cut short": GOOD + tag(9, 5) + b"\x00",
    "varint cut short": GOOD + tag(9, 0) + b"\x80",
    "signature map entry cut inside": mg_with(ld(5, SIGNATURE_ENTRY)[:-3]),
}


@pytest.mark.parametrize("case", sorted(WIRE_CASES))
def test_malformed_wire_format_is_refused_like_protobuf(case, tmp_path):
    data = WIRE_CASES[case]
    assert not protobuf_reads(data)
    model = write_model(tmp_path / "m", data)
    for message in assert_refused(model):
        assert "SavedModel" in message


EMPTY_FOR_PROTOBUF = {
    "nothing": b"",
    "only a schema version": vf(1, 1),
    "meta_graphs as a varint": vf(1, 1) + vf(2, 5),
    "a GraphDef": ld(1, node("x", "Placeholder").SerializeToString()),
}
# What sigtool says about each: no MetaGraph at all, or a field it cannot read as what it is.
EMPTY_SAYS = {"nothing": "no MetaGraph", "only a schema version": "no MetaGraph",
              "meta_graphs as a varint": "wrong wire type", "a GraphDef": "is a GraphDef"}


@pytest.mark.parametrize("case", sorted(EMPTY_FOR_PROTOBUF))
def test_no_meta_graph_is_said_plainly(case, tmp_path):
    # protobuf reads these as a SavedModel without MetaGraphs (a field of the wrong wire type is
    # an unknown field to it); saved_model_cli then prints nothing. sigtool says what is wrong.
    data = EMPTY_FOR_PROTOBUF[case]
    assert protobuf_reads(data) and not saved_model_pb2.SavedModel.FromString(data).meta_graphs
    for message in assert_refused(write_model(tmp_path / "m", data)):
        assert EMPTY_SAYS[case] in message, message


WELL_FORMED_CASES = {
    "a group of an unknown field": GOOD + tag(9, 3) + vf(1, 5) + ld(2, b"abc") + tag(9, 4),
    "nested groups": GOOD + tag(9, 3) + tag(10, 3) + vf(1, 1) + tag(10, 4) + tag(9, 4),
    "unknown fields of every wire type": GOOD + vf(99, 7) + tag(98, 1) + b"\x00" * 8 + ld(97, b"xyz") + tag(96, 5) + b"abcd",
    "a 10-byte varint with bits past 64": vf(1, 0)[:1] + b"\xff" * 9 + b"\x7f" + ld(2, meta_graph().SerializeToString()),
    # protobuf reads length prefixes of up to 5 bytes (sigtool up to 10, for files past 2 GiB)
    "a length written with needless continuation bytes": tag(2, 2) + b"\x80" * 4 + b"\x00" + ld(2, meta_graph().SerializeToString()),
}


@pytest.mark.parametrize("case", sorted(WELL_FORMED_CASES))
def test_well_formed_oddities_are_read_like_protobuf(case, tmp_path):
    data = WELL_FORMED_CASES[case]
    assert protobuf_reads(data)
    model = write_model(tmp_path / "m", data)
    expected = saved_model_pb2.SavedModel.FromString(data)
    shown = show_json(model, "--all")
    assert len(shown["meta_graphs"]) == len(expected.meta_graphs)
    assert [s["key"] for s in shown["meta_graphs"][-1]["signatures"]] == ["serving_default"]
    assert_check_ran(model)


def test_a_corrupt_graph_is_skipped_by_show_and_reported_by_check(tmp_path):
    # show reads only the signatures (the fast path skips graph bytes); check reads the nodes.
    mg = meta_graph(graph=False).SerializeToString() + ld(2, ld(1, tag(1, 7) + b"junk"))
    model = write_model(tmp_path / "m", ld(2, mg))
    assert show_json(model)["meta_graphs"][0]["signatures"][0]["key"] == "serving_default"
    message = assert_one_error_line(invoke("check", model), LOAD_FAILED)
    assert "graph is corrupt" in message
    message = assert_one_error_line(invoke("show", "--all", model), LOAD_FAILED)  # --all reads node headers
    assert "corrupt" in message


# --- nesting: TensorFlow parses 100 nested messages and refuses 102 ------------------------------------


def composite_chain(levels: int, end_in_composite: bool) -> bytes:
    """A TensorInfo whose composite_tensor.components nest `levels` times."""
    info = ld(1, b"leaf:0") + vf(2, 1)
    if end_in_composite:
        info = ld(5, b"")
    for _ in range(levels):
        info = ld(5, ld(2, info))
    return info


def nested_model(levels: int, end_in_composite: bool) -> bytes:
    signature = ld(1, ld(1, b"x") + ld(2, composite_chain(levels, end_in_composite)))
    signature += ld(2, ld(1, b"y") + ld(2, tensor_info("y:0").SerializeToString()))
    entry = ld(1, b"serving_default") + ld(2, signature)
    mg = ld(1, ld(4, b"serve")) + ld(5, entry)
    return ld(2, mg)


def test_nesting_limit_matches_protobuf(tmp_path):
    accepted = refused = 0
    for levels in range(44, 51):
        for end_in_composite in (False, True):
            data = nested_model(levels, end_in_composite)
            model = write_model(tmp_path / f"m{levels}{end_in_composite}", data)
            if protobuf_reads(data):
                accepted += 1
                show_json(model)
            else:
                refused += 1
                for message in assert_refused(model, commands=(("show",),)):
                    assert "nest" in message and "100" in message
    assert accepted and refused


def test_nesting_100_read_102_refused(tmp_path):
    show_json(malformed.build("nested_depth_100", tmp_path))
    message = assert_one_error_line(invoke("show", malformed.build("nested_depth_102", tmp_path)), LOAD_FAILED)
    assert "nest" in message


def object_graph_model(structured_value: bytes) -> bytes:
    """A TF2-style MetaGraph: root object with a function `f` whose concrete function has this input signature."""
    root = ld(1, ld(1, vf(1, 1) + ld(2, b"f")))  # SavedObject.children: node 1, named f
    function = ld(1, ld(6, ld(1, b"cf")))  # SavedObject.function.concrete_functions: ["cf"]
    concrete = ld(2, ld(1, b"cf") + ld(2, ld(3, structured_value)))  # map entry -> SavedConcreteFunction
    mg = meta_graph(graph=False)
    return ld(2, mg.SerializeToString() + ld(7, root + function + concrete))


def nested_lists(levels: int) -> bytes:
    value = vf(14, 1)  # bool_value: True
    for _ in range(levels):
        value = ld(51, ld(1, value))  # list_value.values
    return value


def test_nesting_limit_of_function_signatures_matches_protobuf(tmp_path):
    accepted = refused = 0
    for levels in range(44, 50):
        data = object_graph_model(ld(52, ld(1, nested_lists(levels)) + ld(1, ld(53, b""))))
        model = write_model(tmp_path / f"m{levels}", data)
        if protobuf_reads(data):
            accepted += 1
            show_json(model, "--all")
        else:
            refused += 1
            assert "nest" in assert_refused(model, commands=(("show", "--all"),))[0]
    assert accepted and refused


def pbtxt_nested(levels: int) -> str:
    inner = "composite_tensor { components { " * levels + "name: 'a:0' " + "} } " * levels
    return (
        "meta_graphs { meta_info_def { tags: 'serve' } signature_def { key: 'serving_default' value { "
        f"inputs {{ key: 'x' value {{ {inner} }} }} }} }} }}\n"
    )


def test_pbtxt_nesting(tmp_path):
    show_json(write_model(tmp_path / "ok", pbtxt_nested(10).encode(), "saved_model.pbtxt"))
    # Past protobuf's limit, but still parsed by the text parser: refused like binary input.
    message = assert_refused(write_model(tmp_path / "deep", pbtxt_nested(60).encode(), "saved_model.pbtxt"))[0]
    assert "nest" in message
    # Deep enough for a RecursionError in the text parser: a clear error too.
    message = assert_refused(write_model(tmp_path / "deeper", pbtxt_nested(3000).encode(), "saved_model.pbtxt"))[0]
    assert "nested too deeply" in message
    unbalanced = ("meta_graphs { " * 100_000).encode()
    message = assert_refused(write_model(tmp_path / "braces", unbalanced, "saved_model.pbtxt"))[0]
    assert "saved_model.pbtxt" in message


def test_pbtxt_holding_binary_bytes(tmp_path):
    model = write_model(tmp_path / "m", saved_model(), "saved_model.pbtxt")
    for message in assert_refused(model):
        assert "not text" in message and "saved_model.pb" in message


def test_pbtxt_with_nul_bytes(tmp_path):
    model = write_model(tmp_path / "m", b"meta_graphs {\x00}\n", "saved_model.pbtxt")
    for message in assert_refused(model):
        assert "not a valid text SavedModel" in message


# --- values a newer (or hostile) writer may produce -------------------------------------------------------


def test_invalid_utf8_in_names_and_keys_is_shown_replaced(tmp_path):
    # TensorFlow's readers refuse the whole file (proto3 strings must be UTF-8); sigtool shows what
    # it can, with replacement characters, so that the user sees which name is broken, then exits 3.
    info = ld(1, b"x\xc0:0") + vf(2, 1) + ld(3, ld(2, vf(1, 3)))
    signature = ld(1, ld(1, b"in\xfe") + ld(2, info)) + ld(2, ld(1, b"y") + ld(2, tensor_info("y:0").SerializeToString()))
    signature += ld(3, b"tensorflow/serving/pre\xffdict")
    entry = ld(1, b"serv\xffing") + ld(2, signature)
    mg = ld(1, ld(4, b"se\xe2\x82rve") + ld(5, b"2.\xff")) + ld(2, small_graph().SerializeToString()) + ld(5, entry)
    model = write_model(tmp_path / "m", ld(2, mg))
    result = invoke("show", model, "--all", "-f", "json")
    assert result.exit_code == 3 and "TensorFlow will not parse this file" in result.stderr
    shown = json.loads(result.stdout)
    [mg_json] = shown["meta_graphs"]
    assert mg_json["tags"] == ["se\ufffdrve"]
    [sig] = mg_json["signatures"]
    assert sig["key"] == "serv\ufffding"
    assert sig["method_name"] == "tensorflow/serving/pre\ufffddict"
    assert [(t["key"], t["name"]) for t in sig["inputs"]] == [("in\ufffd", "x\ufffd:0")]
    table = invoke("show", model)
    assert table.exit_code == 3 and "serv\ufffding" in table.stdout
    assert {f["rule"] for f in assert_check_ran(model)} >= {"FMT005"}


def test_unknown_enum_values_stay_visible(tmp_path):
    info = tensor_info("x:0", dtype=9999)
    composite = meta_graph_pb2.TensorInfo()
    composite.composite_tensor.type_spec.type_spec_class = 4242
    composite.composite_tensor.components.add().CopyFrom(tensor_info("c:0", dtype=1))
    mg = meta_graph()
    mg.signature_def["serving_default"].inputs["x"].CopyFrom(info)
    mg.signature_def["serving_default"].inputs["c"].CopyFrom(composite)
    mg.signature_def["serving_default"].outputs["y"].dtype = -5  # a 10-byte varint on the wire
    model = write_model(tmp_path / "m", saved_model(mg))
    [sig] = show_json(model)["meta_graphs"][0]["signatures"]
    inputs = {t["key"]: t for t in sig["inputs"]}
    assert inputs["x"]["dtype"] == "DT_UNKNOWN_9999"
    assert inputs["c"]["composite"]["type_spec_class"] == "UNKNOWN_4242"
    assert sig["outputs"][0]["dtype"] == "DT_UNKNOWN_-5"
    table = invoke("show", model)
    assert table.exit_code == 0 and "DT_UNKNOWN_9999" in table.stdout
    assert_check_ran(model)


UNKNOWN_FIELDS = vf(4000, 7) + tag(4001, 1) + b"\x01" * 8 + ld(4002, b"\xff\xfe junk") + tag(4003, 3) + vf(1, 1) + tag(4003, 4) + tag(4004, 5) + b"abcd"


def add_unknown_fields(message) -> None:
    """Unknown fields of every wire type in this message and every message under it."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            values = value.values() if field.message_type.fields_by_name["value"].message_type else ()
        elif field.is_repeated:
            values = value
        else:
            values = [value]
        for sub in values:
            add_unknown_fields(sub)
    message.MergeFromString(UNKNOWN_FIELDS)


@pytest.mark.parametrize("source", [
    "tf/tf2_module_multisig",
    "tf/tf1_composite_tensors",
    "tf/tf1_assets_vocab_table",
    "real/saved_model_half_plus_two_tf2_cpu/00000123",
])
def test_unknown_fields_anywhere_are_ignored(source, tmp_path):
    original = (TESTDATA / source / "saved_model.pb").read_bytes()
    message = saved_model_pb2.SavedModel.FromString(original)
    add_unknown_fields(message)
    padded = message.SerializeToString(deterministic=True)  # map entries in key order, as TF wrote them
    assert len(padded) > len(original) + 1000
    assert protobuf_reads(padded)
    plain = write_model(tmp_path / "plain", original)
    noisy = write_model(tmp_path / "noisy", padded)

    def comparable(shown: dict) -> dict:
        return {k: v for k, v in shown.items() if k not in ("path", "source")}

    assert comparable(show_json(noisy, "--all")) == comparable(show_json(plain, "--all"))
    assert assert_check_ran(noisy) == assert_check_ran(plain)


# --- 2 GiB and more: the fast path reads around the bytes it does not need ------------------------------------

BIG_CONTENT = 2**31 + 2**27  # bytes of tensor_content: the file ends up over protobuf's 2 GiB limit
RSS_LIMIT = 100 * 2**20  # sigtool's own peak (see run_bounded): ~20 MiB here; reading the 2 GiB would be far over


class Hole(int):
    """That many zero bytes, left unwritten: a hole in a sparse file."""


def chunk_len(chunks) -> int:
    return sum(c if isinstance(c, Hole) else len(c) for c in chunks)


def ld_chunks(number: int, *chunks) -> list:
    return [tag(number, 2) + varint(chunk_len(chunks)), *chunks]


def big_saved_model_chunks() -> list:
    """A SavedModel whose graph holds a Const of BIG_CONTENT zero bytes, with the signatures after the graph."""
    tensor = tensor_pb2.TensorProto(dtype=1, tensor_shape=tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=BIG_CONTENT // 4)]))
    value = ld_chunks(8, tensor.SerializeToString(), *ld_chunks(4, Hole(BIG_CONTENT)))  # AttrValue.tensor
    big = node("big", "Const", dtype=float_type()).SerializeToString()
    big_node = [big, *ld_chunks(5, ld(1, b"value"), *ld_chunks(2, *value))]  # NodeDef.attr["value"]
    graph = [
        ld(1, node("x", "Placeholder", dtype=float_type()).SerializeToString()),
        *ld_chunks(1, *big_node),
        ld(1, node("y", "AddV2", "x", "big", T=float_type()).SerializeToString()),
    ]
    mg = meta_graph(graph=False)
    info, signatures = meta_graph_pb2.MetaGraphDef(meta_info_def=mg.meta_info_def), meta_graph_pb2.MetaGraphDef()
    for key, sig in mg.signature_def.items():
        signatures.signature_def[key].CopyFrom(sig)
    meta = [info.SerializeToString(), *ld_chunks(2, *graph), signatures.SerializeToString()]
    return [saved_model_pb2.SavedModel(saved_model_schema_version=1).SerializeToString(), *ld_chunks(2, *meta)]


def write_sparse(path: Path, chunks) -> None:
    with open(path, "wb") as f:
        for c in chunks:
            if isinstance(c, Hole):
                f.seek(c, os.SEEK_CUR)
            else:
                f.write(c)
        f.truncate()


def require_sparse(path: Path) -> None:
    st = path.stat()
    if st.st_blocks * 512 > 64 * 2**20:
        path.unlink()
        pytest.skip("the temporary file system does not keep sparse files sparse")


@pytest.fixture(scope="module")
def big_models(tmp_path_factory):
    """Sparse files over 2 GiB: (name -> model directory)."""
    root = tmp_path_factory.mktemp("big")
    chunks = big_saved_model_chunks()
    train = saved_model(meta_graph(tags=("train",), key="train_step"))
    made = {}
    for name, extra in (("big", []), ("big_plus_train", [train])):
        d = root / name
        d.mkdir()
        write_sparse(d / "saved_model.pb", chunks + extra)
        require_sparse(d / "saved_model.pb")
        made[name] = d
    for name, file_name in (("big_pbtxt", "saved_model.pbtxt"), ("big_export_meta", "export.meta")):
        d = root / name
        d.mkdir()
        write_sparse(d / file_name, [Hole(2**31 + 10)])
        require_sparse(d / file_name)
        made[name] = d
    yield made
    shutil.rmtree(root, ignore_errors=True)  # the files are sparse, but 2 GiB to any tool that copies them


# sigtool's own peak RSS, reported by the process itself at exit: VmHWM of its address space after exec. The
# rusage of the child (wait4's ru_maxrss) is not that: Linux carries the high-water mark of the pre-exec image
# into it, and with preexec_fn that image is a fork of this pytest process, whose RSS depends on what earlier
# tests loaded (TensorFlow and its models: 200-300 MiB), not on sigtool. That made this bound flaky.
_PEAK_WRAPPER = """
import atexit, os, runpy, sys

def _report():
    with open("/proc/self/status") as status:
        peak = next(line for line in status if line.startswith("VmHWM:"))
    with open(os.environ["SIGTOOL_TEST_PEAK_FILE"], "w") as out:
        out.write(peak.split()[1])

atexit.register(_report)
sys.argv = ["sigtool", *sys.argv[1:]]
runpy.run_module("sigtool", run_name="__main__", alter_sys=True)
"""


def run_bounded(args, *, timeout: float = 240) -> tuple[int, str, str, int, float]:
    """sigtool in a subprocess: (exit code, stdout, stderr, peak RSS in bytes, seconds).

    The peak RSS is sigtool's own (VmHWM, file-backed pages of the memory-mapped model included). The address
    space is capped too (file size + 1 GiB, as the file is memory-mapped), so that a copy of the whole file
    fails at once instead of filling the machine.
    """
    size = max(p.stat().st_size for a in args if Path(a).is_dir() for p in Path(a).iterdir())

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (size + 2**30, size + 2**30))

    with tempfile.TemporaryDirectory() as scratch:
        peak_file = Path(scratch) / "peak_kib"
        env = {**os.environ, "COLUMNS": "100", "PYTHONDONTWRITEBYTECODE": "1", "SIGTOOL_TEST_PEAK_FILE": str(peak_file)}
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", _PEAK_WRAPPER, *map(str, args)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, preexec_fn=limit, env=env)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"sigtool {' '.join(map(str, args))} ran over {timeout} s")
        seconds = time.monotonic() - start
        assert peak_file.exists(), f"sigtool exited without its exit handlers: {stderr.decode()[-500:]}"
        peak = int(peak_file.read_text()) * 1024
    return proc.returncode, stdout.decode(), stderr.decode(), peak, seconds


BIG_RESULTS: list[str] = []


@pytest.mark.parametrize("args", [("show",), ("show", "--all"), ("show", "--all", "-f", "json"), ("check", "-f", "json")],
                         ids=" ".join)
def test_saved_model_over_2_gib_is_read_in_bounded_memory(big_models, args):
    model = big_models["big"]
    assert (model / "saved_model.pb").stat().st_size > 2**31
    code, stdout, stderr, rss, seconds = run_bounded([*args, model])
    BIG_RESULTS.append(f"{' '.join(args)}: {seconds:.2f} s, peak RSS {rss / 2**20:.0f} MiB")
    print(BIG_RESULTS[-1])
    assert "Traceback" not in stderr, stderr
    assert rss < RSS_LIMIT, f"peak RSS {rss / 2**20:.0f} MiB"
    if args[0] == "check":
        assert code in (0, 1), stderr
        report = json.loads(stdout)
        assert len(report["models"]) == 1
        return
    assert code == 0, stderr
    if "json" in args:
        [mg] = json.loads(stdout)["meta_graphs"]
        [sig] = mg["signatures"]
        assert (sig["key"], [t["name"] for t in sig["inputs"]], [t["name"] for t in sig["outputs"]]) == (
            "serving_default", ["x:0"], ["y:0"])
        assert mg["ops"] == ["AddV2", "Const", "Placeholder"]
    else:
        assert "serving_default" in stdout and "x:0" in stdout and "y:0" in stdout and "DT_FLOAT" in stdout


def test_concatenated_saved_models_over_2_gib_show_every_meta_graph(big_models):
    code, stdout, stderr, rss, seconds = run_bounded(["show", "-f", "json", big_models["big_plus_train"]])
    BIG_RESULTS.append(f"show -f json (big + train concatenated): {seconds:.2f} s, peak RSS {rss / 2**20:.0f} MiB")
    print(BIG_RESULTS[-1])
    assert code == 0, stderr
    assert rss < RSS_LIMIT
    shown = json.loads(stdout)["meta_graphs"]
    assert [(mg["tags"], [s["key"] for s in mg["signatures"]]) for mg in shown] == [
        (["serve"], ["serving_default"]), (["train"], ["train_step"])]


@pytest.mark.parametrize("name", ["big_pbtxt", "big_export_meta"])
def test_files_read_whole_over_2_gib_are_refused_with_the_reason(big_models, name):
    # Regression: a 2 GiB+ saved_model.pbtxt was copied into memory (twice) before parsing.
    code, _, stderr, rss, seconds = run_bounded(["show", big_models[name]], timeout=60)
    assert code == LOAD_FAILED, stderr
    [error] = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert "2 GiB" in error and "Traceback" not in stderr
    assert rss < RSS_LIMIT and seconds < 30


def test_concatenated_saved_models_merge_as_protobuf_merges(tmp_path):
    first = saved_model(meta_graph(tags=("serve",)))
    second = saved_model(meta_graph(tags=("serve", "gpu"), key="gpu_only"))
    data = first + second
    expected = saved_model_pb2.SavedModel.FromString(data)
    shown = show_json(write_model(tmp_path / "m", data))["meta_graphs"]
    assert [mg["tags"] for mg in shown] == [list(mg.meta_info_def.tags) for mg in expected.meta_graphs]
    assert [[s["key"] for s in mg["signatures"]] for mg in shown] == [["serving_default"], ["gpu_only"]]


# --- no surprises on disk ------------------------------------------------------------------------------

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


@pytest.fixture
def file_access(monkeypatch):
    """A context manager recording every file opened (and how) in this process; file-system changes fail."""
    opened: list[tuple[str, str]] = []
    changed: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def recording_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)):
            opened.append((os.path.abspath(os.fsdecode(file)), "w" if set(mode) & set("wax+") else "r"))
        return real_open(file, mode, *args, **kwargs)

    def recording_os_open(path, flags, *args, **kwargs):
        opened.append((os.path.abspath(os.fsdecode(path)), "w" if flags & _WRITE_FLAGS else "r"))
        return real_os_open(path, flags, *args, **kwargs)

    def refuse(name):
        def change(*args, **kwargs):
            changed.append(f"{name}{args}")
            raise PermissionError(f"test: {name} is not allowed")

        return change

    @contextmanager
    def recording():
        with monkeypatch.context() as m:
            m.setattr(builtins, "open", recording_open)
            m.setattr(io, "open", recording_open)
            m.setattr(os, "open", recording_os_open)
            for name in ("mkdir", "makedirs", "rename", "replace", "remove", "unlink", "rmdir", "symlink", "link",
                         "truncate", "chmod", "utime", "mkfifo"):
                m.setattr(os, name, refuse(name))
            yield opened, changed

    return recording


def listing(root: Path) -> dict[str, tuple]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            found[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return found


def test_no_file_is_written_or_read_outside_the_model(tmp_path, monkeypatch, file_access):
    tree = tmp_path / "tree"
    model = tree / "models" / "warm" / "1"
    shutil.copytree(GEN / "tf2_warmup", model)
    (model / "assets").mkdir(exist_ok=True)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for p in [tree, *tree.rglob("*")]:  # a read-only tree (root may write anyway: the listings tell)
        p.chmod(p.stat().st_mode & ~0o222)
    monkeypatch.chdir(cwd)
    before, cwd_before = listing(tree), listing(cwd)
    try:
        with file_access() as (opened, changed):
            for args in (("show",), ("show", "--all"), ("show", "--all", "-f", "json"), ("show", "-f", "smcli", "--all"),
                         ("check",), ("check", "-f", "json", "--strict")):
                result = invoke(*args, model)
                assert result.exit_code in (0, 1), result.stderr
                assert "Traceback" not in result.stderr
            assert invoke("show", tree / "models" / "warm").exit_code == 0  # a model base path
        after, cwd_after = listing(tree), listing(cwd)
    finally:
        for p in [tree, *tree.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
    assert changed == []
    assert [p for p, how in opened if how == "w"] == []
    outside = sorted({p for p, _ in opened if not p.startswith(str(model) + os.sep)})
    assert outside == []
    assert after == before
    assert cwd_after == cwd_before == {}


def test_asset_paths_outside_the_model_are_reported_and_never_opened(tmp_path, file_access):
    model = tmp_path / "a" / "b" / "model"
    shutil.copytree(GEN / "tf2_assets_lookup", model)
    targets = [(model / "assets" / ".." / ".." / "outside.txt").resolve(), (model / ".." / ".." / "outside.txt").resolve(),
               tmp_path / "absolute_outside.txt"]
    for target in targets:
        target.write_text("secret\n")
    sm = saved_model_pb2.SavedModel.FromString((model / "saved_model.pb").read_bytes())
    mg = sm.meta_graphs[0]
    assert [a.filename for a in mg.asset_file_def] == ["vocab.txt"]
    for filename in ("../../outside.txt", str(tmp_path / "absolute_outside.txt")):
        mg.asset_file_def.add(filename=filename).tensor_info.name = "asset_path_initializer:0"
    (model / "saved_model.pb").write_bytes(sm.SerializeToString())
    with file_access() as (opened, changed):
        findings = assert_check_ran(model)
        assert_check_ran(model, "--strict")
    assert changed == []
    outside = {f["where"]: f["message"] for f in findings if f["rule"] == "SERVE004"}
    assert len(outside) == 2, findings
    assert all("outside the model directory" in m and "not opened" in m for m in outside.values())
    assert any("../../outside.txt" in w for w in outside) and any("absolute_outside.txt" in w for w in outside)
    opened_paths = {Path(p).resolve() for p, _ in opened}
    assert not opened_paths & set(targets), opened_paths
    assert all(str(p).startswith(str(model.resolve())) for p in opened_paths), opened_paths


# --- regressions for what the fuzzer (tests/test_fuzz.py) found ------------------------------------------------


def test_float_value_written_as_an_overlong_varint(tmp_path):
    # Crashed with struct.error: a StructuredValue float64_value (field 11) sent as a varint over
    # 64 bits. protobuf drops the bits past 64 and reads a wrong wire type as an unknown field.
    value = ld(52, ld(1, ld(52, ld(1, tag(11, 0) + b"\xff" * 9 + b"\x7f"))) + ld(1, ld(53, b"")))
    data = object_graph_model(value)
    assert protobuf_reads(data)
    expected = saved_model_pb2.SavedModel.FromString(data).meta_graphs[0].object_graph_def
    arg = expected.concrete_functions["cf"].canonicalized_input_signature.tuple_value.values[0].tuple_value.values[0]
    assert arg.WhichOneof("kind") is None  # protobuf: an unknown field, so no value
    shown = show_json(write_model(tmp_path / "m", data), "--all")
    [function] = shown["meta_graphs"][0]["functions"]
    [concrete] = function["concrete_functions"]
    assert [a["kind"] for a in concrete["args"]] == ["none"]


@pytest.mark.parametrize("field,wire_type,payload", [
    (11, 0, varint(5)), (11, 5, b"abcd"), (11, 2, varint(3) + b"abc"), (12, 2, varint(1) + b"a"), (14, 1, b"\x01" * 8),
    (52, 0, varint(1)), (32, 2, varint(0)),
])
def test_struct_fields_of_the_wrong_wire_type_are_unknown_as_in_protobuf(tmp_path, field, wire_type, payload):
    value = ld(52, ld(1, ld(52, ld(1, tag(field, wire_type) + payload))) + ld(1, ld(53, b"")))
    data = object_graph_model(value)
    assert protobuf_reads(data)
    shown = show_json(write_model(tmp_path / "m", data), "--all")
    assert [a["kind"] for a in shown["meta_graphs"][0]["functions"][0]["concrete_functions"][0]["args"]] == ["none"]


def test_varints_keep_64_bits_as_protobuf_does(tmp_path):
    # A dimension written as a 10-byte varint with bits past 64: protobuf keeps the low 64 bits.
    dim = ld(2, tag(1, 0) + b"\xfe" + b"\xff" * 8 + b"\x7f")  # -2, with high garbage bits
    info = ld(1, b"x:0") + vf(2, 1) + ld(3, dim)
    signature = ld(1, ld(1, b"x") + ld(2, info))
    data = ld(2, ld(1, ld(4, b"serve")) + ld(5, ld(1, b"serving_default") + ld(2, signature)))
    expected = saved_model_pb2.SavedModel.FromString(data)
    size = expected.meta_graphs[0].signature_def["serving_default"].inputs["x"].tensor_shape.dim[0].size
    shown = show_json(write_model(tmp_path / "m", data))
    assert shown["meta_graphs"][0]["signatures"][0]["inputs"][0]["shape"] == [size] == [-2]


def aliased_functions_model(aliases: int, specs: int) -> bytes:
    """A root object with `aliases` children naming one function whose signature holds `specs` TensorSpecs."""
    spec = ld(33, ld(1, b"x") + ld(2, ld(2, vf(1, 3))) + vf(3, 1))
    signature = ld(52, ld(1, ld(51, ld(1, spec) * specs)) + ld(1, ld(53, b"")))
    root = ld(1, b"".join(ld(1, vf(1, 1) + ld(2, b"f%d" % i)) for i in range(aliases)))
    function = ld(1, ld(6, ld(1, b"cf")))
    concrete = ld(2, ld(1, b"cf") + ld(2, ld(3, signature)))
    return ld(2, meta_graph(graph=False).SerializeToString() + ld(7, root + function + concrete))


def test_function_aliases_cannot_blow_up_show_all(tmp_path):
    # Found while fuzzing by hand: 24 KB naming one 200-value signature 2000 times took 10 s and
    # 870 MB to list (and 120 MB of JSON). Each function object is now decoded once, and the
    # listing is bounded.
    model = write_model(tmp_path / "bomb", aliased_functions_model(2000, 200))
    start = time.monotonic()
    message = assert_one_error_line(invoke("show", "--all", "-f", "json", model), LOAD_FAILED)
    assert time.monotonic() - start < 5
    assert "too many to show" in message and "without --all" in message
    assert show_json(model)["meta_graphs"][0]["signatures"][0]["key"] == "serving_default"
    assert_check_ran(model)
    fine = write_model(tmp_path / "aliases", aliased_functions_model(20, 5))
    functions = show_json(fine, "--all")["meta_graphs"][0]["functions"]
    assert sorted(f["name"] for f in functions) == sorted(f"f{i}" for i in range(20))
    assert all(len(f["concrete_functions"][0]["args"]) == 5 for f in functions)


@pytest.mark.parametrize("value", ["99999999999", "-2147483649", "4294967296"])
def test_pbtxt_number_out_of_its_fields_range(tmp_path, value):
    # Crashed with ValueError (found by the fuzzer): protobuf's text parser raises it, not ParseError,
    # for an enum number beyond int32.
    text = pbtxt_nested(0).replace("name: 'a:0'", f"name: 'a:0' dtype: {value}")
    for message in assert_refused(write_model(tmp_path / "m", text.encode(), "saved_model.pbtxt")):
        assert "not a valid text SavedModel" in message and "out of range" in message


def test_version_with_thousands_of_digits(tmp_path):
    # Crashed with ValueError: int() refuses strings of over 4300 digits.
    base = tmp_path / "base"
    write_model(base / "1", saved_model())
    message = assert_one_error_line(invoke("show", base, "--version", "1" * 5000), 2)
    assert "not found" in message
    assert invoke("show", base, "--version", "0001").exit_code == 0


def test_every_regression_input_also_loads_through_the_library(tmp_path):
    # The same inputs the CLI tests above use, straight through load(): no exception but SigtoolError.
    from sigtool.errors import SigtoolError

    for i, data in enumerate([*WIRE_CASES.values(), *WELL_FORMED_CASES.values()]):
        model = write_model(tmp_path / str(i), data)
        for kwargs in ({"ops": True, "functions": True}, {"graph": True}):
            try:
                load(str(model), **kwargs)
            except SigtoolError as e:
                assert "\n" not in e.format_message()


def test_non_finite_float_defaults_still_give_valid_json(tmp_path):
    # Found while hardening: show --all -f json wrote NaN for a float default value (fixed in render.py).
    import struct

    value = ld(52, ld(1, ld(52, ld(1, tag(11, 1) + struct.pack("<d", float("nan"))))) + ld(1, ld(53, b"")))
    result = invoke("show", "--all", "-f", "json", write_model(tmp_path / "m", object_graph_model(value)))
    assert result.exit_code == 0

    def reject(token):
        raise ValueError(token)

    json.loads(result.stdout, parse_constant=reject)
