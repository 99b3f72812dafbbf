"""sigtool on untrusted bytes: what protobuf refuses sigtool refuses cleanly; what it reads sigtool reads.

The wire format's oddities, TensorFlow's nesting limit (100 read, 102 refused), text-format edge cases,
and values a newer (or hostile) writer may produce: invalid UTF-8, unknown enum values, unknown fields.
Last, regressions for what the fuzzer (tests/test_fuzz.py) found, each input as a plain test.
"""

from __future__ import annotations

import json
import time

import malformed
import pytest
from conftest import TESTDATA, assert_one_error_line, invoke
from factories import ld, tag, varint, vf
from hardening import (
    LOAD_FAILED,
    assert_check_ran,
    assert_refused,
    meta_graph,
    node,
    protobuf_reads,
    saved_model,
    show_json,
    small_graph,
    tensor_info,
    write_model,
)

from sigtool._proto import meta_graph_pb2, saved_model_pb2
from sigtool.loader import load

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
EMPTY_SAYS = {
    "nothing": "no MetaGraph",
    "only a schema version": "no MetaGraph",
    "meta_graphs as a varint": "wrong wire type",
    "a GraphDef": "is a GraphDef",
}


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
    "unknown fields of every wire type": GOOD
    + vf(99, 7)
    + tag(98, 1)
    + b"\x00" * 8
    + ld(97, b"xyz")
    + tag(96, 5)
    + b"abcd",
    "a 10-byte varint with bits past 64": vf(1, 0)[:1]
    + b"\xff" * 9
    + b"\x7f"
    + ld(2, meta_graph().SerializeToString()),
    # protobuf reads length prefixes of up to 5 bytes (sigtool up to 10, for files past 2 GiB)
    "a length written with needless continuation bytes": tag(2, 2)
    + b"\x80" * 4
    + b"\x00"
    + ld(2, meta_graph().SerializeToString()),
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
    signature = ld(1, ld(1, b"in\xfe") + ld(2, info)) + ld(
        2, ld(1, b"y") + ld(2, tensor_info("y:0").SerializeToString())
    )
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


UNKNOWN_FIELDS = (
    vf(4000, 7)
    + tag(4001, 1)
    + b"\x01" * 8
    + ld(4002, b"\xff\xfe junk")
    + tag(4003, 3)
    + vf(1, 1)
    + tag(4003, 4)
    + tag(4004, 5)
    + b"abcd"
)


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


@pytest.mark.parametrize(
    "source",
    [
        "tf/tf2_module_multisig",
        "tf/tf1_composite_tensors",
        "tf/tf1_assets_vocab_table",
        "real/saved_model_half_plus_two_tf2_cpu/00000123",
    ],
)
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


@pytest.mark.parametrize(
    "field,wire_type,payload",
    [
        (11, 0, varint(5)),
        (11, 5, b"abcd"),
        (11, 2, varint(3) + b"abc"),
        (12, 2, varint(1) + b"a"),
        (14, 1, b"\x01" * 8),
        (52, 0, varint(1)),
        (32, 2, varint(0)),
    ],
)
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
