"""sigtool.serving's request values against TF Serving's REST rules: JSON values to dtypes, row and columnar
formats, declared shapes, and the parser's limits (split from test_serving_requests.py).
"""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from factories import signature as sig
from factories import spec
from serving_cases import FLOAT, INF, INT32, STRING, f32, rejected, same

from sigtool.model import TensorSpec
from sigtool.serving.errors import RequestRejected
from sigtool.serving.json_io import MAX_BODY_BYTES
from sigtool.serving.requests import parse_request
from sigtool.serving.values import Tensor

# ---------------------------------------------------------------- JSON values -> dtypes

DTYPE_OK = [
    ("DT_FLOAT", "1", 1.0),
    ("DT_FLOAT", "1e300", INF),
    ("DT_FLOAT", "-1e300", -INF),
    ("DT_FLOAT", "1e-300", 0.0),
    ("DT_FLOAT", "-0.0", -0.0),
    ("DT_FLOAT", "-0", 0.0),
    ("DT_FLOAT", "0.1", f32(0.1)),
    ("DT_FLOAT", "NaN", math.nan),
    ("DT_FLOAT", "Infinity", INF),
    ("DT_FLOAT", "-Infinity", -INF),
    ("DT_FLOAT", "Inf", INF),
    ("DT_FLOAT", "-Inf", -INF),
    ("DT_FLOAT", "18446744073709551616", f32(2.0**64)),
    ("DT_DOUBLE", "0.1", 0.1),
    ("DT_DOUBLE", "1", 1.0),
    ("DT_DOUBLE", "1e300", 1e300),
    ("DT_DOUBLE", "NaN", math.nan),
    ("DT_DOUBLE", "9007199254740993", 9007199254740992.0),
    ("DT_INT32", "2147483647", 2147483647),
    ("DT_INT32", "-2147483648", -2147483648),
    ("DT_INT32", "-0", 0),
    ("DT_INT16", "300", 300),
    ("DT_INT16", "40000", 40000 - 65536),  # accepted as int32, then cast as C++ does
    ("DT_INT8", "300", 44),
    ("DT_INT8", "-129", 127),
    ("DT_UINT8", "-1", 255),
    ("DT_UINT8", "256", 0),
    ("DT_INT64", "9223372036854775807", 2**63 - 1),
    ("DT_INT64", "-9223372036854775808", -(2**63)),
    ("DT_UINT32", "4294967295", 2**32 - 1),
    ("DT_UINT64", "18446744073709551615", 2**64 - 1),
    ("DT_BOOL", "true", True),
    ("DT_BOOL", "false", False),
    ("DT_STRING", '"caf\u00e9"', "café".encode()),
    ("DT_STRING", '"caf\\u00e9"', b"caf\xc3\xa9"),
    ("DT_STRING", '"\\ud83d\\ude00"', b"\xf0\x9f\x98\x80"),
    ("DT_STRING", '""', b""),
    ("DT_STRING", '{"b64": "aGVsbG8="}', b"hello"),
    ("DT_STRING", '{"b64": "aGVsbG8"}', b"hello"),
    ("DT_STRING", '{"b64": " aGVs\\nbG8 = "}', b"hello"),
    ("DT_STRING", '{"b64": ""}', b""),
    ("DT_STRING", '{"b64": "/+8="}', b"\xff\xef"),
    ("DT_STRING", '{"b64": "QR=="}', b"A"),  # absl ignores the unused low bits
    ("DT_STRING", '{"b64": "aGk."}', b"hi"),  # and takes '.' as padding too
]


@pytest.mark.parametrize("dtype,literal,value", DTYPE_OK)
def test_dtype_conversion(dtype, literal, value):
    req = parse_request(f'{{"instances": [{literal}]}}', sig(spec("x", dtype, None)))
    t = req.inputs["x"]
    assert (t.dtype, t.shape) == (dtype, (1,))
    assert same(t.values, (value,))


