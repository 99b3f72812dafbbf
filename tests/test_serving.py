"""sigtool.serving against TF Serving's REST JSON rules (TF Serving's REST API docs and its json_tensor tests).

The cases are Serving's own facts: golden requests and responses, exact error texts, float printing and
byte layouts, dtype rules, tf.Example building. Only the tests that compare tf.Example bytes with
TensorFlow's own need TensorFlow; they skip without it.
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct
import subprocess
import sys
from fractions import Fraction

import pytest

from factories import signature as sig
from factories import spec  # spec(key, dtype, None): unknown rank, as most requests here need
from sigtool.errors import RunError, UsageError
from sigtool.model import CLASSIFY, PREDICT, REGRESS, TensorSpec
from sigtool.serving.errors import RequestRejected
from sigtool.serving.examples import build_examples, encode_example
from sigtool.serving.floats import f32_from_decimal, format_float
from sigtool.serving.json_io import MAX_BODY_BYTES
from sigtool.serving.requests import ExamplesRequest, PredictRequest, parse_request
from sigtool.serving.responses import (
    format_classify_response,
    format_error,
    format_predict_response,
    format_regress_response,
)
from sigtool.serving.values import Feature, Tensor

INF = math.inf


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def same(values, expected) -> bool:
    """Exact equality that also tells NaN and -0.0 apart."""
    return [repr(v) for v in values] == [repr(v) for v in expected]


def rejected(body, signature, *words, **kw) -> str:
    with pytest.raises(UsageError) as info:
        parse_request(body, signature, **kw)
    message = info.value.message
    assert "\n" not in message, message
    for word in words:
        assert word in message, message
    return message


def squeeze(text: str) -> str:
    """Drop all whitespace, as Serving's docker tests do before comparing."""
    return re.sub(r"\s+", "", text)


INT32 = sig(spec("default", "DT_INT32", None))
FLOAT = sig(spec("default", "DT_FLOAT", None))
DOUBLE = sig(spec("default", "DT_DOUBLE", None))
STRING = sig(spec("default", "DT_STRING", None))
MULTI = sig(spec("int_tensor", "DT_INT32", None), spec("str_tensor", "DT_STRING", None), spec("float_tensor", "DT_FLOAT", None),
            spec("dbl_tensor", "DT_DOUBLE", None))
TWO = sig(spec("int_tensor", "DT_INT32", None), spec("str_tensor", "DT_STRING", None))
DBL_MAX, DBL_MIN = sys.float_info.max, sys.float_info.min


# ---------------------------------------------------------------- golden predict requests -> tensors

PREDICT_GOLDEN = [
    ("SingleUnnamedTensor", INT32, '{"instances": [[1,2],[3,4],[5,6]]}', True,
     {"default": ("DT_INT32", (3, 2), (1, 2, 3, 4, 5, 6))}),
    ("MixedInputForFloatTensor", FLOAT, '{"instances": [1, 2.0, 3, 4, 5.003, 0.007, 0.0]}', True,
     {"default": ("DT_FLOAT", (7,), (1.0, 2.0, 3.0, 4.0, f32(5.003), f32(0.007), 0.0))}),
    ("MixedInputForDoubleTensor", DOUBLE, '{"instances": [1.0, 2, 3, 4, 0.662, 0, 0.0]}', True,
     {"default": ("DT_DOUBLE", (7,), (1.0, 2.0, 3.0, 4.0, 0.662, 0.0, 0.0))}),
    ("FloatTensorWithPrecisionLoss", FLOAT, '{"instances": [1435774380]}', True,
     {"default": ("DT_FLOAT", (1,), (1435774336.0,))}),
    ("FloatTensorWithPrecisionLoss.0", FLOAT, '{"instances": [1435774380.0]}', True,
     {"default": ("DT_FLOAT", (1,), (1435774336.0,))}),
    ("FloatTensorThatExceedsMaxReturnsInf", FLOAT, f'{{"instances": [{DBL_MAX!r}]}}', True,
     {"default": ("DT_FLOAT", (1,), (INF,))}),
    ("FloatTensorThatExceedsMaxReturnsInf-", FLOAT, f'{{"instances": [{-DBL_MAX!r}]}}', True,
     {"default": ("DT_FLOAT", (1,), (-INF,))}),
    ("FloatTensorThatExceedsMinReturnsZero", FLOAT, f'{{"instances": [{DBL_MIN!r}]}}', True,
     {"default": ("DT_FLOAT", (1,), (0.0,))}),
    ("FloatTensorThatExceedsMinReturnsZero-", FLOAT, f'{{"instances": [{-DBL_MIN!r}]}}', True,
     {"default": ("DT_FLOAT", (1,), (-0.0,))}),
    ("SingleUnnamedTensorBase64Scalars", STRING, '{"instances": [ { "b64" : "aGVsbG8=" }, { "b64": "d29ybGQ=" } ]}',
     True, {"default": ("DT_STRING", (2,), (b"hello", b"world"))}),
    ("SingleUnnamedTensorBase64Lists", STRING,
     '{"instances": [ [{ "b64" : "aGVsbG8=" }], [{ "b64": "d29ybGQ=" }] ]}', True,
     {"default": ("DT_STRING", (2, 1), (b"hello", b"world"))}),
    ("SingleNamedTensorBase64", STRING,
     '{"instances": [ { "default": [ [{ "b64" : "aGVsbG8=" }], [{ "b64": "d29ybGQ=" }] ] } ]}', True,
     {"default": ("DT_STRING", (1, 2, 1), (b"hello", b"world"))}),
    ("MultipleNamedTensor", MULTI,
     ('{"instances": [{"int_tensor": [[1,2],[3,4],[5,6]], "str_tensor": ["foo", "bar"], "float_tensor": [1.0, NaN], '
     '"dbl_tensor": [NaN]}, {"int_tensor": [[7,8],[9,0],[1,2]], "str_tensor": ["baz", "bat"], '
     '"float_tensor": [2.0, Infinity], "dbl_tensor": [2.0]}]}'), True,
     {"int_tensor": ("DT_INT32", (2, 3, 2), (1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2)),
      "str_tensor": ("DT_STRING", (2, 2), (b"foo", b"bar", b"baz", b"bat")),
      "float_tensor": ("DT_FLOAT", (2, 2), (1.0, math.nan, 2.0, INF)),
      "dbl_tensor": ("DT_DOUBLE", (2, 1), (math.nan, 2.0))}),
    ("SingleUnnamedTensorColumnarFormat", sig(spec("int_tensor", "DT_INT32", None)),
     '{"inputs": {"int_tensor": [[[1,2],[3,4],[5,6]]]}}', False,
     {"int_tensor": ("DT_INT32", (1, 3, 2), (1, 2, 3, 4, 5, 6))}),
    ("SingleUnnamedTensorColumnarFormat bare", sig(spec("int_tensor", "DT_INT32", None)),
     '{"inputs": [[[1,2],[3,4],[5,6]]]}', False, {"int_tensor": ("DT_INT32", (1, 3, 2), (1, 2, 3, 4, 5, 6))}),
    ("MultipleNamedTensorColumnarFormat",
     sig(spec("int_tensor", "DT_INT32", None), spec("str_tensor", "DT_STRING", None), spec("bin_tensor", "DT_STRING", None)),
     ('{"inputs": {"int_tensor": [[[1,2],[3,4],[5,6]]], "str_tensor": ["foo", "bar"], '
     '"bin_tensor": { "b64" : "aGVsbG8=" }}}'), False,
     {"int_tensor": ("DT_INT32", (1, 3, 2), (1, 2, 3, 4, 5, 6)),
      "str_tensor": ("DT_STRING", (2,), (b"foo", b"bar")), "bin_tensor": ("DT_STRING", (), (b"hello",))}),
    ("DeeplyNestedWellFormed (within sigtool's depth limit)", INT32,
     '{"instances":[1], "nested": ' + "[" * 60 + "]" * 60 + "}", True, {"default": ("DT_INT32", (1,), (1,))}),
]


