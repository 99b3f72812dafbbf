"""sigtool.serving's responses, byte for byte as TF Serving writes them: float printing, predict, classify and
regress bodies, errors, and the REST API docs' half_plus_two end to end.
"""

from __future__ import annotations

import json
import math
import struct
from fractions import Fraction

import pytest
from factories import signature as sig
from factories import spec
from serving_cases import INF, f32, squeeze

from sigtool.errors import RunError
from sigtool.model import CLASSIFY, REGRESS
from sigtool.serving.floats import f32_from_decimal, format_float
from sigtool.serving.requests import ExamplesRequest, parse_request
from sigtool.serving.responses import (
    format_classify_response,
    format_error,
    format_predict_response,
    format_regress_response,
)
from sigtool.serving.values import Feature, Tensor

# ---------------------------------------------------------------- float printing (WriteDecimal)

FLOATS = [
    (9000000.0, "DT_FLOAT", "9e+06"),
    (999999.0, "DT_FLOAT", "999999.0"),
    (0.5, "DT_FLOAT", "0.5"),
    (0.0003, "DT_FLOAT", "0.0003"),
    (3e-05, "DT_FLOAT", "3e-05"),
    (555557.5, "DT_FLOAT", "555557.5"),
    (f32(0.1), "DT_FLOAT", "0.1"),
    (f32(math.pi), "DT_FLOAT", "3.14159274"),
    (f32(1e10), "DT_FLOAT", "1e+10"),
    (f32(123456792.0), "DT_FLOAT", "123456792.0"),
    (-0.0, "DT_FLOAT", "-0.0"),
    (0.0, "DT_FLOAT", "0.0"),
    (1 / 3, "DT_DOUBLE", "0.33333333333333331"),
    (1e22, "DT_DOUBLE", "1e+22"),
    (123456789.0, "DT_DOUBLE", "123456789.0"),
    (-0.0, "DT_DOUBLE", "-0.0"),
    (0.1, "DT_DOUBLE", "0.1"),
    (math.nan, "DT_FLOAT", "NaN"),
    (INF, "DT_FLOAT", "Infinity"),
    (-INF, "DT_FLOAT", "-Infinity"),
    (math.nan, "DT_DOUBLE", "NaN"),
    (-INF, "DT_DOUBLE", "-Infinity"),
    (f32(0.2), "DT_FLOAT", "0.2"),
    (1e10, "DT_DOUBLE", "1e+10"),
    (f32(2.5), "DT_FLOAT", "2.5"),
    (42.0, "DT_FLOAT", "42.0"),
    (12.0, "DT_FLOAT", "12.0"),
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


@pytest.mark.slow
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
    (
        "FromJsonSingleTensor row",
        {"int_tensor": INT_2x3x2},
        True,
        '{\n    "predictions": [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]\n    ]\n}',
    ),
    (
        "FromJsonSingleTensor columnar",
        {"int_tensor": INT_2x3x2},
        False,
        '{\n    "outputs": '
        + json.dumps([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]], indent=4).replace("\n", "\n    ")
        + "\n}",
    ),
    (
        "FromJsonSingleScalarTensor row",
        {"int_tensor": Tensor("DT_INT32", (5,), (1, 2, 3, 4, 5))},
        True,
        '{\n    "predictions": [1, 2, 3, 4, 5\n    ]\n}',
    ),
    (
        "FromJsonSingleScalarTensor columnar",
        {"int_tensor": Tensor("DT_INT32", (5,), (1, 2, 3, 4, 5))},
        False,
        '{\n    "outputs": [\n        1,\n        2,\n        3,\n        4,\n        5\n    ]\n}',
    ),
    (
        "FromJsonSingleBytesTensor row",
        {"str_tensor_bytes": BYTES_2x2},
        True,
        (
            '{\n    "predictions": [[{\n                "b64": "aGVsbG8="\n            }, {\n'
            '                "b64": "d29ybGQ="\n'
            '            }], [{\n                "b64": "dGY="\n            }, {\n'
            '                "b64": "c2VydmluZw=="\n'
            "            }]\n    ]\n}"
        ),
    ),
    (
        "FromJsonSingleFloatTensorSixDigitPrecision row",
        {"float_tensor": Tensor("DT_FLOAT", (2, 3), (9000000.0, 999999.0, 0.5, f32(0.0003), f32(0.00003), 555557.5))},
        True,
        '{\n    "predictions": [[9e+06, 999999.0, 0.5], [0.0003, 3e-05, 555557.5]\n    ]\n}',
    ),
    (
        "FromJsonSingleFloatTensorNonFinite row",
        {"float_tensor": Tensor("DT_FLOAT", (2, 2), (math.nan, INF, 3.0, -INF))},
        True,
        '{\n    "predictions": [[NaN, Infinity], [3.0, -Infinity]\n    ]\n}',
    ),
    (
        "FromJsonMultipleNamedTensors row",
        MULTI_OUT,
        True,
        (
            "{\n"
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
            "}"
        ),
    ),
    (
        "FromJsonMultipleNamedTensors columnar",
        MULTI_OUT,
        False,
        json.dumps(
            {
                "outputs": {
                    "double_scalar_tensor": [8.0, 9.0],
                    "float_tensor": [[1.0], [2.0]],
                    "int_tensor": [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]],
                    "str_tensor": [["foo", "bar"], ["baz", "bat"]],
                    "str_tensor_bytes": [
                        [{"b64": "aGVsbG8="}, {"b64": "d29ybGQ="}],
                        [{"b64": "dGY="}, {"b64": "c2VydmluZw=="}],
                    ],
                }
            },
            indent=4,
        ),
    ),
    ("FromJsonSingleZeroBatchTensor", {"x": Tensor("DT_INT32", (0, 2), ())}, True, '{\n    "predictions": []\n}'),
    (
        "FromJsonMultipleZeroBatchTensors",
        {"s": Tensor("DT_STRING", (0, 1, 2), ()), "f": Tensor("DT_FLOAT", (0, 3, 4), ())},
        True,
        '{\n    "predictions": []\n}',
    ),
    ("scalar columnar", {"y": Tensor("DT_FLOAT", (), (1.0,))}, False, '{\n    "outputs": 1.0\n}'),
    (
        "columnar 3.5 4.0 5.5",
        {"y": Tensor("DT_FLOAT", (3,), (3.5, 4.0, 5.5))},
        False,
        '{\n    "outputs": [\n        3.5,\n        4.0,\n        5.5\n    ]\n}',
    ),
    (
        "row 3.5 4.0 5.5",
        {"y": Tensor("DT_FLOAT", (3,), (3.5, 4.0, 5.5))},
        True,
        '{\n    "predictions": [3.5, 4.0, 5.5\n    ]\n}',
    ),
    ("empty dims", {"y": Tensor("DT_INT64", (2, 0), ())}, True, '{\n    "predictions": [[], []\n    ]\n}'),
    ("empty columnar", {"y": Tensor("DT_INT64", (0,), ())}, False, '{\n    "outputs": []\n}'),
    (
        "bools, uint64, int64",
        {
            "b": Tensor("DT_BOOL", (2,), (True, False)),
            "u": Tensor("DT_UINT64", (2,), (2**64 - 1, 0)),
            "i": Tensor("DT_INT64", (2,), (-(2**63), 7)),
        },
        True,
        (
            '{\n    "predictions": [\n        {\n            "b": true,\n            "i": -9223372036854775808,\n'
            '            "u": 18446744073709551615\n        },\n        {\n            "b": false,\n'
            '            "i": 7,\n'
            '            "u": 0\n        }\n    ]\n}'
        ),
    ),
    (
        "string escapes, non-ASCII unescaped, non-UTF-8 as b64",
        {"s": Tensor("DT_STRING", (3,), ('a"\\/\b\f\n\r\t\x01\x1f\x7f é€'.encode(), b"\xff", b""))},
        False,
        (
            '{\n    "outputs": [\n        "a\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001F\x7f é€",\n        {\n'
            '            "b64": "/w=="\n        },\n        ""\n    ]\n}'
        ),
    ),
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


