"""sigtool.serving's request parsing against TF Serving's REST rules: its golden predict requests, its exact
error texts, JSON values to dtypes, row and columnar formats, declared shapes, and the parser's limits.
"""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from factories import signature as sig
from factories import spec
from serving_cases import DBL_MAX, DBL_MIN, DOUBLE, FLOAT, INF, INT32, MULTI, STRING, TWO, f32, rejected, same

from sigtool.errors import UsageError
from sigtool.model import TensorSpec
from sigtool.serving.errors import RequestRejected
from sigtool.serving.json_io import MAX_BODY_BYTES
from sigtool.serving.requests import PredictRequest, parse_request
from sigtool.serving.responses import format_error
from sigtool.serving.values import Tensor

# ---------------------------------------------------------------- golden predict requests -> tensors

PREDICT_GOLDEN = [
    (
        "SingleUnnamedTensor",
        INT32,
        '{"instances": [[1,2],[3,4],[5,6]]}',
        True,
        {"default": ("DT_INT32", (3, 2), (1, 2, 3, 4, 5, 6))},
    ),
    (
        "MixedInputForFloatTensor",
        FLOAT,
        '{"instances": [1, 2.0, 3, 4, 5.003, 0.007, 0.0]}',
        True,
        {"default": ("DT_FLOAT", (7,), (1.0, 2.0, 3.0, 4.0, f32(5.003), f32(0.007), 0.0))},
    ),
    (
        "MixedInputForDoubleTensor",
        DOUBLE,
        '{"instances": [1.0, 2, 3, 4, 0.662, 0, 0.0]}',
        True,
        {"default": ("DT_DOUBLE", (7,), (1.0, 2.0, 3.0, 4.0, 0.662, 0.0, 0.0))},
    ),
    (
        "FloatTensorWithPrecisionLoss",
        FLOAT,
        '{"instances": [1435774380]}',
        True,
        {"default": ("DT_FLOAT", (1,), (1435774336.0,))},
    ),
    (
        "FloatTensorWithPrecisionLoss.0",
        FLOAT,
        '{"instances": [1435774380.0]}',
        True,
        {"default": ("DT_FLOAT", (1,), (1435774336.0,))},
    ),
    (
        "FloatTensorThatExceedsMaxReturnsInf",
        FLOAT,
        f'{{"instances": [{DBL_MAX!r}]}}',
        True,
        {"default": ("DT_FLOAT", (1,), (INF,))},
    ),
    (
        "FloatTensorThatExceedsMaxReturnsInf-",
        FLOAT,
        f'{{"instances": [{-DBL_MAX!r}]}}',
        True,
        {"default": ("DT_FLOAT", (1,), (-INF,))},
    ),
    (
        "FloatTensorThatExceedsMinReturnsZero",
        FLOAT,
        f'{{"instances": [{DBL_MIN!r}]}}',
        True,
        {"default": ("DT_FLOAT", (1,), (0.0,))},
    ),
    (
        "FloatTensorThatExceedsMinReturnsZero-",
        FLOAT,
        f'{{"instances": [{-DBL_MIN!r}]}}',
        True,
        {"default": ("DT_FLOAT", (1,), (-0.0,))},
    ),
    (
        "SingleUnnamedTensorBase64Scalars",
        STRING,
        '{"instances": [ { "b64" : "aGVsbG8=" }, { "b64": "d29ybGQ=" } ]}',
        True,
        {"default": ("DT_STRING", (2,), (b"hello", b"world"))},
    ),
    (
        "SingleUnnamedTensorBase64Lists",
        STRING,
        '{"instances": [ [{ "b64" : "aGVsbG8=" }], [{ "b64": "d29ybGQ=" }] ]}',
        True,
        {"default": ("DT_STRING", (2, 1), (b"hello", b"world"))},
    ),
    (
        "SingleNamedTensorBase64",
        STRING,
        '{"instances": [ { "default": [ [{ "b64" : "aGVsbG8=" }], [{ "b64": "d29ybGQ=" }] ] } ]}',
        True,
        {"default": ("DT_STRING", (1, 2, 1), (b"hello", b"world"))},
    ),
    (
        "MultipleNamedTensor",
        MULTI,
        (
            '{"instances": [{"int_tensor": [[1,2],[3,4],[5,6]], "str_tensor": ["foo", "bar"], '
            '"float_tensor": [1.0, NaN], "dbl_tensor": [NaN]}, '
            '{"int_tensor": [[7,8],[9,0],[1,2]], "str_tensor": ["baz", "bat"], '
            '"float_tensor": [2.0, Infinity], "dbl_tensor": [2.0]}]}'
        ),
        True,
        {
            "int_tensor": ("DT_INT32", (2, 3, 2), (1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2)),
            "str_tensor": ("DT_STRING", (2, 2), (b"foo", b"bar", b"baz", b"bat")),
            "float_tensor": ("DT_FLOAT", (2, 2), (1.0, math.nan, 2.0, INF)),
            "dbl_tensor": ("DT_DOUBLE", (2, 1), (math.nan, 2.0)),
        },
    ),
    (
        "SingleUnnamedTensorColumnarFormat",
        sig(spec("int_tensor", "DT_INT32", None)),
        '{"inputs": {"int_tensor": [[[1,2],[3,4],[5,6]]]}}',
        False,
        {"int_tensor": ("DT_INT32", (1, 3, 2), (1, 2, 3, 4, 5, 6))},
    ),
    (
        "SingleUnnamedTensorColumnarFormat bare",
        sig(spec("int_tensor", "DT_INT32", None)),
        '{"inputs": [[[1,2],[3,4],[5,6]]]}',
        False,
        {"int_tensor": ("DT_INT32", (1, 3, 2), (1, 2, 3, 4, 5, 6))},
    ),
    (
        "MultipleNamedTensorColumnarFormat",
        sig(
            spec("int_tensor", "DT_INT32", None),
            spec("str_tensor", "DT_STRING", None),
            spec("bin_tensor", "DT_STRING", None),
        ),
        (
            '{"inputs": {"int_tensor": [[[1,2],[3,4],[5,6]]], "str_tensor": ["foo", "bar"], '
            '"bin_tensor": { "b64" : "aGVsbG8=" }}}'
        ),
        False,
        {
            "int_tensor": ("DT_INT32", (1, 3, 2), (1, 2, 3, 4, 5, 6)),
            "str_tensor": ("DT_STRING", (2,), (b"foo", b"bar")),
            "bin_tensor": ("DT_STRING", (), (b"hello",)),
        },
    ),
    (
        "DeeplyNestedWellFormed (within sigtool's depth limit)",
        INT32,
        '{"instances":[1], "nested": ' + "[" * 60 + "]" * 60 + "}",
        True,
        {"default": ("DT_INT32", (1,), (1,))},
    ),
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
    req = parse_request(
        '{"signature_name": "predict_images", "instances": [[1,2]]}',
        {"predict_images": images, "serving_default": FLOAT},
    )
    assert req.signature_name == "predict_images"
    assert (req.inputs["default"].dtype, req.inputs["default"].shape) == ("DT_INT32", (1, 2))
    assert parse_request('{"instances": [1]}', {"serving_default": FLOAT}).signature_name is None
    rejected(
        '{"signature_name": "nope", "instances": [1]}',
        {"serving_default": FLOAT, "b": FLOAT},
        'Serving signature name: "nope" not found in signature def',
        "b, serving_default",
    )
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
    (
        TWO,
        '{"instances": [{"int_tensor": [1, 2], "str_tensor": "a"}, {"int_tensor": [[1, 2]], "str_tensor": "b"}]}',
        "Expecting shape",
    ),
    (
        TWO,
        '{"instances": [{"int_tensor": [1, 2], "str_tensor": "a"}, {"int_tensor": [1], "str_tensor": "b"}]}',
        "Expecting tensor size",
    ),
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
    (
        '{"signature_name": 5, "instances": [1]}',
        (
            'JSON Value: {\n    "signature_name": 5,\n    "instances": [1]\n} not formatted correctly. '
            "'signature_name' key must be a string value."
        ),
    ),
    (
        '{"instances": [1], "inputs": [1]}',
        (
            'JSON Value: {\n    "instances": [1],\n    "inputs": [1]\n} Not formatted correctly expecting only one of '
            "'inputs' or 'instances' keys to exist "
        ),
    ),
    ('{"instances": 1}', "JSON Value: {\n    \"instances\": 1\n} Expecting 'instances' to be an list/array"),
    ('{"instances": []}', "JSON Value: {\n    \"instances\": []\n} No values in 'instances' array"),
    ('{"foo": 1}', "Missing 'inputs' or 'instances' key"),
    (
        '{"instances": [[1,2],[3,4],[5,6,7]]}',
        (
            "Failed to process element: 2 of 'instances' list. Error: "
            "INVALID_ARGUMENT: Expecting tensor size: 2 but got: 3"
        ),
    ),
    (
        '{"instances": [[1,2],[3,4],[[5,6]]]}',
        (
            "Failed to process element: 2 of 'instances' list. Error: "
            "INVALID_ARGUMENT: Expecting shape [2] but got: [1,2]"
        ),
    ),
    (
        '{"instances": [1, [1]]}',
        ("Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [] but got: [1]"),
    ),
    (
        '{"instances": [[[1,2],[3]]]}',
        (
            "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
            "Encountered list at unexpected size: 1 at level: 1 expected size: 2"
        ),
    ),
    (
        '{"instances": [[[1,2],3]]}',
        (
            "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
            "JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2"
        ),
    ),
    (
        '{"instances": [[1,2],["a","b"]]}',
        (
            "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: "
            'JSON Value: "a" Type: String is not of expected type: int32'
        ),
    ),
    (
        '{"instances": [1.0]}',
        (
            "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
            "JSON Value: 1.0 Type: Number is not of expected type: int32"
        ),
    ),
    (
        '{"instances": [{"b64":"aGVsbG8="}]}',
        (
            "Failed to process element: 0 of 'instances' list. Error: "
            'INVALID_ARGUMENT: JSON Value: {\n    "b64": "aGVsbG8="\n} Type: Object is not of expected type: int32'
        ),
    ),
]