@pytest.mark.parametrize("case,signature,body,row,expected", PREDICT_GOLDEN, ids=[c[0] for c in PREDICT_GOLDEN])
def test_predict_request_golden(case, signature, body, row, expected):
    req = parse_request(body, signature)
    assert isinstance(req, PredictRequest)
    assert req.row_format is row
    assert sorted(req.inputs) == sorted(expected)
    for key, (dtype, shape, values) in expected.items():
        t = req.inputs[key]
        assert (t.dtype, t.shape) == (dtype, shape)
        assert same(t.values, values), (key, t.values)


def test_signature_name_is_kept_and_selects_the_signature():
    images = sig(spec("default", "DT_INT32", None), key="predict_images")
    req = parse_request('{"signature_name": "predict_images", "instances": [[1,2]]}',
                        {"predict_images": images, "serving_default": FLOAT})
    assert req.signature_name == "predict_images"
    assert (req.inputs["default"].dtype, req.inputs["default"].shape) == ("DT_INT32", (1, 2))
    assert parse_request('{"instances": [1]}', {"serving_default": FLOAT}).signature_name is None
    rejected('{"signature_name": "nope", "instances": [1]}', {"serving_default": FLOAT, "b": FLOAT},
             'Serving signature name: "nope" not found in signature def', "b, serving_default")
    rejected('{"signature_name": "other", "instances": [1]}', FLOAT, "'other'", "serving_default")


SINGLE_ERRORS = [  # SingleUnnamedTensorErrors and MultipleNamedTensorErrors
    (INT32, '""', "Is not object"),
    (INT32, "", "document is empty"),
    (INT32, '{"signature_name": 5, "instances": [1]}', "must be a string value"),
    (INT32, '{"instances": [1], "inputs": [1]}', "Not formatted correctly"),
    (INT32, '{"instances": [[1,2],[3,4],[5,6,7]]}', "Expecting tensor size"),
    (INT32, '{"instances": [[1,2],[3,4],[[5,6]]]}', "Expecting shape"),
    (INT32, '{"instances": [1, [1]]}', "Expecting shape"),
    (INT32, '{"instances": [[1,2],["a", "b"]]}', "not of expected type"),
    (TWO, '{"instances": [{"int_tensor": [1, 2], "str_tensor": "a"}, {"int_tensor": [[1, 2]], "str_tensor": "b"}]}',
     "Expecting shape"),
    (TWO, '{"instances": [{"int_tensor": [1, 2], "str_tensor": "a"}, {"int_tensor": [1], "str_tensor": "b"}]}',
     "Expecting tensor size"),
    (TWO, '{"instances": [{"int_tensor": 1, "str_tensor": "a"}, [1]]}', "Expecting object but got list"),
    (INT32, '{"instances": [[1], {"int_tensor": 1}]}', "Expecting value/list but got object"),
    (INT32, '{"signature_name": ' + "[" * 50 + "]" * 50 + ', "instances": [1]}', "key must be a string value"),
]


@pytest.mark.parametrize("signature,body,words", SINGLE_ERRORS)
def test_predict_request_golden_errors(signature, body, words):
    rejected(body, signature, words)


# ---------------------------------------------------------------- Serving's exact error texts

ERRORS_24 = [
    ("", "JSON Parse error: The document is empty"),
    ("   ", "JSON Parse error: The document is empty. at offset: 3"),
    ("instances = [1, 2]", "JSON Parse error: Invalid value. at offset: 0"),
    ('{"instances": [1e400]}', "JSON Parse error: Number too big to be stored in double. at offset: 15"),
    ("[1,2]", "JSON Value: [1, 2] Is not object"),
    ('{"signature_name": 5, "instances": [1]}',
     ("JSON Value: {\n    \"signature_name\": 5,\n    \"instances\": [1]\n} not formatted correctly. "
     "'signature_name' key must be a string value.")),
    ('{"instances": [1], "inputs": [1]}',
     ("JSON Value: {\n    \"instances\": [1],\n    \"inputs\": [1]\n} Not formatted correctly expecting only one of "
     "'inputs' or 'instances' keys to exist ")),
    ('{"instances": 1}', "JSON Value: {\n    \"instances\": 1\n} Expecting 'instances' to be an list/array"),
    ('{"instances": []}', "JSON Value: {\n    \"instances\": []\n} No values in 'instances' array"),
    ('{"foo": 1}', "Missing 'inputs' or 'instances' key"),
    ('{"instances": [[1,2],[3,4],[5,6,7]]}', ("Failed to process element: 2 of 'instances' list. Error: "
     "INVALID_ARGUMENT: Expecting tensor size: 2 but got: 3")),
    ('{"instances": [[1,2],[3,4],[[5,6]]]}', ("Failed to process element: 2 of 'instances' list. Error: "
     "INVALID_ARGUMENT: Expecting shape [2] but got: [1,2]")),
    ('{"instances": [1, [1]]}', ("Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: "
     "Expecting shape [] but got: [1]")),
    ('{"instances": [[[1,2],[3]]]}', ("Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
     "Encountered list at unexpected size: 1 at level: 1 expected size: 2")),
    ('{"instances": [[[1,2],3]]}', ("Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
     "JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2")),
    ('{"instances": [[1,2],["a","b"]]}', ("Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: "
     'JSON Value: "a" Type: String is not of expected type: int32')),
    ('{"instances": [1.0]}', ("Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
     "JSON Value: 1.0 Type: Number is not of expected type: int32")),
    ('{"instances": [{"b64":"aGVsbG8="}]}', ("Failed to process element: 0 of 'instances' list. Error: "
     'INVALID_ARGUMENT: JSON Value: {\n    "b64": "aGVsbG8="\n} Type: Object is not of expected type: int32')),
]


@pytest.mark.parametrize("body,serving", ERRORS_24)
def test_error_texts_are_servings(body, serving):
    with pytest.raises(RequestRejected) as info:
        parse_request(body, INT32)
    assert info.value.serving_message == serving
    message = info.value.message
    assert "\n" not in message
    assert message.startswith(" ".join(serving.split())) and message.endswith(")")  # then what to do