@pytest.mark.parametrize(
    "outputs,row,words",
    [
        ({}, True, "Cannot convert empty tensor map to JSON"),
        ({"c": Tensor("DT_COMPLEX64", (2,), (1, 2))}, True, "Failed to write JSON value for tensor type: complex64"),
        ({"h": Tensor("DT_HALF", (1,), (1.0,))}, False, "Failed to write JSON value for tensor type: half"),
        ({"i": Tensor("DT_INT32", (), (1,))}, True, "Tensor name: i has no shape information"),
        (
            {"a": Tensor("DT_INT32", (2, 3), (0,) * 6), "b": Tensor("DT_STRING", (1, 3), (b"",) * 3)},
            True,
            "Tensor name: b has inconsistent batch size: 1 expecting: 2",
        ),
        (
            {"a": Tensor("DT_INT32", (0, 2), ()), "b": Tensor("DT_STRING", (1, 2), (b"", b""))},
            True,
            "Tensor name: b has inconsistent batch size: 1 expecting: 0",
        ),
    ],
)
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
        "\n    ]\n}"
    )
    # only scores: label ""; only classes: score 0 (as Serving fills a missing one)
    assert format_classify_response(None, Tensor("DT_FLOAT", (1, 1), (12.0,))) == (
        '{\n    "results": [[["", 12.0]]\n    ]\n}'
    )
    assert format_classify_response(Tensor("DT_STRING", (1, 2), (b"a", b"b")), None) == (
        '{\n    "results": [[["a", 0.0], ["b", 0.0]]\n    ]\n}'
    )