DTYPE_BAD = [
    ("DT_FLOAT", '"1.0"', "Type: String is not of expected type: float"),
    ("DT_FLOAT", "true", "Type: True is not of expected type: float"),
    ("DT_FLOAT", "null", "Type: Null is not of expected type: float"),
    ("DT_DOUBLE", '[{"a": 1}]', 'JSON Value: { "a": 1 } Type: Object is not of expected type: double'),
    ("DT_DOUBLE", '{"a": 1}', "does not have named input: a"),  # an object instance names inputs
    ("DT_INT32", "2147483648", "JSON Value: 2147483648 Type: Number is not of expected type: int32"),
    ("DT_INT32", "1e3", "Type: Number is not of expected type: int32"),
    ("DT_INT32", "NaN", "is not of expected type: int32"),
    ("DT_INT32", "Infinity", "is not of expected type: int32"),
    ("DT_INT8", "2147483648", "is not of expected type: int8"),
    ("DT_UINT8", "1.0", "is not of expected type: uint8"),
    ("DT_INT64", "9223372036854775808", "is not of expected type: int64"),
    ("DT_INT64", "-9223372036854775809", "is not of expected type: int64"),
    ("DT_INT64", "NaN", "is not of expected type: int64"),
    ("DT_UINT32", "-1", "is not of expected type: uint32"),
    ("DT_UINT32", "4294967296", "is not of expected type: uint32"),
    ("DT_UINT64", "18446744073709551616", "is not of expected type: uint64"),
    ("DT_UINT64", "-1", "is not of expected type: uint64"),
    ("DT_BOOL", "1", "Type: Number is not of expected type: bool"),
    ("DT_BOOL", '"true"', "Type: String is not of expected type: bool"),
    ("DT_STRING", "1", "Type: Number is not of expected type: string"),
    ("DT_STRING", '[{"b64": "aGVsbG8=", "x": 1}]', "not formatted correctly for base64 data"),
    ("DT_STRING", '[{"b64": 5}]', "not formatted correctly for base64 data"),
    ("DT_STRING", '[{"b64": "aGVsbG8=", "b64": "aGVsbG8="}]', "not formatted correctly for base64 data"),
    ("DT_STRING", '{"b64": "!!!"}', "Unable to base64 decode"),
    ("DT_STRING", '{"b64": "aGVsbG8-"}', "Unable to base64 decode"),  # web-safe alphabet
    ("DT_STRING", '{"b64": "a_8="}', "Unable to base64 decode"),
    ("DT_STRING", '{"b64": "aGVsbG8=="}', "Unable to base64 decode"),  # two pads where one is due
    ("DT_STRING", '{"b64": "aGVsbG8=x"}', "Unable to base64 decode"),  # data after padding
    ("DT_STRING", '{"b64": "a"}', "Unable to base64 decode"),  # 6 bits left over
    ("DT_HALF", "1.0", "UNIMPLEMENTED: Conversion of JSON Value: 1.0 to type: half"),
    ("DT_BFLOAT16", "1", "Conversion of JSON Value: 1 to type: bfloat16"),
    ("DT_UINT16", "1", "Conversion of JSON Value: 1 to type: uint16"),
    ("DT_COMPLEX64", "1", "to type: complex64"),
    ("DT_INVALID", "1", "to type: INVALID"),
    ("DT_HALF", '{"b64": "AA=="}', "Type: Object is not of expected type: half"),
]


@pytest.mark.parametrize("dtype,literal,words", DTYPE_BAD)
def test_dtype_conversion_errors(dtype, literal, words):
    rejected(f'{{"instances": [{literal}]}}', sig(spec("x", dtype, None)), words)


def test_wrong_type_errors_say_what_to_send():
    rejected('{"instances": [1.5]}', sig(spec("x", "DT_UINT8", None)), "whole numbers")
    rejected('{"instances": ["a"]}', sig(spec("x", "DT_BOOL", None)), "true or false")
    rejected('{"instances": [1]}', sig(spec("x", "DT_STRING", None)), '"b64"')
    rejected('{"instances": [1]}', sig(spec("x", "DT_HALF", None)), "gRPC")
    rejected('{"instances": [{"b64": "a-b_"}]}', STRING, "URL-safe")