@pytest.mark.parametrize("signature,body,serving", [
    (FLOAT, '{"instances": [[1.0, [2.0]]]}', ("Failed to process element: 0 of 'instances' list. Error: "
     "INVALID_ARGUMENT: Encountered list at unexpected level: 1 expected < 1")),
    (STRING, '{"instances": [{"b64":"!!!"}]}',
     "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: Unable to base64 decode"),
    (sig(spec("x", "DT_HALF", None)), '{"instances": [1.0]}',
     ("Failed to process element: 0 of 'instances' list. Error: UNIMPLEMENTED: Conversion of JSON Value: 1.0 to type: "
     "half")),
    (sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)), '{"instances": [{"a": [1, 2]}]}',
     "Failed to process element: 0 of 'instances' list. JSON object: {\n    \"a\": [1, 2]\n} keys must be equal to: a,b"),
    (sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)), '{"instances": [{"a": 1, "c": 2}]}',
     ("Failed to process element: 0 key: c of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have "
     "named input: c")),
    (sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)), '{"instances": [{"a": 1, "b": 2}, [1]]}',
     "Expecting object but got list at item 1 of input list"),
    (INT32, '{"instances": [1, {"x": 2}]}', "Expecting value/list but got object at item 1 of input list"),
    (sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)), '{"inputs": [1]}',
     "inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map"),
    (sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)), '{"instances": [1]}',
     ("instances is a plain list, but expecting list of objects as multiple input tensors required as per "
     "tensorinfo_map")),
    (sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)), '{"inputs": {"a": 1}}',
     "Missing named input: b in 'inputs' object."),
    (sig(), '{"instances": [1]}', "Failed to get input map for signature: DEFAULT"),
    (sig(key="get_counter"), '{"signature_name": "get_counter", "instances": [1]}',
     "Failed to get input map for signature: get_counter"),
    (FLOAT, '{ "instances": ["x", "y"] }', ("Failed to process element: 0 of 'instances' list. Error: "
     'INVALID_ARGUMENT: JSON Value: "x" Type: String is not of expected type: float')),
    (FLOAT, '{"instances": [null]}', ("Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
     "JSON Value: null Type: Null is not of expected type: float")),
])
def test_more_error_texts(signature, body, serving):
    with pytest.raises(RequestRejected) as info:
        parse_request(body, signature)
    assert info.value.serving_message == serving
    assert "\n" not in info.value.message


def test_missing_keys_list_the_expected_ones_sorted():
    two = sig(spec("b", "DT_INT32", None), spec("a", "DT_INT32", None))
    rejected('{"inputs": {"b": 1}}', two, "Missing named input: a", "a,b")
    rejected('{"instances": [{"zz": 1, "a": 1}]}', two, "does not have named input: zz", "a,b")
    rejected('{"instances": [1, 2]}', two, "plain list", "a,b")


def test_every_rejection_is_a_usage_error_with_serving_text_and_advice():
    with pytest.raises(RequestRejected) as info:
        parse_request('{"instances": [1.5]}', INT32)
    e = info.value
    assert isinstance(e, UsageError) and e.exit_code == 2
    assert "whole numbers from -2147483648 to 2147483647" in e.message
    assert format_error(e.serving_message) == (
        '{\n    "error": "Failed to process element: 0 of \'instances\' list. Error: INVALID_ARGUMENT: JSON Value: 1.5 '
        'Type: Number is not of expected type: int32"\n}')


# ---------------------------------------------------------------- JSON values -> dtypes