@pytest.mark.parametrize(
    "classes,scores,n,words",
    [
        (None, None, None, 'at least one of "classes" or "scores"'),
        (
            Tensor("DT_STRING", (2,), (b"a", b"b")),
            None,
            None,
            "Expected Tensor shape: [batch_size num_classes] but got [2]",
        ),
        (Tensor("DT_INT32", (1, 1), (1,)), None, None, "Expected classes Tensor of DT_STRING. Got: DT_INT32"),
        (None, Tensor("DT_DOUBLE", (1, 1), (1.0,)), None, "Expected scores Tensor of DT_FLOAT. Got: DT_DOUBLE"),
        (None, SCORES, 3, "Expected scores output batch size of 3. Got: 2"),
        (
            CLASSES,
            Tensor("DT_FLOAT", (2, 2), (0.0,) * 4),
            None,
            "Tensors class and score should match in dim_size(1). Got 3 vs. 2",
        ),
        (None, Tensor("DT_FLOAT", (0, 2), ()), None, "Cannot convert empty ClassificationResults to JSON"),
    ],
)
def test_classify_response_errors(classes, scores, n, words):
    with pytest.raises(RunError) as info:
        format_classify_response(classes, scores, n)
    assert words in info.value.message and "\n" not in info.value.message


def test_regress_response_bytes():
    assert format_regress_response(Tensor("DT_FLOAT", (3,), tuple(map(f32, (0.2, 0.9, 1.0))))) == (
        '{\n    "results": [0.2, 0.9, 1.0]\n}'
    )
    assert format_regress_response(Tensor("DT_FLOAT", (5, 1), (f32(0.2), INF, 1.0, -INF, math.nan)), 5) == (
        '{\n    "results": [0.2, Infinity, 1.0, -Infinity, NaN]\n}'
    )


@pytest.mark.parametrize(
    "outputs,n,words",
    [
        (
            Tensor("DT_FLOAT", (1, 2), (1.0, 2.0)),
            None,
            "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got [1,2]",
        ),
        (Tensor("DT_FLOAT", (2,), (1.0, 2.0)), 3, "Input batch size did not match output batch size: 3 vs. 2"),
        (Tensor("DT_DOUBLE", (1,), (1.0,)), None, "Expected output Tensor of DT_FLOAT.  Got: DT_DOUBLE"),  # two spaces
        (Tensor("DT_FLOAT", (0,), ()), None, "Cannot convert empty RegressionResults to JSON"),
    ],
)
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


@pytest.mark.parametrize(
    "body,response",
    [
        ('{"instances": [[1.0, 2.0], [3.0, 4.0]]}', '{"predictions": [[2.5, 3.0], [3.5, 4.0]]}'),
        ('{"instances": [1.0, 2.0]}', '{"predictions": [2.5, 3.0]}'),
        ('{"signature_name": "serving_default", "instances": [3.0, 4.0]}', '{"predictions": [3.5, 4.0]}'),
        ('{"signature_name": "serving_default", "inputs": [3.0, 4.0]}', '{"outputs": [3.5, 4.0]}'),
        ('{"instances": [2.0, 3.0, 4.0]}', '{"predictions": [3.0, 3.5, 4.0]}'),
        ('{"inputs": [2.0, 3.0, 4.0]}', '{"outputs": [3.0, 3.5, 4.0]}'),
        ('{"instances": [1.0,2.0,5.0]}', '{"predictions":[2.5,3.0,4.5]}'),
    ],
)
def test_end_to_end_predict(body, response):
    # Serving feeds these rank-1 values into x [-1,1] without a shape check; so does check_shapes=False
    req = parse_request(body, {"serving_default": HALF_PLUS_TWO}, check_shapes=False)
    out = format_predict_response({"y": half_plus_two(req.inputs["x"])}, req.row_format)
    assert squeeze(out) == squeeze(response)


def test_end_to_end_classify_and_regress():
    regress = sig(spec("inputs", "DT_STRING", None), key="regress_x_to_y", method=REGRESS)
    classify = sig(spec("inputs", "DT_STRING", None), key="classify_x_to_y", method=CLASSIFY)
    signatures = {"regress_x_to_y": regress, "classify_x_to_y": classify, "serving_default": HALF_PLUS_TWO}
    req = parse_request(
        '{"signature_name": "regress_x_to_y", "examples": [ { "x": 80.0 } ] }', signatures, method="regress"
    )
    assert isinstance(req, ExamplesRequest) and req.examples == ({"x": Feature("float_list", (80.0,))},)
    assert squeeze(format_regress_response(Tensor("DT_FLOAT", (1, 1), (42.0,)), 1)) == '{"results":[42.0]}'
    req = parse_request('{"signature_name": "classify_x_to_y", "examples": [ { "x": 20.0 } ] }', signatures)
    assert isinstance(req, ExamplesRequest)
    assert (
        squeeze(format_classify_response(None, Tensor("DT_FLOAT", (1, 1), (12.0,)), 1)) == '{"results":[[["",12.0]]]}'
    )
