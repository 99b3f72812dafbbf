"""sigtool.serving's request parsing against TF Serving's REST rules: its golden predict requests and its exact
error texts (values, formats, shapes and limits: test_serving_values.py).
"""

from __future__ import annotations

import math

import pytest
from factories import signature as sig
from factories import spec
from serving_cases import DBL_MAX, DBL_MIN, DOUBLE, FLOAT, INF, INT32, MULTI, STRING, TWO, f32, rejected, same

from sigtool.errors import UsageError
from sigtool.serving.errors import RequestRejected
from sigtool.serving.requests import PredictRequest, parse_request
from sigtool.serving.responses import format_error

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