DTYPE_OK = [
    ("DT_FLOAT", "1", 1.0), ("DT_FLOAT", "1e300", INF), ("DT_FLOAT", "-1e300", -INF), ("DT_FLOAT", "1e-300", 0.0),
    ("DT_FLOAT", "-0.0", -0.0), ("DT_FLOAT", "-0", 0.0), ("DT_FLOAT", "0.1", f32(0.1)), ("DT_FLOAT", "NaN", math.nan),
    ("DT_FLOAT", "Infinity", INF), ("DT_FLOAT", "-Infinity", -INF), ("DT_FLOAT", "Inf", INF), ("DT_FLOAT", "-Inf", -INF),
    ("DT_FLOAT", "18446744073709551616", f32(2.0**64)),
    ("DT_DOUBLE", "0.1", 0.1), ("DT_DOUBLE", "1", 1.0), ("DT_DOUBLE", "1e300", 1e300), ("DT_DOUBLE", "NaN", math.nan),
    ("DT_DOUBLE", "9007199254740993", 9007199254740992.0),
    ("DT_INT32", "2147483647", 2147483647), ("DT_INT32", "-2147483648", -2147483648), ("DT_INT32", "-0", 0),
    ("DT_INT16", "300", 300), ("DT_INT16", "40000", 40000 - 65536),  # accepted as int32, then cast as C++ does
    ("DT_INT8", "300", 44), ("DT_INT8", "-129", 127), ("DT_UINT8", "-1", 255), ("DT_UINT8", "256", 0),
    ("DT_INT64", "9223372036854775807", 2**63 - 1), ("DT_INT64", "-9223372036854775808", -(2**63)),
    ("DT_UINT32", "4294967295", 2**32 - 1), ("DT_UINT64", "18446744073709551615", 2**64 - 1),
    ("DT_BOOL", "true", True), ("DT_BOOL", "false", False),
    ("DT_STRING", '"caf\u00e9"', "café".encode()), ("DT_STRING", '"caf\\u00e9"', b"caf\xc3\xa9"),
    ("DT_STRING", '"\\ud83d\\ude00"', b"\xf0\x9f\x98\x80"), ("DT_STRING", '""', b""),
    ("DT_STRING", '{"b64": "aGVsbG8="}', b"hello"), ("DT_STRING", '{"b64": "aGVsbG8"}', b"hello"),
    ("DT_STRING", '{"b64": " aGVs\\nbG8 = "}', b"hello"), ("DT_STRING", '{"b64": ""}', b""),
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
    ("DT_DOUBLE", "[{\"a\": 1}]", "JSON Value: { \"a\": 1 } Type: Object is not of expected type: double"),
    ("DT_DOUBLE", "{\"a\": 1}", "does not have named input: a"),  # an object instance names inputs
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
    req = parse_request('{"instances": [{"x": Inf, "s": "Inf -Inf -NaN"}]}',
                        sig(spec("x", "DT_FLOAT", None), spec("s", "DT_STRING", None)))
    assert req.inputs["s"].values == (b"Inf -Inf -NaN",) and req.inputs["x"].values == (INF,)
    # bytes that are not UTF-8 travel unchanged into DT_STRING, as rapidjson does not validate
    assert parse_request(b'{"instances": ["\xff\xfe"]}', STRING).inputs["default"].values == (b"\xff\xfe",)


def test_declared_shapes_are_checked_unless_turned_off():
    x = sig(spec("x", "DT_FLOAT", (-1, 1)))
    assert parse_request('{"instances": [[1.0], [2.0]]}', x).inputs["x"].shape == (2, 1)
    message = rejected('{"instances": [1.0, 2.0]}', x, "'x' has shape [2]", "declares [-1,1]", "[1]",
                       "check_shapes")
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


def test_body_over_64_mib_is_refused_before_parsing():
    body = '{"instances": [' + " " * MAX_BODY_BYTES + "1]}"
    rejected(body, INT32, "64 MiB")
    rejected(body.encode(), INT32, "64 MiB")


@pytest.mark.parametrize("body", [
    "[" * 200_000,
    '{"instances": ' + "[" * 100_000 + "1" + "]" * 100_000 + "}",
    '{"a": ' * 100_000 + "1" + "}" * 100_000,
    '{"instances": [1], "nested": ' + "[" * 500_000 + "]" * 500_000 + "}",  # DeeplyNestedWellFormed
    '{"signature_name": ' + "[" * 500_000 + "]" * 500_000 + "}",  # DeeplyNestedMalformed
    '{"x": [' + "[1," * 65 + "1" + "]" * 66 + "}",
])
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
    code = ("import sys; from sigtool.serving.requests import parse_request;"
            "from sigtool.serving.responses import format_predict_response;"
            "from sigtool.model import Signature, TensorSpec;"
            "s = Signature('k', 'p', (TensorSpec('x', 'DT_FLOAT', (-1,), True, 'name', 'x:0'),), ());"
            "r = parse_request('{\"instances\": [1.0]}', s);"
            "format_predict_response(r.inputs, True);"
            "assert 'tensorflow' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- float printing (WriteDecimal)

FLOATS = [
    (9000000.0, "DT_FLOAT", "9e+06"), (999999.0, "DT_FLOAT", "999999.0"), (0.5, "DT_FLOAT", "0.5"),
    (0.0003, "DT_FLOAT", "0.0003"), (3e-05, "DT_FLOAT", "3e-05"), (555557.5, "DT_FLOAT", "555557.5"),
    (f32(0.1), "DT_FLOAT", "0.1"), (f32(math.pi), "DT_FLOAT", "3.14159274"), (f32(1e10), "DT_FLOAT", "1e+10"),
    (f32(123456792.0), "DT_FLOAT", "123456792.0"), (-0.0, "DT_FLOAT", "-0.0"), (0.0, "DT_FLOAT", "0.0"),
    (1 / 3, "DT_DOUBLE", "0.33333333333333331"), (1e22, "DT_DOUBLE", "1e+22"),
    (123456789.0, "DT_DOUBLE", "123456789.0"), (-0.0, "DT_DOUBLE", "-0.0"), (0.1, "DT_DOUBLE", "0.1"),
    (math.nan, "DT_FLOAT", "NaN"), (INF, "DT_FLOAT", "Infinity"), (-INF, "DT_FLOAT", "-Infinity"),
    (math.nan, "DT_DOUBLE", "NaN"), (-INF, "DT_DOUBLE", "-Infinity"),
    (f32(0.2), "DT_FLOAT", "0.2"), (1e10, "DT_DOUBLE", "1e+10"), (f32(2.5), "DT_FLOAT", "2.5"),
    (42.0, "DT_FLOAT", "42.0"), (12.0, "DT_FLOAT", "12.0"),
    (1e300, "DT_FLOAT", "Infinity"),  # a double that a float cannot hold
]


@pytest.mark.parametrize("value,dtype,text", FLOATS)
def test_float_printing(value, dtype, text):
    assert format_float(value, dtype) == text


def strtof(s: str) -> float:
    """The float32 nearest to the decimal s (ties to even), computed exactly: a reference for the tests."""
    x = Fraction(s)
    bits = struct.unpack("<I", struct.pack("<f", f32(float(x))))[0]
    near = [struct.unpack("<f", struct.pack("<I", b))[0] for b in (bits - 1, bits, bits + 1) if 0 <= b < 0x7F800000]
    return min(near, key=lambda c: (abs(Fraction(c) - x), struct.unpack("<I", struct.pack("<f", c))[0] % 2))


def test_float_printing_follows_the_rule_for_a_sample_of_all_floats():
    # WriteDecimal: %.6g when strtof gives the value back, else %.9g; ".0" when neither "." nor "e" shows
    for bits in range(0, 0x7F800000, 0x7F800000 // 30011):
        v = struct.unpack("<f", struct.pack("<I", bits))[0]
        s = format(v, ".6g")
        expected = s if strtof(s) == v else format(v, ".9g")
        expected += "" if "." in expected or "e" in expected else ".0"
        assert format_float(v) == expected
        assert format_float(-v) == "-" + expected
        assert strtof(format_float(v)) == v


def test_strtof_rounds_a_decimal_once():
    # 1 + 2**-24 lies exactly between the floats 1 and 1 + 2**-23; a decimal a hair above it is the double
    # 1 + 2**-24, which a float cast rounds (ties to even) down to 1; strtof rounds the decimal itself, up
    hair_above = "1.000000059604644775390625" + "0" * 20 + "1"
    assert f32(float(hair_above)) == 1.0
    assert f32_from_decimal(hair_above) == strtof(hair_above) == 1.0000001192092896
    assert f32_from_decimal("1.000000059604644775390625") == 1.0  # the tie itself: to even


# ---------------------------------------------------------------- responses, byte for byte

INT_2x3x2 = Tensor("DT_INT32", (2, 3, 2), (1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2))
BYTES_2x2 = Tensor("DT_STRING", (2, 2), (b"hello", b"world", b"tf", b"serving"))
MULTI_OUT = {
    "int_tensor": INT_2x3x2,
    "str_tensor": Tensor("DT_STRING", (2, 2), (b"foo", b"bar", b"baz", b"bat")),
    "float_tensor": Tensor("DT_FLOAT", (2, 1), (1.0, 2.0)),
    "double_scalar_tensor": Tensor("DT_DOUBLE", (2,), (8.0, 9.0)),
    "str_tensor_bytes": BYTES_2x2,
}

RESPONSES = [
    ("FromJsonSingleTensor row", {"int_tensor": INT_2x3x2}, True,
     '{\n    "predictions": [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]\n    ]\n}'),
    ("FromJsonSingleTensor columnar", {"int_tensor": INT_2x3x2}, False,
     '{\n    "outputs": ' + json.dumps([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]], indent=4).replace(
         "\n", "\n    ") + "\n}"),
    ("FromJsonSingleScalarTensor row", {"int_tensor": Tensor("DT_INT32", (5,), (1, 2, 3, 4, 5))}, True,
     '{\n    "predictions": [1, 2, 3, 4, 5\n    ]\n}'),
    ("FromJsonSingleScalarTensor columnar", {"int_tensor": Tensor("DT_INT32", (5,), (1, 2, 3, 4, 5))}, False,
     '{\n    "outputs": [\n        1,\n        2,\n        3,\n        4,\n        5\n    ]\n}'),
    ("FromJsonSingleBytesTensor row", {"str_tensor_bytes": BYTES_2x2}, True,
     ('{\n    "predictions": [[{\n                "b64": "aGVsbG8="\n            }, {\n                "b64": "d29ybGQ="\n'
     '            }], [{\n                "b64": "dGY="\n            }, {\n                "b64": "c2VydmluZw=="\n'
     "            }]\n    ]\n}")),
    ("FromJsonSingleFloatTensorSixDigitPrecision row",
     {"float_tensor": Tensor("DT_FLOAT", (2, 3), (9000000.0, 999999.0, 0.5, f32(0.0003), f32(0.00003), 555557.5))},
     True, '{\n    "predictions": [[9e+06, 999999.0, 0.5], [0.0003, 3e-05, 555557.5]\n    ]\n}'),
    ("FromJsonSingleFloatTensorNonFinite row",
     {"float_tensor": Tensor("DT_FLOAT", (2, 2), (math.nan, INF, 3.0, -INF))}, True,
     '{\n    "predictions": [[NaN, Infinity], [3.0, -Infinity]\n    ]\n}'),
    ("FromJsonMultipleNamedTensors row", MULTI_OUT, True,
     ("{\n"
     '    "predictions": [\n'
     "        {\n"
     '            "double_scalar_tensor": 8.0,\n'
     '            "float_tensor": [1.0],\n'
     '            "int_tensor": [[1, 2], [3, 4], [5, 6]],\n'
     '            "str_tensor": ["foo", "bar"],\n'
     '            "str_tensor_bytes": [{\n'
     '                    "b64": "aGVsbG8="\n'
     "                }, {\n"
     '                    "b64": "d29ybGQ="\n'
     "                }]\n"
     "        },\n"
     "        {\n"
     '            "double_scalar_tensor": 9.0,\n'
     '            "float_tensor": [2.0],\n'
     '            "int_tensor": [[7, 8], [9, 0], [1, 2]],\n'
     '            "str_tensor": ["baz", "bat"],\n'
     '            "str_tensor_bytes": [{\n'
     '                    "b64": "dGY="\n'
     "                }, {\n"
     '                    "b64": "c2VydmluZw=="\n'
     "                }]\n"
     "        }\n"
     "    ]\n"
     "}")),
    ("FromJsonMultipleNamedTensors columnar", MULTI_OUT, False,
     json.dumps({"outputs": {
         "double_scalar_tensor": [8.0, 9.0], "float_tensor": [[1.0], [2.0]],
         "int_tensor": [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]],
         "str_tensor": [["foo", "bar"], ["baz", "bat"]],
         "str_tensor_bytes": [[{"b64": "aGVsbG8="}, {"b64": "d29ybGQ="}], [{"b64": "dGY="}, {"b64": "c2VydmluZw=="}]],
     }}, indent=4)),
    ("FromJsonSingleZeroBatchTensor", {"x": Tensor("DT_INT32", (0, 2), ())}, True, '{\n    "predictions": []\n}'),
    ("FromJsonMultipleZeroBatchTensors",
     {"s": Tensor("DT_STRING", (0, 1, 2), ()), "f": Tensor("DT_FLOAT", (0, 3, 4), ())}, True,
     '{\n    "predictions": []\n}'),
    ("scalar columnar", {"y": Tensor("DT_FLOAT", (), (1.0,))}, False, '{\n    "outputs": 1.0\n}'),
    ("columnar 3.5 4.0 5.5", {"y": Tensor("DT_FLOAT", (3,), (3.5, 4.0, 5.5))}, False,
     '{\n    "outputs": [\n        3.5,\n        4.0,\n        5.5\n    ]\n}'),
    ("row 3.5 4.0 5.5", {"y": Tensor("DT_FLOAT", (3,), (3.5, 4.0, 5.5))}, True,
     '{\n    "predictions": [3.5, 4.0, 5.5\n    ]\n}'),
    ("empty dims", {"y": Tensor("DT_INT64", (2, 0), ())}, True, '{\n    "predictions": [[], []\n    ]\n}'),
    ("empty columnar", {"y": Tensor("DT_INT64", (0,), ())}, False, '{\n    "outputs": []\n}'),
    ("bools, uint64, int64", {"b": Tensor("DT_BOOL", (2,), (True, False)),
                              "u": Tensor("DT_UINT64", (2,), (2**64 - 1, 0)),
                              "i": Tensor("DT_INT64", (2,), (-(2**63), 7))}, True,
     ('{\n    "predictions": [\n        {\n            "b": true,\n            "i": -9223372036854775808,\n'
     '            "u": 18446744073709551615\n        },\n        {\n            "b": false,\n            "i": 7,\n'
     '            "u": 0\n        }\n    ]\n}')),
    ("string escapes, non-ASCII unescaped, non-UTF-8 as b64",
     {"s": Tensor("DT_STRING", (3,), ('a"\\/\b\f\n\r\t\x01\x1f\x7f é€'.encode(), b"\xff", b""))}, False,
     ('{\n    "outputs": [\n        "a\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001F\x7f é€",\n        {\n'
     '            "b64": "/w=="\n        },\n        ""\n    ]\n}')),
]


@pytest.mark.parametrize("case,outputs,row,expected", RESPONSES, ids=[c[0] for c in RESPONSES])
def test_predict_response_bytes(case, outputs, row, expected):
    assert format_predict_response(outputs, row) == expected


def test_response_matches_the_reference_compact_forms():
    # TF Serving's REST API docs give the JSON on one line; Serving's tests compare after parsing
    compact = {
        True: '{"predictions": [{"double_scalar_tensor": 8.0, "float_tensor": [1.0], "int_tensor": [[1, 2], [3, 4], '
              '[5, 6]], "str_tensor": ["foo", "bar"], "str_tensor_bytes": [{"b64": "aGVsbG8="}, {"b64": "d29ybGQ="}]}, '
              '{"double_scalar_tensor": 9.0, "float_tensor": [2.0], "int_tensor": [[7, 8], [9, 0], [1, 2]], '
              '"str_tensor": ["baz", "bat"], "str_tensor_bytes": [{"b64": "dGY="}, {"b64": "c2VydmluZw=="}]}]}',
        False: '{"outputs": {"double_scalar_tensor": [8.0, 9.0], "float_tensor": [[1.0], [2.0]], "int_tensor": '
               '[[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]], "str_tensor": [["foo", "bar"], ["baz", "bat"]], '
               '"str_tensor_bytes": [[{"b64": "aGVsbG8="}, {"b64": "d29ybGQ="}], [{"b64": "dGY="}, '
               '{"b64": "c2VydmluZw=="}]]}}',
    }
    for row, text in compact.items():
        assert json.loads(format_predict_response(MULTI_OUT, row)) == json.loads(text)
        assert squeeze(format_predict_response(MULTI_OUT, row)) == squeeze(text)


@pytest.mark.parametrize("outputs,row,words", [
    ({}, True, "Cannot convert empty tensor map to JSON"),
    ({"c": Tensor("DT_COMPLEX64", (2,), (1, 2))}, True, "Failed to write JSON value for tensor type: complex64"),
    ({"h": Tensor("DT_HALF", (1,), (1.0,))}, False, "Failed to write JSON value for tensor type: half"),
    ({"i": Tensor("DT_INT32", (), (1,))}, True, "Tensor name: i has no shape information"),
    ({"a": Tensor("DT_INT32", (2, 3), (0,) * 6), "b": Tensor("DT_STRING", (1, 3), (b"",) * 3)}, True,
     "Tensor name: b has inconsistent batch size: 1 expecting: 2"),
    ({"a": Tensor("DT_INT32", (0, 2), ()), "b": Tensor("DT_STRING", (1, 2), (b"", b""))}, True,
     "Tensor name: b has inconsistent batch size: 1 expecting: 0"),
])
def test_predict_response_errors(outputs, row, words):
    with pytest.raises(RunError) as info:
        format_predict_response(outputs, row)
    assert words in info.value.message and "\n" not in info.value.message


def test_unsupported_dtype_with_no_values_still_writes():
    assert format_predict_response({"c": Tensor("DT_COMPLEX64", (0,), ())}, False) == '{\n    "outputs": []\n}'


CLASSES = Tensor("DT_STRING", (2, 3), (b"car", b"bike", b"bus") * 2)
SCORES = Tensor("DT_FLOAT", (2, 3), tuple(map(f32, (0.2, 0.7, 0.1, 0.7, 0.1, 0.2))))


def test_classify_response_bytes():
    assert format_classify_response(CLASSES, SCORES, 2) == (
        '{\n    "results": [[["car", 0.2], ["bike", 0.7], ["bus", 0.1]], [["car", 0.7], ["bike", 0.1], ["bus", 0.2]]'
        "\n    ]\n}")
    # only scores: label ""; only classes: score 0 (as Serving fills a missing one)
    assert format_classify_response(None, Tensor("DT_FLOAT", (1, 1), (12.0,))) == (
        '{\n    "results": [[["", 12.0]]\n    ]\n}')
    assert format_classify_response(Tensor("DT_STRING", (1, 2), (b"a", b"b")), None) == (
        '{\n    "results": [[["a", 0.0], ["b", 0.0]]\n    ]\n}')


@pytest.mark.parametrize("classes,scores,n,words", [
    (None, None, None, 'at least one of "classes" or "scores"'),
    (Tensor("DT_STRING", (2,), (b"a", b"b")), None, None, "Expected Tensor shape: [batch_size num_classes] but got [2]"),
    (Tensor("DT_INT32", (1, 1), (1,)), None, None, "Expected classes Tensor of DT_STRING. Got: DT_INT32"),
    (None, Tensor("DT_DOUBLE", (1, 1), (1.0,)), None, "Expected scores Tensor of DT_FLOAT. Got: DT_DOUBLE"),
    (None, SCORES, 3, "Expected scores output batch size of 3. Got: 2"),
    (CLASSES, Tensor("DT_FLOAT", (2, 2), (0.0,) * 4), None,
     "Tensors class and score should match in dim_size(1). Got 3 vs. 2"),
    (None, Tensor("DT_FLOAT", (0, 2), ()), None, "Cannot convert empty ClassificationResults to JSON"),
])
def test_classify_response_errors(classes, scores, n, words):
    with pytest.raises(RunError) as info:
        format_classify_response(classes, scores, n)
    assert words in info.value.message and "\n" not in info.value.message


def test_regress_response_bytes():
    assert format_regress_response(Tensor("DT_FLOAT", (3,), tuple(map(f32, (0.2, 0.9, 1.0))))) == (
        '{\n    "results": [0.2, 0.9, 1.0]\n}')
    assert format_regress_response(Tensor("DT_FLOAT", (5, 1), (f32(0.2), INF, 1.0, -INF, math.nan)), 5) == (
        '{\n    "results": [0.2, Infinity, 1.0, -Infinity, NaN]\n}')


@pytest.mark.parametrize("outputs,n,words", [
    (Tensor("DT_FLOAT", (1, 2), (1.0, 2.0)), None,
     "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got [1,2]"),
    (Tensor("DT_FLOAT", (2,), (1.0, 2.0)), 3, "Input batch size did not match output batch size: 3 vs. 2"),
    (Tensor("DT_DOUBLE", (1,), (1.0,)), None, "Expected output Tensor of DT_FLOAT.  Got: DT_DOUBLE"),  # two spaces
    (Tensor("DT_FLOAT", (0,), ()), None, "Cannot convert empty RegressionResults to JSON"),
])
def test_regress_response_errors(outputs, n, words):
    with pytest.raises(RunError) as info:
        format_regress_response(outputs, n)
    assert words in info.value.serving_message and "\n" not in info.value.message


def test_error_body():
    assert format_error('Bad key: "key"') == '{\n    "error": "Bad key: \\"key\\""\n}'


# ---------------------------------------------------------------- the REST API docs' half_plus_two cases, end to end


def half_plus_two(t: Tensor) -> Tensor:
    return Tensor("DT_FLOAT", t.shape, tuple(f32(f32(0.5) * v + 2.0) for v in t.values))


HALF_PLUS_TWO = sig(spec("x", "DT_FLOAT", (-1, 1)))


@pytest.mark.parametrize("body,response", [
    ('{"instances": [[1.0, 2.0], [3.0, 4.0]]}', '{"predictions": [[2.5, 3.0], [3.5, 4.0]]}'),
    ('{"instances": [1.0, 2.0]}', '{"predictions": [2.5, 3.0]}'),
    ('{"signature_name": "serving_default", "instances": [3.0, 4.0]}', '{"predictions": [3.5, 4.0]}'),
    ('{"signature_name": "serving_default", "inputs": [3.0, 4.0]}', '{"outputs": [3.5, 4.0]}'),
    ('{"instances": [2.0, 3.0, 4.0]}', '{"predictions": [3.0, 3.5, 4.0]}'),
    ('{"inputs": [2.0, 3.0, 4.0]}', '{"outputs": [3.0, 3.5, 4.0]}'),
    ('{"instances": [1.0,2.0,5.0]}', '{"predictions":[2.5,3.0,4.5]}'),
])
def test_end_to_end_predict(body, response):
    # Serving feeds these rank-1 values into x [-1,1] without a shape check; so does check_shapes=False
    req = parse_request(body, {"serving_default": HALF_PLUS_TWO}, check_shapes=False)
    out = format_predict_response({"y": half_plus_two(req.inputs["x"])}, req.row_format)
    assert squeeze(out) == squeeze(response)


def test_end_to_end_classify_and_regress():
    regress = sig(spec("inputs", "DT_STRING", None), key="regress_x_to_y", method=REGRESS)
    classify = sig(spec("inputs", "DT_STRING", None), key="classify_x_to_y", method=CLASSIFY)
    signatures = {"regress_x_to_y": regress, "classify_x_to_y": classify, "serving_default": HALF_PLUS_TWO}
    req = parse_request('{"signature_name": "regress_x_to_y", "examples": [ { "x": 80.0 } ] }', signatures,
                        method="regress")
    assert isinstance(req, ExamplesRequest) and req.examples == ({"x": Feature("float_list", (80.0,))},)
    assert squeeze(format_regress_response(Tensor("DT_FLOAT", (1, 1), (42.0,)), 1)) == '{"results":[42.0]}'
    req = parse_request('{"signature_name": "classify_x_to_y", "examples": [ { "x": 20.0 } ] }', signatures)
    assert isinstance(req, ExamplesRequest)
    assert squeeze(format_classify_response(None, Tensor("DT_FLOAT", (1, 1), (12.0,)), 1)) == '{"results":[[["",12.0]]]}'


# ---------------------------------------------------------------- classify / regress requests

CLASSIFY_SIG = sig(spec("inputs", "DT_STRING", None), method=CLASSIFY)
EX1 = '{"examples": [{"names": ["foo","bar"], "ratings": [8.0, 9.0], "age": 20}, {"names": ["baz"], "ratings": 6.0}]}'
EX2 = ('{"signature_name": "custom_signture", "context": {"query": "pizza", "location": ["sfo"]}, "examples": '
       '[{"names": ["foo","bar"], "ratings": [8.0, 9.0, NaN, Infinity], "age": 20}, {"names": ["baz", '
       '{"b64": "aGVsbG8="}], "ratings": 6.0, "intboolmix": [1, true, false]}, {"names": "bar", "ratings": -Infinity}]}')


def test_examples_golden_without_context():
    req = parse_request(EX1, CLASSIFY_SIG)
    assert req == ExamplesRequest(None, (
        {"names": Feature("bytes_list", (b"foo", b"bar")), "ratings": Feature("float_list", (8.0, 9.0)),
         "age": Feature("int64_list", (20,))},
        {"names": Feature("bytes_list", (b"baz",)), "ratings": Feature("float_list", (6.0,))},
    ), None)


def test_examples_golden_with_context():
    req = parse_request(EX2, {"custom_signture": CLASSIFY_SIG})
    assert req.signature_name == "custom_signture"
    assert req.context == {"query": Feature("bytes_list", (b"pizza",)), "location": Feature("bytes_list", (b"sfo",))}
    ex1, ex2, ex3 = req.examples
    assert ex1["ratings"].kind == "float_list" and same(ex1["ratings"].values, (8.0, 9.0, math.nan, INF))
    assert ex1["age"] == Feature("int64_list", (20,))
    assert ex2 == {"names": Feature("bytes_list", (b"baz", b"hello")), "ratings": Feature("float_list", (6.0,)),
                   "intboolmix": Feature("int64_list", (1, 1, 0))}
    assert ex3 == {"names": Feature("bytes_list", (b"bar",)), "ratings": Feature("float_list", (-INF,))}


def test_feature_kinds():
    req = parse_request('{"examples": [{"e": [], "f": 1.5, "i": -3, "big": 18446744073709551616, "x": 1, "x": "s"}]}',
                        CLASSIFY_SIG)
    assert req.examples[0] == {"e": Feature("", ()), "f": Feature("float_list", (1.5,)),
                               "i": Feature("int64_list", (-3,)), "big": Feature("float_list", (f32(2.0**64),)),
                               "x": Feature("bytes_list", (b"s",))}  # a later duplicate key replaces the earlier


@pytest.mark.parametrize("body,words", [
    ('{"signature_name": ["hello"], "examples": [{"a": 1}]}', "'signature_name' key must be a string"),
    ('{"context": [{"a": 1}], "examples": [{"a": 1}]}', "Example must be JSON object but got JSON Array"),
    ('{"examples": {"a": 1}}', "Expecting 'examples' value to be an list/array"),
    ('{"examples": []}', "'examples' value is an empty array"),
    ('{"examples": [[{"a": 1}]]}', "Example must be JSON object but got JSON Array"),
    ('{"examples": [{"names": [10, null]}]}', "Feature: names has element with unexpected JSON type: Null"),
    ('{"examples": [{"names": [10, 10.0]}]}', "Unexpected element type in feature: names expecting type: int64"),
    ('{"examples": [{"names": ["a", 1]}]}', "Unexpected element type in feature: names expecting type: bytes"),
    ('{"examples": [{"names": [1.5, true]}]}', "Unexpected element type in feature: names expecting type: float"),
    ('{"examples": [{"names": [10, {"test": 10}]}]}', "Feature: names has element with unexpected JSON type: Object"),
    ('{"examples": [{"names": [[10], 20]}]}', "Feature: names has element with unexpected JSON type: Array"),
    ('{"examples": [{"names": [20, 18446744073709551603]}]}',
     "Feature: names has uint64_t element. Only int64_t is supported."),
    ('{"examples": [{"names": {"b64": "%%%"}}]}', "Unable to base64 decode"),
])
def test_examples_errors(body, words):
    rejected(body, CLASSIFY_SIG, words)


def test_examples_request_checks():
    rejected('{"instances": [1]}', CLASSIFY_SIG, "When method is classify, key 'examples' is expected",
             method="classify")
    rejected('{"examples": [{"a": 1}]}', sig(spec("x", "DT_STRING", None), method=REGRESS), "No regression inputs found",
             "'x'")
    rejected('{"examples": [{"a": 1}]}', sig(spec("a", "DT_STRING", None), spec("b", "DT_STRING", None)),
             "Expected one input Tensor.")
    rejected('{"signature_name": "nope", "examples": [{"a": 1}]}', {"c": CLASSIFY_SIG},
             "No signature was found with the name: nope", "one of: c")
    # the JSON is read before the signature is looked up, as Serving does
    rejected('{"signature_name": "nope", "examples": []}', {"c": CLASSIFY_SIG}, "empty array")


# ---------------------------------------------------------------- tf.Example wire format


def test_encode_example_bytes_by_hand():
    assert encode_example({}) == b""
    # a negative int64 is a 10-byte varint
    assert encode_example({"a": Feature("int64_list", (1, -1))}) == bytes.fromhex(
        "0a16 0a14 0a0161 120f 1a0d 0a0b 01" + "ff" * 9 + "01")
    # key "a", Feature{int64_list{value: [1]}}: Example{1: Features{1: entry{1: "a", 2: Feature{3: Int64List{1: [1]}}}}}
    assert encode_example({"a": Feature("int64_list", (1,))}) == bytes.fromhex("0a0c0a0a0a016112051a030a0101")
    assert encode_example({"b": Feature("", ())}) == bytes.fromhex("0a070a050a01621200")
    assert encode_example({"f": Feature("float_list", (1.0,))}) == bytes.fromhex("0a0f0a0d0a0166120812060a040000803f")
    assert encode_example({"s": Feature("bytes_list", (b"", b"x"))}) == bytes.fromhex("0a0e0a0c0a01731207 0a05 0a00 0a0178")


def test_build_examples_puts_the_context_first():
    req = parse_request('{"context": {"q": "a"}, "examples": [{"x": 1}, {}]}', CLASSIFY_SIG)
    ctx = encode_example({"q": Feature("bytes_list", (b"a",))})
    assert build_examples(req) == [ctx + encode_example({"x": Feature("int64_list", (1,))}), ctx]
    assert build_examples(parse_request('{"examples": [{}]}', CLASSIFY_SIG)) == [b""]


def test_field_numbers_match_tensorflow():
    tf_example = pytest.importorskip("tensorflow.core.example.example_pb2")
    tf_feature = pytest.importorskip("tensorflow.core.example.feature_pb2")

    def fields(message):
        return {f.name: (f.number, f.type, f.is_packed) for f in message.DESCRIPTOR.fields}

    assert fields(tf_example.Example) == {"features": (1, 11, False)}
    assert fields(tf_feature.Features) == {"feature": (1, 11, False)}
    entry = tf_feature.Features.DESCRIPTOR.fields_by_name["feature"].message_type
    assert entry.GetOptions().map_entry and {f.name: f.number for f in entry.fields} == {"key": 1, "value": 2}
    assert fields(tf_feature.Feature) == {"bytes_list": (1, 11, False), "float_list": (2, 11, False),
                                          "int64_list": (3, 11, False)}
    assert {f.name for f in tf_feature.Feature.DESCRIPTOR.oneofs_by_name["kind"].fields} == {
        "bytes_list", "float_list", "int64_list"}
    assert fields(tf_feature.BytesList) == {"value": (1, 12, False)}  # bytes, not packed
    assert fields(tf_feature.FloatList) == {"value": (1, 2, True)}  # float, packed
    assert fields(tf_feature.Int64List) == {"value": (1, 3, True)}  # int64, packed


def tf_example_of(features: dict[str, Feature]):
    example_pb2 = pytest.importorskip("tensorflow.core.example.example_pb2")
    ex = example_pb2.Example()
    if features:
        ex.features.SetInParent()
    for name, f in features.items():
        feature = ex.features.feature[name]
        if f.kind:
            getattr(feature, f.kind).SetInParent()
            getattr(feature, f.kind).value.extend(f.values)
    return ex


def assert_same_example(got: bytes, expected) -> None:
    """Byte for byte, unless a key is a prefix of another: TF's Python protobuf (upb) then sorts the longer key
    first, where the C++ deterministic order (and sigtool's) is plain byte order; compare parsed messages then."""
    keys = [k.encode() for k in expected.features.feature]
    if not any(a != b and b.startswith(a) for a in keys for b in keys):
        assert got == expected.SerializeToString(deterministic=True)
    assert type(expected).FromString(got) == expected


@pytest.mark.parametrize("body", [EX1, EX2, '{"examples": [{}, {"e": [], "u": "\\u00e9\\ud83d\\ude00", "n": -1}]}',
                                  '{"examples": [{"x": [1e-45, 3.4028234663852886e38, -0.0], "": 0, "xy": "p"}]}'])
def test_examples_bytes_equal_tensorflows(body):
    pytest.importorskip("tensorflow")
    req = parse_request(body, {"serving_default": CLASSIFY_SIG, "custom_signture": CLASSIFY_SIG})
    for ex, got in zip(req.examples, build_examples(req)):
        if req.context is not None:
            ctx = encode_example(req.context)
            assert_same_example(ctx, tf_example_of(req.context))
            assert got.startswith(ctx)
            got = got[len(ctx):]
        assert_same_example(got, tf_example_of(ex))


def test_examples_bytes_equal_tensorflows_for_random_features():
    pytest.importorskip("tensorflow")
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    floats = st.floats(width=32, allow_nan=False)
    feature = st.one_of(
        st.builds(lambda v: Feature("bytes_list", tuple(v)), st.lists(st.binary(max_size=5), max_size=3)),
        st.builds(lambda v: Feature("float_list", tuple(v)), st.lists(floats, max_size=3)),
        st.builds(lambda v: Feature("int64_list", tuple(v)), st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3)),
        st.just(Feature("")))

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(st.dictionaries(st.text(max_size=4), feature, max_size=4))
    def check(features):
        assert_same_example(encode_example(features), tf_example_of(features))

    check()