@pytest.mark.parametrize("body,serving", ERRORS_24)
def test_error_texts_are_servings(body, serving):
    with pytest.raises(RequestRejected) as info:
        parse_request(body, INT32)
    assert info.value.serving_message == serving
    message = info.value.message
    assert "\n" not in message
    assert message.startswith(" ".join(serving.split())) and message.endswith(")")  # then what to do


@pytest.mark.parametrize(
    "signature,body,serving",
    [
        (
            FLOAT,
            '{"instances": [[1.0, [2.0]]]}',
            (
                "Failed to process element: 0 of 'instances' list. Error: "
                "INVALID_ARGUMENT: Encountered list at unexpected level: 1 expected < 1"
            ),
        ),
        (
            STRING,
            '{"instances": [{"b64":"!!!"}]}',
            "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: Unable to base64 decode",
        ),
        (
            sig(spec("x", "DT_HALF", None)),
            '{"instances": [1.0]}',
            (
                "Failed to process element: 0 of 'instances' list. Error: UNIMPLEMENTED: "
                "Conversion of JSON Value: 1.0 to type: half"
            ),
        ),
        (
            sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)),
            '{"instances": [{"a": [1, 2]}]}',
            (
                "Failed to process element: 0 of 'instances' list. JSON object: {\n    \"a\": [1, 2]\n} "
                "keys must be equal to: a,b"
            ),
        ),
        (
            sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)),
            '{"instances": [{"a": 1, "c": 2}]}',
            (
                "Failed to process element: 0 key: c of 'instances' list. Error: INVALID_ARGUMENT: "
                "JSON object: does not have named input: c"
            ),
        ),
        (
            sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)),
            '{"instances": [{"a": 1, "b": 2}, [1]]}',
            "Expecting object but got list at item 1 of input list",
        ),
        (INT32, '{"instances": [1, {"x": 2}]}', "Expecting value/list but got object at item 1 of input list"),
        (
            sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)),
            '{"inputs": [1]}',
            (
                "inputs is a plain value/list, but expecting an object as multiple input tensors required "
                "as per tensorinfo_map"
            ),
        ),
        (
            sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)),
            '{"instances": [1]}',
            (
                "instances is a plain list, but expecting list of objects as multiple input tensors required as per "
                "tensorinfo_map"
            ),
        ),
        (
            sig(spec("a", "DT_INT32", None), spec("b", "DT_INT32", None)),
            '{"inputs": {"a": 1}}',
            "Missing named input: b in 'inputs' object.",
        ),
        (sig(), '{"instances": [1]}', "Failed to get input map for signature: DEFAULT"),
        (
            sig(key="get_counter"),
            '{"signature_name": "get_counter", "instances": [1]}',
            "Failed to get input map for signature: get_counter",
        ),
        (
            FLOAT,
            '{ "instances": ["x", "y"] }',
            (
                "Failed to process element: 0 of 'instances' list. Error: "
                'INVALID_ARGUMENT: JSON Value: "x" Type: String is not of expected type: float'
            ),
        ),
        (
            FLOAT,
            '{"instances": [null]}',
            (
                "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
                "JSON Value: null Type: Null is not of expected type: float"
            ),
        ),
    ],
)
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
        'Type: Number is not of expected type: int32"\n}'
    )


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
