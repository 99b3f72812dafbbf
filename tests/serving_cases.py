"""Shared by the test_serving_* modules: float helpers, the rejection assertion, and the signatures and
request bodies of TF Serving's own REST tests.
"""

from __future__ import annotations

import math
import re
import struct
import sys

import pytest
from factories import signature as sig
from factories import spec

from sigtool.errors import UsageError
from sigtool.model import CLASSIFY
from sigtool.serving.requests import parse_request

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
MULTI = sig(
    spec("int_tensor", "DT_INT32", None),
    spec("str_tensor", "DT_STRING", None),
    spec("float_tensor", "DT_FLOAT", None),
    spec("dbl_tensor", "DT_DOUBLE", None),
)
TWO = sig(spec("int_tensor", "DT_INT32", None), spec("str_tensor", "DT_STRING", None))
DBL_MAX, DBL_MIN = sys.float_info.max, sys.float_info.min


CLASSIFY_SIG = sig(spec("inputs", "DT_STRING", None), method=CLASSIFY)
EX1 = '{"examples": [{"names": ["foo","bar"], "ratings": [8.0, 9.0], "age": 20}, {"names": ["baz"], "ratings": 6.0}]}'
EX2 = (
    '{"signature_name": "custom_signture", "context": {"query": "pizza", "location": ["sfo"]}, "examples": '
    '[{"names": ["foo","bar"], "ratings": [8.0, 9.0, NaN, Infinity], "age": 20}, {"names": ["baz", '
    '{"b64": "aGVsbG8="}], "ratings": 6.0, "intboolmix": [1, true, false]}, {"names": "bar", "ratings": -Infinity}]}'
)