def test_tensorflow_parses_context_plus_example_as_serving_merges_them():
    tf = pytest.importorskip("tensorflow")
    example_pb2 = pytest.importorskip("tensorflow.core.example.example_pb2")
    req = parse_request('{"context": {"q": "pizza", "shared": 1}, "examples": [{"x": 2.5, "shared": 7}]}',
                        CLASSIFY_SIG)
    [blob] = build_examples(req)
    ex = example_pb2.Example.FromString(blob)
    assert ex.features.feature["q"].bytes_list.value == [b"pizza"]
    assert ex.features.feature["shared"].int64_list.value == [7]  # the example wins
    parsed = tf.io.parse_single_example(blob, {"x": tf.io.FixedLenFeature([], tf.float32),
                                               "q": tf.io.FixedLenFeature([], tf.string),
                                               "shared": tf.io.FixedLenFeature([], tf.int64)})
    assert (float(parsed["x"]), bytes(parsed["q"].numpy()), int(parsed["shared"])) == (2.5, b"pizza", 7)


def test_a_tensorflow_model_classifies_our_examples():
    # end to end on a model TensorFlow wrote: JSON examples -> tf.Example bytes -> TF -> classify body
    tf = pytest.importorskip("tensorflow")
    from conftest import GEN

    req = parse_request('{"examples": [{"color": "green", "x": 1.0, "x2": 4.0}, {"x": 3.0}, '
                        '{"color": "blue", "x": -2.0}]}', CLASSIFY_SIG)
    blobs = build_examples(req)

    def example(**features):  # the same Examples, built by TensorFlow
        feats = {k: tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode()])) if isinstance(v, str)
                 else tf.train.Feature(float_list=tf.train.FloatList(value=[v])) for k, v in features.items()}
        return tf.train.Example(features=tf.train.Features(feature=feats))

    theirs = [example(color="green", x=1.0, x2=4.0), example(x=3.0), example(color="blue", x=-2.0)]
    assert [tf.train.Example.FromString(b) for b in blobs] == theirs

    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], str(GEN / "tf1_classify_regress_predict"))
        sd = meta.signature_def["serving_default"]
        out = sess.run({k: sd.outputs[k].name for k in ("classes", "scores")}, {sd.inputs["inputs"].name: blobs})
        again = sess.run(sd.outputs["scores"].name, {sd.inputs["inputs"].name: [e.SerializeToString() for e in theirs]})
    assert again.tolist() == out["scores"].tolist()
    classes = Tensor("DT_STRING", out["classes"].shape, tuple(out["classes"].flatten().tolist()))
    scores = Tensor("DT_FLOAT", out["scores"].shape, tuple(out["scores"].flatten().tolist()))
    body = format_classify_response(classes, scores, len(blobs))
    assert body.startswith('{\n    "results": [[["red", ') and body.endswith("]]\n    ]\n}")
    for got, labels, values in zip(json.loads(body)["results"], out["classes"].tolist(), out["scores"].tolist()):
        assert [label for label, _ in got] == [label.decode() for label in labels]
        assert [score for _, score in got] == pytest.approx(values, rel=1e-6)
