"""Classify and regress requests: JSON examples (and a context) to tf.Example bytes, as TF Serving builds them."""

from __future__ import annotations

import math

import pytest
from factories import signature as sig
from factories import spec
from serving_cases import CLASSIFY_SIG, EX1, EX2, INF, f32, rejected, same

from sigtool.model import REGRESS
from sigtool.serving.examples import build_examples, encode_example
from sigtool.serving.requests import ExamplesRequest, parse_request
from sigtool.serving.values import Feature

# ---------------------------------------------------------------- classify / regress requests


def test_examples_golden_without_context():
    req = parse_request(EX1, CLASSIFY_SIG)
    assert req == ExamplesRequest(
        None,
        (
            {
                "names": Feature("bytes_list", (b"foo", b"bar")),
                "ratings": Feature("float_list", (8.0, 9.0)),
                "age": Feature("int64_list", (20,)),
            },
            {"names": Feature("bytes_list", (b"baz",)), "ratings": Feature("float_list", (6.0,))},
        ),
        None,
    )


def test_examples_golden_with_context():
    req = parse_request(EX2, {"custom_signture": CLASSIFY_SIG})
    assert req.signature_name == "custom_signture"
    assert req.context == {"query": Feature("bytes_list", (b"pizza",)), "location": Feature("bytes_list", (b"sfo",))}
    ex1, ex2, ex3 = req.examples
    assert ex1["ratings"].kind == "float_list" and same(ex1["ratings"].values, (8.0, 9.0, math.nan, INF))
    assert ex1["age"] == Feature("int64_list", (20,))
    assert ex2 == {
        "names": Feature("bytes_list", (b"baz", b"hello")),
        "ratings": Feature("float_list", (6.0,)),
        "intboolmix": Feature("int64_list", (1, 1, 0)),
    }
    assert ex3 == {"names": Feature("bytes_list", (b"bar",)), "ratings": Feature("float_list", (-INF,))}


def test_feature_kinds():
    req = parse_request(
        '{"examples": [{"e": [], "f": 1.5, "i": -3, "big": 18446744073709551616, "x": 1, "x": "s"}]}', CLASSIFY_SIG
    )
    assert req.examples[0] == {
        "e": Feature("", ()),
        "f": Feature("float_list", (1.5,)),
        "i": Feature("int64_list", (-3,)),
        "big": Feature("float_list", (f32(2.0**64),)),
        "x": Feature("bytes_list", (b"s",)),
    }  # a later duplicate key replaces the earlier


@pytest.mark.parametrize(
    "body,words",
    [
        ('{"signature_name": ["hello"], "examples": [{"a": 1}]}', "'signature_name' key must be a string"),
        ('{"context": [{"a": 1}], "examples": [{"a": 1}]}', "Example must be JSON object but got JSON Array"),
        ('{"examples": {"a": 1}}', "Expecting 'examples' value to be an list/array"),
        ('{"examples": []}', "'examples' value is an empty array"),
        ('{"examples": [[{"a": 1}]]}', "Example must be JSON object but got JSON Array"),
        ('{"examples": [{"names": [10, null]}]}', "Feature: names has element with unexpected JSON type: Null"),
        ('{"examples": [{"names": [10, 10.0]}]}', "Unexpected element type in feature: names expecting type: int64"),
        ('{"examples": [{"names": ["a", 1]}]}', "Unexpected element type in feature: names expecting type: bytes"),
        ('{"examples": [{"names": [1.5, true]}]}', "Unexpected element type in feature: names expecting type: float"),
        (
            '{"examples": [{"names": [10, {"test": 10}]}]}',
            "Feature: names has element with unexpected JSON type: Object",
        ),
        ('{"examples": [{"names": [[10], 20]}]}', "Feature: names has element with unexpected JSON type: Array"),
        (
            '{"examples": [{"names": [20, 18446744073709551603]}]}',
            "Feature: names has uint64_t element. Only int64_t is supported.",
        ),
        ('{"examples": [{"names": {"b64": "%%%"}}]}', "Unable to base64 decode"),
    ],
)
def test_examples_errors(body, words):
    rejected(body, CLASSIFY_SIG, words)


def test_examples_request_checks():
    rejected(
        '{"instances": [1]}', CLASSIFY_SIG, "When method is classify, key 'examples' is expected", method="classify"
    )
    rejected(
        '{"examples": [{"a": 1}]}',
        sig(spec("x", "DT_STRING", None), method=REGRESS),
        "No regression inputs found",
        "'x'",
    )
    rejected(
        '{"examples": [{"a": 1}]}',
        sig(spec("a", "DT_STRING", None), spec("b", "DT_STRING", None)),
        "Expected one input Tensor.",
    )
    rejected(
        '{"signature_name": "nope", "examples": [{"a": 1}]}',
        {"c": CLASSIFY_SIG},
        "No signature was found with the name: nope",
        "one of: c",
    )
    # the JSON is read before the signature is looked up, as Serving does
    rejected('{"signature_name": "nope", "examples": []}', {"c": CLASSIFY_SIG}, "empty array")


# ---------------------------------------------------------------- tf.Example wire format


def test_encode_example_bytes_by_hand():
    assert encode_example({}) == b""
    # a negative int64 is a 10-byte varint
    assert encode_example({"a": Feature("int64_list", (1, -1))}) == bytes.fromhex(
        "0a16 0a14 0a0161 120f 1a0d 0a0b 01" + "ff" * 9 + "01"
    )
    # key "a", Feature{int64_list{value: [1]}}: Example{1: Features{1: entry{1: "a", 2: Feature{3: Int64List{1: [1]}}}}}
    assert encode_example({"a": Feature("int64_list", (1,))}) == bytes.fromhex("0a0c0a0a0a016112051a030a0101")
    assert encode_example({"b": Feature("", ())}) == bytes.fromhex("0a070a050a01621200")
    assert encode_example({"f": Feature("float_list", (1.0,))}) == bytes.fromhex("0a0f0a0d0a0166120812060a040000803f")
    assert encode_example({"s": Feature("bytes_list", (b"", b"x"))}) == bytes.fromhex(
        "0a0e0a0c0a01731207 0a05 0a00 0a0178"
    )


def test_build_examples_puts_the_context_first():
    req = parse_request('{"context": {"q": "a"}, "examples": [{"x": 1}, {}]}', CLASSIFY_SIG)
    ctx = encode_example({"q": Feature("bytes_list", (b"a",))})
    assert build_examples(req) == [ctx + encode_example({"x": Feature("int64_list", (1,))}), ctx]
    assert build_examples(parse_request('{"examples": [{}]}', CLASSIFY_SIG)) == [b""]