def test_bulk_and_in_order_reading_agree():
    # a well-formed plain batch is read in bulk; objects or faults take Serving's element-by-element walk
    s = sig(spec("x", "DT_STRING", None))
    bulk = parse_request('{"instances": [["a", "b"], ["c", "d"]]}', s).inputs["x"]
    walked = parse_request('{"instances": [["a", "b"], ["c", {"b64": "ZA=="}]]}', s).inputs["x"]
    assert bulk == walked == Tensor("DT_STRING", (2, 2), (b"a", b"b", b"c", b"d"))
    big = parse_request('{"instances": [1, 18446744073709551615]}', FLOAT).inputs["default"]
    assert big.values == (1.0, f32(2.0**64))


def test_long_values_are_cut_in_messages():
    body = '{"instances": [{"a": [' + ", ".join(["1"] * 10_000) + "]}]}"
    with pytest.raises(RequestRejected) as info:
        parse_request(body, sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)))
    assert "keys must be equal to: a,b" in info.value.serving_message
    assert len(info.value.message) < 600


def test_tensor_checks_its_value_count():
    with pytest.raises(ValueError):
        Tensor("DT_FLOAT", (2, 2), (1.0,))


def test_row_and_columnar_formats():
    x = sig(spec("x", "DT_FLOAT", None))
    row = parse_request('{"instances": [[1.0], [2.0]]}', x)
    col = parse_request('{"inputs": [[1.0], [2.0]]}', x)
    assert row.row_format and not col.row_format
    assert row.inputs == col.inputs == {"x": Tensor("DT_FLOAT", (2, 1), (1.0, 2.0))}
    # a single input may still be named, in either format
    assert parse_request('{"instances": [{"x": 1.0}, {"x": 2.0}]}', x).inputs["x"].shape == (2,)
    assert parse_request('{"inputs": {"x": [1.0, 2.0]}}', x).inputs["x"].shape == (2,)


def test_columnar_bare_values_and_independent_shapes():
    assert parse_request('{"inputs": 5}', INT32).inputs["default"] == Tensor("DT_INT32", (), (5,))
    assert parse_request('{"inputs": {"b64": "aGk="}}', STRING).inputs["default"] == Tensor("DT_STRING", (), (b"hi",))
    assert parse_request('{"inputs": []}', INT32).inputs["default"] == Tensor("DT_INT32", (0,), ())
    two = sig(spec("a", "DT_INT32", None), spec("b", "DT_STRING", None))
    req = parse_request('{"inputs": {"a": [[1, 2, 3]], "b": "s", "ignored": {"x": 1}}}', two)
    assert req.inputs == {"a": Tensor("DT_INT32", (1, 3), (1, 2, 3)), "b": Tensor("DT_STRING", (), (b"s",))}


def test_json_parsing_follows_rapidjson():
    # trailing text is ignored (kParseStopWhenDoneFlag); the first of duplicate keys wins (FindMember)
    assert parse_request('{"instances": [1]} xyz', INT32).inputs["default"].values == (1,)
    assert parse_request('{"instances": [1], "instances": [2, 3]}', INT32).inputs["default"].values == (1,)
    assert parse_request(b'\xef\xbb\xbf{"instances": [7]}', INT32).inputs["default"].values == (7,)
    rejected('{"instances": [nan]}', FLOAT, "JSON Parse error: Invalid value.")
    rejected('{"instances": [1,]}', FLOAT, "JSON Parse error")
    # a string with Inf inside is left alone when the tokens are rewritten
    req = parse_request(
        '{"instances": [{"x": Inf, "s": "Inf -Inf -NaN"}]}',
        sig(spec("x", "DT_FLOAT", None), spec("s", "DT_STRING", None)),
    )
    assert req.inputs["s"].values == (b"Inf -Inf -NaN",) and req.inputs["x"].values == (INF,)
    # bytes that are not UTF-8 travel unchanged into DT_STRING, as rapidjson does not validate
    assert parse_request(b'{"instances": ["\xff\xfe"]}', STRING).inputs["default"].values == (b"\xff\xfe",)


def test_declared_shapes_are_checked_unless_turned_off():
    x = sig(spec("x", "DT_FLOAT", (-1, 1)))
    assert parse_request('{"instances": [[1.0], [2.0]]}', x).inputs["x"].shape == (2, 1)
    message = rejected('{"instances": [1.0, 2.0]}', x, "'x' has shape [2]", "declares [-1,1]", "[1]", "check_shapes")
    assert "Serving" in message
    assert parse_request('{"instances": [1.0, 2.0]}', x, check_shapes=False).inputs["x"].shape == (2,)
    fixed = sig(spec("img", "DT_INT32", (-1, 2, 2)))
    rejected('{"instances": [[[1, 2, 3], [4, 5, 6]]]}', fixed, "[1,2,3]", "[-1,2,2]")
    rejected('{"inputs": [[1, 2], [3, 4]]}', fixed, "send 'img' with shape [-1,2,2]")
    assert parse_request('{"inputs": [[[1, 2], [3, 4]]]}', fixed).inputs["img"].shape == (1, 2, 2)
    unknown_rank = sig(spec("x", "DT_FLOAT", None))
    assert parse_request('{"inputs": [[[1.0]]]}', unknown_rank).inputs["x"].shape == (1, 1, 1)


def test_sparse_and_composite_inputs_are_refused():
    sparse = TensorSpec(key="x", dtype="DT_FLOAT", shape=(-1, -1), shape_present=True, encoding="coo_sparse")
    rejected('{"instances": [1.0]}', sig(sparse), "coo_sparse", "dense")


# ---------------------------------------------------------------- hardening limits


@pytest.mark.slow
def test_body_over_64_mib_is_refused_before_parsing():
    body = '{"instances": [' + " " * MAX_BODY_BYTES + "1]}"
    rejected(body, INT32, "64 MiB")
    rejected(body.encode(), INT32, "64 MiB")


@pytest.mark.parametrize(
    "body",
    [
        "[" * 200_000,
        '{"instances": ' + "[" * 100_000 + "1" + "]" * 100_000 + "}",
        '{"a": ' * 100_000 + "1" + "}" * 100_000,
        '{"instances": [1], "nested": ' + "[" * 500_000 + "]" * 500_000 + "}",  # DeeplyNestedWellFormed
        '{"signature_name": ' + "[" * 500_000 + "]" * 500_000 + "}",  # DeeplyNestedMalformed
        '{"x": [' + "[1," * 65 + "1" + "]" * 66 + "}",
    ],
)
def test_deep_nesting_is_refused_without_recursion_error(body):
    rejected(body, INT32, "deeper than 64")


def test_nesting_up_to_64_levels_is_fine_and_brackets_in_strings_do_not_count():
    ok = '{"instances": ' + "[" * 63 + "1" + "]" * 63 + "}"
    assert parse_request(ok, INT32).inputs["default"].shape == (1,) * 63
    rejected('{"instances": ' + "[" * 64 + "1" + "]" * 64 + "}", INT32, "deeper than 64")
    brackets = '{"instances": ["' + "[{" * 1000 + '"]}'
    assert parse_request(brackets, STRING).inputs["default"].values == (("[{" * 1000).encode(),)


def test_ragged_instances_and_lists_are_refused():
    rejected('{"instances": [[1, 2], [3]]}', INT32, "Expecting tensor size: 2 but got: 1", "ragged")
    rejected('{"inputs": [[1, 2], [3]]}', INT32, "Encountered list at unexpected size: 1 at level: 1", "ragged")
    rejected('{"instances": [[[1], [2, 3]]]}', INT32, "unexpected size: 2 at level: 1 expected size: 1")


def test_numbers_beyond_a_double_are_parse_errors():
    rejected('{"instances": [1' + "0" * 400 + "]}", FLOAT, "Number too big to be stored in double")
    rejected('{"instances": [-1e309]}', FLOAT, "Number too big to be stored in double")
    rejected('{"instances": [1' + "0" * 5000 + "]}", FLOAT, "Number too big to be stored in double")


def test_parsing_imports_neither_tensorflow_nor_numpy():
    code = (
        "import sys; from sigtool.serving.requests import parse_request;"
        "from sigtool.serving.responses import format_predict_response;"
        "from sigtool.model import Signature, TensorSpec;"
        "s = Signature('k', 'p', (TensorSpec('x', 'DT_FLOAT', (-1,), True, 'name', 'x:0'),), ());"
        "r = parse_request('{\"instances\": [1.0]}', s);"
        "format_predict_response(r.inputs, True);"
        "assert 'tensorflow' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
